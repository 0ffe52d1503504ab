"""Choose ``find``'s fusion defaults by cross-validation on MS MARCO and DBpedia.

    .venv/bin/python benchmarks/retrieval.py --dataset msmarco     # prints its workspace
    .venv/bin/python benchmarks/retrieval.py --dataset dbpedia
    .venv/bin/python benchmarks/fusion_sweep.py --msmarco /tmp/ovbench-A --dbpedia /tmp/ovbench-B

Runs ``find``'s real retriever over each index for every point of a small grid
(``retrieval.hybrid_vector_weight``: the vector share at a full lexical gap, 1.0 meaning
vector ranking only; ``retrieval.lexical_gap_depth``), then:

* **k-fold** (5 folds, 20 shuffles) over the judged queries of both sets pooled: each fold's
  queries are scored with the grid point that did best on the other four;
* **cross-data-set**: the point that did best on one set, scored on the other.

Both report held-out nDCG@10 per data set next to vector search alone, so the defaults are
never chosen on the queries that measure them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
from pathlib import Path

import numpy as np
from retrieval import DATA, CachedQueries, _doc_id, _load, _ndcg

from openviking_mcp.config import RetrievalConfig
from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder
from openviking_mcp.search.find import FindQuery, Retriever
from openviking_mcp.storage.index import IndexFilter, VectorIndex

FLOORS = (0.3, 0.5, 0.7, 0.85, 1.0)
DEPTHS = (5, 10, 20)
Point = tuple[float, int]
Scores = dict[Point, dict[str, float]]  # grid point -> query key -> nDCG@10


async def _score_set(name: str, workspace: str) -> tuple[Scores, dict[str, float]]:
    """nDCG@10 of every judged query of ``name`` at every grid point, and vector-only."""
    _, queries, qrels = _load(DATA / name, None)
    embedder = LocalMiniLMEmbedder()
    index = VectorIndex(Path(workspace) / "data" / "index")
    await index.open(embedder.model_id, embedder.dimension)
    texts = list(queries.values())
    vectors = await embedder.embed_documents(texts)
    table = {t: np.asarray(v, dtype=np.float32) for t, v in zip(texts, vectors, strict=True)}
    cached = CachedQueries(embedder, table)
    base = IndexFilter(
        account_id="default", uri_prefixes=("viking://resources/corpus",), levels=(2,)
    )
    scores: Scores = {}
    for floor in FLOORS:
        for depth in DEPTHS:
            config = RetrievalConfig(hybrid_vector_weight=floor, lexical_gap_depth=depth)
            retriever = Retriever(index, cached, config)
            point = scores.setdefault((floor, depth), {})
            for qid, text in queries.items():
                hits = await retriever.find(FindQuery(query=text, base=base, limit=10))
                point[f"{name}:{qid}"] = _ndcg([_doc_id(h["uri"]) for h in hits], qrels[qid])
    vector: dict[str, float] = {}
    for qid, text in queries.items():
        hits = await index.vector_search(table[text], base, 10)
        vector[f"{name}:{qid}"] = _ndcg([_doc_id(h.record.uri) for h in hits], qrels[qid])
    await index.close()
    return scores, vector


def _best(scores: Scores, keys: list[str]) -> Point:
    return max(scores, key=lambda p: (statistics.mean(scores[p][k] for k in keys), p))


def _by_set(values: dict[str, float]) -> dict[str, float]:
    sets: dict[str, list[float]] = {}
    for key, value in values.items():
        sets.setdefault(key.split(":", 1)[0], []).append(value)
    return {name: statistics.mean(v) for name, v in sets.items()}


def _kfold(scores: Scores, keys: list[str], folds: int = 5, shuffles: int = 20) -> dict[str, float]:
    runs: list[dict[str, float]] = []
    picks: dict[Point, int] = {}
    for seed in range(shuffles):
        order = keys[:]
        random.Random(seed).shuffle(order)
        held: dict[str, float] = {}
        for f in range(folds):
            test = order[f::folds]
            train = [k for k in order if k not in set(test)]
            point = _best(scores, train)
            picks[point] = picks.get(point, 0) + 1
            held.update({k: scores[point][k] for k in test})
        runs.append(_by_set(held))
    print("k-fold picks:", ", ".join(f"{p}: {n}" for p, n in sorted(picks.items())))
    return {name: statistics.mean(r[name] for r in runs) for name in runs[0]}


async def main(args: argparse.Namespace) -> None:
    scores: Scores = {}
    vector: dict[str, float] = {}
    for name, workspace in (("msmarco", args.msmarco), ("dbpedia", args.dbpedia)):
        part, vec = await _score_set(name, workspace)
        for point, values in part.items():
            scores.setdefault(point, {}).update(values)
        vector.update(vec)
    keys = sorted(vector)
    base = _by_set(vector)
    print("| floor \\ depth | " + " | ".join(f"{d}" for d in DEPTHS) + " |")
    print("|---|" + "---|" * len(DEPTHS))
    for floor in FLOORS:
        cells = [_by_set(scores[(floor, d)]) for d in DEPTHS]
        print(
            f"| {floor} | "
            + " | ".join(f"{c['msmarco']:.4f} / {c['dbpedia']:.4f}" for c in cells)
            + " |"
        )
    print(f"\nvector only: msmarco {base['msmarco']:.4f}, dbpedia {base['dbpedia']:.4f}")
    held = _kfold(scores, keys)
    print(
        "5-fold held-out: "
        + ", ".join(f"{n} {v:.4f} ({v - base[n]:+.4f})" for n, v in held.items())
    )
    for train_set, test_set in (("msmarco", "dbpedia"), ("dbpedia", "msmarco")):
        point = _best(scores, [k for k in keys if k.startswith(train_set + ":")])
        value = _by_set(scores[point])[test_set]
        print(
            f"chosen on {train_set} {point}, on {test_set}: {value:.4f} "
            f"({value - base[test_set]:+.4f})"
        )
    print(f"best on both pooled: {_best(scores, keys)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--msmarco", required=True, help="workspace of retrieval.py msmarco")
    parser.add_argument("--dbpedia", required=True, help="workspace of retrieval.py dbpedia")
    asyncio.run(main(parser.parse_args()))
