"""Choose ``find``'s fusion defaults by cross-validation on MS MARCO, DBpedia and LoCoMo.

    .venv/bin/python benchmarks/retrieval.py --dataset msmarco     # prints its workspace
    .venv/bin/python benchmarks/retrieval.py --dataset dbpedia
    .venv/bin/python benchmarks/locomo_recall.py --workspace /tmp/locomo-ws
    .venv/bin/python benchmarks/fusion_sweep.py --msmarco /tmp/ovbench-A \
        --dbpedia /tmp/ovbench-B --locomo /tmp/locomo-ws

Runs ``find``'s real retriever for every point of a small grid of the two vector shares of
the hybrid score: when the vector results hold every query word (``covered``) and when they
hold none (``missing``). Documents (MS MARCO and DBpedia, nDCG@10 of the judged queries) set
``retrieval.hybrid_vector_weight`` and ``retrieval.identifier_vector_weight``; memories
(LoCoMo, evidence recall@10 of the questions of categories 1-4, through
``ContextService.find`` on the user's memories) set ``retrieval.memory_vector_weight`` and
``retrieval.memory_identifier_vector_weight``. For documents a grid point's merit is its
*smallest* gain over vector ranking alone (both shares 1.0) across the two sets, so neither
pays for the other's gain. Then, for each pair of settings:

* **k-fold** (5 folds, 20 shuffles) over the queries: each fold's queries are scored with
  the grid point that did best on the other four folds;
* **cross-data-set** (documents): the point that did best on one set, scored on the other;
* **oracle**: each query at its own best grid point, the most that any way of choosing the
  shares per query could reach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from locomo_recall import CATEGORIES, INGESTED, MEMORIES, Harness, _recall, evidence_of
from locomo_recall import DATA as LOCOMO
from retrieval import DATA, CachedQueries, _doc_id, _load, _ndcg

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.config import RetrievalConfig
from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder
from openviking_mcp.search.find import FindQuery, Retriever
from openviking_mcp.storage.index import IndexFilter, VectorIndex

COVERED = (0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
MISSING = (0.2, 0.3, 0.5, 0.7, 0.85, 1.0)
Point = tuple[float, float]
VECTOR: Point = (1.0, 1.0)
Scores = dict[Point, dict[str, float]]  # grid point -> "set:query" -> metric
GRID = [(c, m) for c in COVERED for m in MISSING if m <= c]


def _config(point: Point, memory: bool) -> dict[str, Any]:
    covered, missing = point
    if memory:
        return {"memory_vector_weight": covered, "memory_identifier_vector_weight": missing}
    return {"hybrid_vector_weight": covered, "identifier_vector_weight": missing}


async def _score_beir(name: str, workspace: str) -> Scores:
    """nDCG@10 of every judged query of ``name`` at every grid point."""
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
    for point in GRID:
        retriever = Retriever(index, cached, RetrievalConfig(**_config(point, memory=False)))
        values = scores.setdefault(point, {})
        for qid, text in queries.items():
            hits = await retriever.find(FindQuery(query=text, base=base, limit=10))
            values[f"{name}:{qid}"] = _ndcg([_doc_id(h["uri"]) for h in hits], qrels[qid])
    await index.close()
    return scores


async def _score_locomo(workspace: str) -> Scores:
    """Evidence recall@10 of every LoCoMo question (categories 1-4) at every grid point,
    through ``ContextService.find`` on the conversation's user's memories."""
    work = Path(workspace)
    done = json.loads((work / INGESTED).read_text())
    data = json.loads(LOCOMO.read_text(encoding="utf-8"))
    config = OpenVikingConfig.from_dict({"storage": {"workspace": str(work)}})
    service = ContextService(config)
    await service.initialize()
    harness = Harness(service)
    asked: list[tuple[Any, str, set[str]]] = []
    questions: dict[str, str] = {}
    for index, sample in enumerate(data):
        if str(index) not in done:
            continue
        ctx = await service.local_context(None, f"locomo{index}")
        for n, q in enumerate(sample["qa"]):
            evidence = evidence_of(q)
            if q.get("category") in CATEGORIES and evidence:
                key = f"locomo:{index}.{n}"
                asked.append((ctx, key, evidence))
                questions[key] = str(q["question"])
    texts = sorted({questions[key].strip() for _, key, _ in asked})
    vectors = await service.store.embedder.embed_documents(texts)
    table = {t: np.asarray(v, dtype=np.float32) for t, v in zip(texts, vectors, strict=True)}
    service.store._embedder = CachedQueries(service.store.embedder, table)  # find strips
    retrieval = service.store.config.retrieval
    scores: Scores = {}
    for point in GRID:
        for field, value in _config(point, memory=True).items():
            setattr(retrieval, field, value)
        values = scores.setdefault(point, {})
        for ctx, key, evidence in asked:
            found = await service.find(ctx, questions[key], target_uri=MEMORIES, limit=10)
            ranked = await harness.ranked(ctx, found["memories"])
            values[key] = _recall(ranked, evidence, 10)
    await service.close()
    return scores


def _by_set(values: dict[str, float], keys: list[str] | None = None) -> dict[str, float]:
    sets: dict[str, list[float]] = {}
    for key in keys if keys is not None else list(values):
        sets.setdefault(key.split(":", 1)[0], []).append(values[key])
    return {name: statistics.mean(v) for name, v in sets.items()}


def _gains(scores: Scores, point: Point, keys: list[str]) -> dict[str, float]:
    mine, base = _by_set(scores[point], keys), _by_set(scores[VECTOR], keys)
    return {name: mine[name] - base[name] for name in mine}


def _best(scores: Scores, keys: list[str]) -> Point:
    """The grid point whose smallest gain over vector ranking, across the sets, is largest."""

    def merit(point: Point) -> tuple[float, float]:
        gains = _gains(scores, point, keys)
        return min(gains.values()), statistics.mean(gains.values())

    return max(GRID, key=merit)


def _kfold(scores: Scores, keys: list[str], folds: int = 5, shuffles: int = 20) -> dict[str, float]:
    held_runs: list[dict[str, float]] = []
    picks: dict[Point, int] = {}
    for seed in range(shuffles):
        order = keys[:]
        random.Random(seed).shuffle(order)
        held: dict[str, float] = {}
        for f in range(folds):
            test = set(order[f::folds])
            point = _best(scores, [k for k in order if k not in test])
            picks[point] = picks.get(point, 0) + 1
            held.update({k: scores[point][k] - scores[VECTOR][k] for k in test})
        held_runs.append(_by_set(held))
    print(
        "k-fold picks (covered, missing): "
        + ", ".join(f"{p}: {n}" for p, n in sorted(picks.items(), key=lambda x: -x[1]))
    )
    return {name: statistics.mean(r[name] for r in held_runs) for name in held_runs[0]}


def _print(label: str, values: dict[str, float], fmt: Callable[[float], str]) -> None:
    print(f"{label}: " + ", ".join(f"{n} {fmt(v)}" for n, v in sorted(values.items())))


def _report(label: str, scores: Scores, keys: list[str]) -> None:
    print(f"\n## {label}\n")
    names = sorted(_by_set(scores[VECTOR], keys))
    print("| covered | missing | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for point in GRID:
        cells = _by_set(scores[point], keys)
        print(f"| {point[0]} | {point[1]} | " + " | ".join(f"{cells[n]:.4f}" for n in names) + " |")
    _print("\nvector ranking alone (1.0, 1.0)", _by_set(scores[VECTOR], keys), lambda v: f"{v:.4f}")
    best = _best(scores, keys)
    _print(f"chosen on every query {best}, gain", _gains(scores, best, keys), lambda v: f"{v:+.4f}")
    _print("5-fold held-out gain", _kfold(scores, keys), lambda v: f"{v:+.4f}")
    for held_out in names if len(names) > 1 else []:
        train = [k for k in keys if not k.startswith(held_out + ":")]
        point = _best(scores, train)
        gain = _gains(scores, point, [k for k in keys if k.startswith(held_out + ":")])
        print(f"chosen without {held_out} {point}: gain on {held_out} {gain[held_out]:+.4f}")
    oracle = {k: max(scores[p][k] for p in GRID) - scores[VECTOR][k] for k in keys}
    _print(
        "oracle (each query at its own best grid point), gain",
        _by_set(oracle),
        lambda v: f"{v:+.4f}",
    )


async def main(args: argparse.Namespace) -> None:
    scores: Scores = {}
    parts = [_score_beir("msmarco", args.msmarco), _score_beir("dbpedia", args.dbpedia)]
    if args.locomo:
        parts.append(_score_locomo(args.locomo))
    for part in parts:
        for point, values in (await part).items():
            scores.setdefault(point, {}).update(values)
    keys = sorted(scores[VECTOR])
    _report(
        "Documents (resources and skills)", scores, [k for k in keys if not k.startswith("locomo:")]
    )
    memory = [k for k in keys if k.startswith("locomo:")]
    if memory:
        _report("Memories", scores, memory)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--msmarco", required=True, help="workspace of retrieval.py msmarco")
    parser.add_argument("--dbpedia", required=True, help="workspace of retrieval.py dbpedia")
    parser.add_argument("--locomo", default="", help="workspace of locomo_recall.py")
    asyncio.run(main(parser.parse_args()))
