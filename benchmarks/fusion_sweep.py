"""Sweep hybrid fusion settings on an index built by ``benchmarks/retrieval.py``.

    .venv/bin/python benchmarks/fusion_sweep.py msmarco /tmp/ovbench-XXXX

Takes the top-100 vector and full-text candidates per judged query once, then scores several
fusions offline (linear on raw cosine, max-normalised, min-max, RRF) by nDCG@10.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from retrieval import DATA, _doc_id, _load, _ndcg

from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder
from openviking_mcp.storage.index import IndexFilter, VectorIndex

Scores = dict[str, float]
Fusion = Callable[[Scores, Scores], list[str]]


def _top(scores: Scores, k: int = 10) -> list[str]:
    return [d for d, _ in sorted(scores.items(), key=lambda x: -x[1])][:k]


def _norm(scores: Scores, how: str) -> Scores:
    if not scores or how == "raw":
        return scores
    lo, hi = min(scores.values()), max(scores.values())
    if how == "max":
        return {k: v / hi if hi else 0.0 for k, v in scores.items()}
    return {k: (v - lo) / (hi - lo) if hi > lo else 1.0 for k, v in scores.items()}


def linear(w: float, how: str) -> Fusion:
    def fuse(vs: Scores, bs: Scores) -> list[str]:
        nv, nb = _norm(vs, how), _norm(bs, "max" if how == "raw" else how)
        return _top({i: w * nv.get(i, 0.0) + (1 - w) * nb.get(i, 0.0) for i in set(vs) | set(bs)})

    return fuse


def rrf(k: int = 60, vector_weight: float = 1.0) -> Fusion:
    def fuse(vs: Scores, bs: Scores) -> list[str]:
        rv = {d: i for i, d in enumerate(_top(vs, len(vs)))}
        rb = {d: i for i, d in enumerate(_top(bs, len(bs)))}
        return _top(
            {
                i: vector_weight / (k + rv.get(i, 1000)) + 1 / (k + rb.get(i, 1000))
                for i in set(vs) | set(bs)
            }
        )

    return fuse


async def main(dataset: str, workspace: str) -> None:
    _, queries, qrels = _load(DATA / dataset, None)
    embedder = LocalMiniLMEmbedder()
    index = VectorIndex(Path(workspace) / "data" / "index")
    await index.open(embedder.model_id, embedder.dimension)
    vectors = await embedder.embed_documents(list(queries.values()))
    base = IndexFilter(
        account_id="default", uri_prefixes=("viking://resources/corpus",), levels=(2,)
    )
    candidates: dict[str, tuple[Scores, Scores]] = {}
    for (qid, text), vector in zip(queries.items(), vectors, strict=True):
        vec = await index.vector_search(vector, base, 100)
        fts = await index.fts_search(text, base, 100)
        candidates[qid] = (
            {_doc_id(h.record.uri): h.score for h in vec},
            {_doc_id(h.record.uri): h.score for h in fts},
        )

    def ndcg(fuse: Fusion) -> float:
        return statistics.mean(_ndcg(fuse(*candidates[q]), qrels[q]) for q in queries)

    print(
        f"| fusion ({dataset}) | " + " | ".join(f"w={w}" for w in (0.5, 0.6, 0.7, 0.8, 0.9)) + " |"
    )
    print("|---|---|---|---|---|---|")
    print(f"| vector only | {ndcg(lambda v, b: _top(v)):.4f} | | | | |")
    print(f"| fts only | {ndcg(lambda v, b: _top(b)):.4f} | | | | |")
    for how, label in (
        ("raw", "w·cosine + (1-w)·bm25/max"),
        ("max", "both /max"),
        ("minmax", "min-max both"),
    ):
        cells = " | ".join(f"{ndcg(linear(w, how)):.4f}" for w in (0.5, 0.6, 0.7, 0.8, 0.9))
        print(f"| {label} | {cells} |")
    print(
        f"| RRF k=60 (vector weight 1 / 2) | {ndcg(rrf()):.4f} / "
        f"{ndcg(rrf(vector_weight=2.0)):.4f} | | | | |"
    )
    await index.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
