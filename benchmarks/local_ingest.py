"""Ingest throughput with the local ONNX embedder, and where the time goes.

Imports the first ``--docs`` passages of a BEIR subset (one file per passage, one
``add_resource`` with ``wait=True``) into a fresh workspace, with the embedder wrapped to count
what it is asked to embed. Prints one table: docs/s, texts and tokens embedded per document,
the time spent inside the embedder (wall and this process's CPU), and RSS.

    .venv/bin/python benchmarks/local_ingest.py                  # 1,000 MS MARCO passages
    .venv/bin/python benchmarks/local_ingest.py --docs 5000
    .venv/bin/python benchmarks/local_ingest.py --embedder instant  # the pipeline alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.models.base import Embedder, Vectors
from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "beir-subsets"


class Counting(Embedder):
    """Wraps an embedder and counts calls, texts, tokens and the time spent in it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id, self.dimension = inner.model_id, inner.dimension
        self.max_tokens = inner.max_tokens
        self.calls = self.texts = self.tokens = 0
        self.seconds = 0.0

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts += len(texts)
        self.tokens += sum(min(self.inner.count_tokens(t), self.max_tokens) for t in texts)
        start = time.perf_counter()
        try:
            return await self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - start

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def load(self) -> None:
        await self.inner.load()


class Instant(Embedder):
    """Costs nothing: the pipeline's own share."""

    model_id = "bench:instant-384"
    dimension = 384

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.zeros((len(texts), self.dimension), dtype=np.float32)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _corpus(dataset: str, docs: int, into: Path) -> int:
    lines = (DATA / dataset / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
    rows = [json.loads(line) for line in lines if line.strip()][:docs]
    into.mkdir()
    for i, d in enumerate(rows):
        text = (d.get("title", "") + "\n" + d["text"]).strip()
        (into / f"d{i:05d}.txt").write_text(text, encoding="utf-8")
    return len(rows)


async def run(args: argparse.Namespace) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="ovingest-"))
    n = _corpus(args.dataset, args.docs, work / "corpus")
    inner: Embedder = Instant() if args.embedder == "instant" else LocalMiniLMEmbedder()
    counting = Counting(inner)
    config = OpenVikingConfig.from_dict({"storage": {"workspace": str(work / "data")}})
    service = ContextService(config, embedder=counting)
    await service.start()
    ctx = await service.local_context()
    rss_before = _rss_mb()
    cpu0, start = time.process_time(), time.perf_counter()
    await service.add_resource(ctx, str(work / "corpus"), wait=True, timeout=7200)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    rows = await service.store.index.count()
    await service.close()
    return {
        "documents": n,
        "index rows": rows,
        "ingest wall (s)": wall,
        "docs/s": n / wall,
        "process CPU (s)": cpu,
        "embed calls": counting.calls,
        "texts embedded per doc": counting.texts / n,
        "tokens embedded per doc": counting.tokens / n,
        "time inside the embedder (s)": counting.seconds,
        "RSS before ingest (MiB)": rss_before,
        "RSS after ingest (MiB)": _rss_mb(),
        "peak RSS (MiB)": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--dataset", default="msmarco")
    parser.add_argument("--embedder", default="local", choices=("local", "instant"))
    args = parser.parse_args()
    result = asyncio.run(run(args))
    load = os.getloadavg()[0]
    print(f"local ingest, {args.dataset}, embedder {args.embedder}, load average {load:.1f}\n")
    print("| figure | value |\n| --- | ---: |")
    for key, value in result.items():
        cell = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        print(f"| {key} | {cell} |")


if __name__ == "__main__":
    main()
