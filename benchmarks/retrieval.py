"""Retrieval benchmark on a BEIR subset (default: ../shared/data/beir-subsets/msmarco).

Measures, with the chosen embedder:
* ingest rate end to end (``add_resource`` of a folder of one file per passage: parse,
  summarise, embed, index), in docs/s;
* nDCG@10 and recall@10 for vector-only, FTS-only and hybrid retrieval;
* ``find`` latency p50/p95 and queries/s at concurrency 1 and 4, *excluding* the query
  embedding (query vectors are computed once up front).

    .venv/bin/python benchmarks/retrieval.py                      # local ONNX MiniLM
    .venv/bin/python benchmarks/retrieval.py --embedder instant   # pipeline cost only
    .venv/bin/python benchmarks/retrieval.py --embedder fake-http http://127.0.0.1:9999/v1

Prints one table; copy it, with the machine and date, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.models.base import Embedder, Vector, Vectors
from openviking_mcp.search.find import FindQuery, Retriever
from openviking_mcp.storage.index import IndexFilter

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "beir-subsets"


class InstantEmbedder(Embedder):
    """Costs nothing: isolates the pipeline's own overhead."""

    model_id = "bench:instant-64"
    dimension = 64

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        out[:, 0] = 1.0
        return out


class CachedQueries(Embedder):
    """Wraps an embedder; queries come from a precomputed table (latency excludes embedding)."""

    def __init__(self, inner: Embedder, table: dict[str, Vector]) -> None:
        self.inner, self.table = inner, table
        self.model_id, self.dimension = inner.model_id, inner.dimension

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await self.inner.embed_documents(texts)

    async def embed_query(self, text: str) -> Vector:
        return self.table[text]


def _load(
    dataset: Path, max_docs: int | None
) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, dict[str, int]]]:
    docs = [
        json.loads(line)
        for line in (dataset / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
        if line.strip()
    ]
    if max_docs:
        docs = docs[:max_docs]
    _ID_BY_STEM.clear()
    _ID_BY_STEM.update({_stem(i): d["_id"] for i, d in enumerate(docs)})
    ids = {d["_id"] for d in docs}
    queries = {
        q["_id"]: q["text"]
        for q in (
            json.loads(line)
            for line in (dataset / "queries.jsonl").read_text(encoding="utf-8").split("\n")
            if line.strip()
        )
    }
    qrels: dict[str, dict[str, int]] = {}
    for line in (dataset / "qrels" / "test.tsv").read_text().split("\n"):
        parts = line.strip().split("\t")
        if len(parts) != 3 or not parts[2].isdigit():
            continue
        qid, did, grade = parts[0], parts[1], int(parts[2])
        if grade > 0 and did in ids:
            qrels.setdefault(qid, {})[did] = grade
    queries = {q: t for q, t in queries.items() if q in qrels}
    return docs, queries, qrels


def _ndcg(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def _recall(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    return len(set(ranked[:k]) & set(rels)) / len(rels) if rels else 0.0


_ID_BY_STEM: dict[str, str] = {}
"""File stem -> corpus id (ids such as DBpedia's contain '/' and '<>')."""


def _stem(position: int) -> str:
    return f"d{position:05d}"


def _doc_id(uri: str) -> str:
    stem = uri.rsplit("/", 1)[-1].removesuffix(".txt")
    return _ID_BY_STEM.get(stem, stem)


def _build_embedder(kind: str, url: str | None) -> tuple[Embedder | None, dict[str, Any]]:
    if kind == "instant":
        return InstantEmbedder(), {}
    if kind == "hashing":
        return None, {"provider": "hashing", "dimension": 384}
    if kind == "fake-http":
        return None, {
            "provider": "openai",
            "model": "fake-embedding",
            "api_base": url,
            "api_key": "sk-fake",
        }
    return None, {}


async def run(args: argparse.Namespace) -> None:
    docs, queries, qrels = _load(DATA / args.dataset, args.max_docs)
    work = Path(tempfile.mkdtemp(prefix="ovbench-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for i, d in enumerate(docs):
        (corpus / f"{_stem(i)}.txt").write_text(
            (d.get("title", "") + "\n" + d["text"]).strip(), encoding="utf-8"
        )
    injected, dense = _build_embedder(args.embedder, args.url)
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(work / "data")},
            **({"embedding": {"dense": dense}} if dense else {}),
        }
    )
    service = ContextService(config, embedder=injected)
    await service.initialize()
    ctx = await service.local_context()
    embedder = service.store.embedder

    start = time.perf_counter()
    await service.add_resource(
        ctx, str(corpus), wait=True, timeout=7200, processing_mode=args.processing_mode
    )
    ingest_s = time.perf_counter() - start
    rows = await service.store.index.count()

    texts = list(queries.values())
    q_start = time.perf_counter()
    vectors = (
        await embedder.embed_documents(texts)
        if args.embedder != "instant"
        else np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    )
    query_embed_ms = (time.perf_counter() - q_start) * 1000 / max(1, len(texts))
    table = {t: np.asarray(v, dtype=np.float32) for t, v in zip(texts, vectors, strict=True)}
    cached = CachedQueries(embedder, table)
    base = IndexFilter(
        account_id=ctx.account_id, uri_prefixes=("viking://resources/corpus",), levels=(2,)
    )
    results: dict[str, dict[str, float]] = {}

    async def vector_only(text: str) -> list[str]:
        hits = await service.store.index.vector_search(table[text], base, 10)
        return [_doc_id(h.record.uri) for h in hits]

    async def fts_only(text: str) -> list[str]:
        hits = await service.store.index.fts_search(text, base, 10)
        return [_doc_id(h.record.uri) for h in hits]

    retriever = Retriever(service.store.index, cached, config.retrieval)

    async def hybrid(text: str) -> list[str]:
        hits = await retriever.find(FindQuery(query=text, base=base, limit=10))
        return [_doc_id(h["uri"]) for h in hits]

    for name, fn in (("vector", vector_only), ("fts", fts_only), ("hybrid", hybrid)):
        ndcgs, recalls = [], []
        for qid, text in queries.items():
            ranked = await fn(text)
            ndcgs.append(_ndcg(ranked, qrels[qid]))
            recalls.append(_recall(ranked, qrels[qid]))
        results[name] = {"ndcg": statistics.mean(ndcgs), "recall": statistics.mean(recalls)}

    async def find_once(text: str) -> float:
        t0 = time.perf_counter()
        await service.find(ctx, text, target_uri="viking://resources/corpus", limit=10)
        return (time.perf_counter() - t0) * 1000

    service.store._embedder = cached  # find() now skips query embedding (precomputed)
    latency: dict[int, dict[str, float]] = {}
    for conc in (1, 4):
        rounds = texts * max(1, args.repeat)
        sem = asyncio.Semaphore(conc)

        async def limited(text: str, sem: asyncio.Semaphore = sem) -> float:
            async with sem:
                return await find_once(text)

        await asyncio.gather(*(limited(t) for t in texts[:8]))  # warm-up
        t0 = time.perf_counter()
        times = await asyncio.gather(*(limited(t) for t in rounds))
        wall = time.perf_counter() - t0
        times.sort()
        latency[conc] = {
            "p50": times[len(times) // 2],
            "p95": times[int(len(times) * 0.95)],
            "qps": len(times) / wall,
        }
    await service.close()

    print(
        f"# retrieval benchmark: {args.dataset}, {len(docs)} docs, {len(queries)} judged "
        f"queries, embedder {embedder.model_id}"
    )
    print(f"# workspace, kept for benchmarks/fusion_sweep.py: {work}")
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print("| metric | value |")
    print("|---|---|")
    print(
        f"| ingest (end to end) | {len(docs) / ingest_s:.1f} docs/s ({ingest_s:.1f} s, "
        f"{rows} index rows) |"
    )
    print(f"| query embedding | {query_embed_ms:.2f} ms/query (batched) |")
    for name in ("vector", "fts", "hybrid"):
        print(
            f"| {name} nDCG@10 / recall@10 | {results[name]['ndcg']:.4f} / "
            f"{results[name]['recall']:.4f} |"
        )
    for conc, lat in latency.items():
        print(
            f"| find, concurrency {conc} | p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, "
            f"{lat['qps']:.0f} q/s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="msmarco", choices=("msmarco", "dbpedia"))
    parser.add_argument(
        "--embedder", default="local", choices=("local", "hashing", "instant", "fake-http")
    )
    parser.add_argument("url", nargs="?", help="base URL for --embedder fake-http")
    parser.add_argument("--max-docs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="latency rounds over the queries")
    parser.add_argument(
        "--processing-mode",
        default="semantic_and_vectors",
        choices=("semantic_and_vectors", "vectors_only"),
    )
    args = parser.parse_args()
    if args.embedder == "fake-http" and not args.url:
        parser.error("--embedder fake-http needs a URL")
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
