"""LoCoMo evidence recall of conversation memory, against a flat vector baseline.

For each LoCoMo conversation (``../shared/data/locomo/locomo10.json``) an agent's use of the
public API is replayed in-process: one user per conversation, one session per LoCoMo session,
``add_messages`` for every turn (the first speaker as ``user``, the second as ``assistant``;
the speaker's name as ``peer_id``, the dialogue id as ``turn_id``, the session's date as
``created_at``), then ``commit_session(wait=True)``, so commit phase 2 (memory extraction and
the conversation index) has run. Then, for each question of categories 1-4:

* ``find`` on the user's memories (``viking://~/memories``) and ``search`` with the
  conversation's last session take the top 5 and top 10 contexts;
* a context counts for the evidence dia_ids its turn file names (``turn_id`` in its fields
  block); directory summaries and extracted memories name none;
* evidence recall@k: the share of a question's evidence dia_ids among the top k, averaged.

The baseline embeds every raw turn (``"{speaker}: {text}"``) with the same embedder and ranks
all turns of the conversation by cosine similarity.

    nice -n 10 .venv/bin/python benchmarks/locomo_recall.py                 # local MiniLM
    .venv/bin/python benchmarks/locomo_recall.py --workspace /tmp/locomo-ws  # kept, reused
    .venv/bin/python benchmarks/locomo_recall.py --embedder hashing --conversations 2
    .venv/bin/python benchmarks/locomo_recall.py --vlm-base http://127.0.0.1:8000/v1

With ``--vlm-base`` the harness runs twice: rules-based extraction, then with the given
OpenAI-compatible chat model configured for summaries and LLM extraction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.memory.memory_file import parse_memory
from openviking_mcp.models.base import Embedder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo" / "locomo10.json"
CATEGORIES = (1, 2, 3, 4)
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10)
MEMORIES = "viking://~/memories"
INGESTED = "locomo-ingested.json"
"""In a kept workspace: the conversations already ingested, with their last session ids."""


def _session_date(raw: str) -> datetime:
    """``"1:56 pm on 8 May, 2023"`` as a datetime."""
    return datetime.strptime(raw.strip(), "%I:%M %p on %d %B, %Y")


def _turn_text(turn: dict[str, Any]) -> str:
    text = str(turn.get("text") or "").strip()
    caption = turn.get("blip_caption")
    if caption:
        text = f"{text} [shares a photo: {caption}]".strip()
    return text


def _sessions(conv: dict[str, Any]) -> list[tuple[int, datetime, list[dict[str, Any]]]]:
    numbers = sorted(
        int(k.split("_")[1])
        for k, v in conv.items()
        if k.startswith("session_") and not k.endswith("date_time") and isinstance(v, list)
    )
    return [
        (n, _session_date(conv[f"session_{n}_date_time"]), conv[f"session_{n}"]) for n in numbers
    ]


def evidence_of(question: dict[str, Any]) -> set[str]:
    """The dia_ids a LoCoMo question names as its evidence."""
    return {str(e).strip() for e in question.get("evidence", []) if str(e).strip()}


def _recall(found: Sequence[set[str]], evidence: set[str], k: int) -> float:
    got: set[str] = set()
    for ids in found[:k]:
        got |= ids
    return len(got & evidence) / len(evidence) if evidence else 0.0


class Harness:
    """One service over a fresh workspace; one user per conversation."""

    def __init__(self, service: ContextService) -> None:
        self.service = service
        self.turn_ids: dict[str, set[str]] = {}

    async def ingest(self, ctx: RequestContext, conv: dict[str, Any]) -> str:
        """Replay every session; returns the last session id."""
        svc = self.service
        speaker_a = conv["speaker_a"]
        last = ""
        for number, when, turns in _sessions(conv):
            sid = f"locomo-s{number}"
            await svc.create_session(ctx, sid)
            messages = [
                {
                    "role": "user" if t["speaker"] == speaker_a else "assistant",
                    "content": _turn_text(t),
                    "peer_id": t["speaker"],
                    "turn_id": t["dia_id"],
                    "created_at": (when + timedelta(seconds=i)).isoformat() + "Z",
                }
                for i, t in enumerate(turns)
                if _turn_text(t)
            ]
            for start in range(0, len(messages), 100):
                await svc.add_messages(ctx, sid, messages[start : start + 100])
            commit = await svc.commit_session(ctx, sid, wait=True, timeout=1800)
            if commit.get("task_status") != "completed":
                raise RuntimeError(f"commit of {sid} did not complete: {commit}")
            last = sid
        return last

    async def ids_of(self, ctx: RequestContext, uri: str) -> set[str]:
        """The dia_ids a hit names (its turn file's ``turn_id``)."""
        if uri not in self.turn_ids:
            ids: set[str] = set()
            if uri.endswith(".md") and "/conversations/" in uri and "/." not in uri:
                raw = await self.service.read(ctx, uri, raw=True)
                turn_id = parse_memory(str(raw)).fields.get("turn_id")
                if turn_id:
                    ids.add(str(turn_id))
            self.turn_ids[uri] = ids
        return self.turn_ids[uri]

    async def ranked(self, ctx: RequestContext, hits: Sequence[dict[str, Any]]) -> list[set[str]]:
        return [await self.ids_of(ctx, str(h["uri"])) for h in hits]


async def _flat_baseline(
    embedder: Embedder, conv: dict[str, Any], questions: list[dict[str, Any]]
) -> list[list[set[str]]]:
    turns = [t for _, _, ts in _sessions(conv) for t in ts if _turn_text(t)]
    texts = [f"{t['speaker']}: {_turn_text(t)}" for t in turns]
    docs = np.asarray(await embedder.embed_documents(texts), dtype=np.float32)
    out: list[list[set[str]]] = []
    for q in questions:
        qv = np.asarray(await embedder.embed_query(str(q["question"])), dtype=np.float32)
        order = np.argsort(-(docs @ qv))[: max(KS)]
        out.append([{str(turns[i]["dia_id"])} for i in order])
    return out


def _config(work: Path, embedder: str, vlm: dict[str, Any] | None) -> OpenVikingConfig:
    data: dict[str, Any] = {"storage": {"workspace": str(work)}}
    if embedder == "hashing":
        data["embedding"] = {"dense": {"provider": "hashing", "dimension": 384}}
    if vlm is not None:
        data["vlm"] = vlm
    return OpenVikingConfig.from_dict(data)


async def run_mode(
    args: argparse.Namespace,
    data: list[dict[str, Any]],
    vlm: dict[str, Any] | None,
    embedder: Embedder | None,
) -> tuple[dict[str, dict[int, list[float]]], Embedder, float]:
    """Ingest and query every conversation; per method, per category: the recall lists
    (index ``i`` is recall@KS[i]) of each question, flattened in pairs."""
    work = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="ovlocomo-"))
    if vlm is not None and args.workspace:
        work = work / "llm"
    marker = work / INGESTED
    done: dict[str, str] = json.loads(marker.read_text()) if marker.exists() else {}
    service = ContextService(_config(work, args.embedder, vlm), embedder=embedder)
    await service.initialize()
    harness = Harness(service)
    scores: dict[str, dict[int, list[float]]] = {}
    ingest_s = 0.0
    try:
        for index, sample in enumerate(data):
            ctx = await service.local_context(None, f"locomo{index}")
            t0 = time.perf_counter()
            last = done.get(str(index)) or await harness.ingest(ctx, sample["conversation"])
            ingest_s += time.perf_counter() - t0
            done[str(index)] = last
            marker.write_text(json.dumps(done))
            questions = [q for q in sample["qa"] if q.get("category") in CATEGORIES]
            if args.max_questions:
                questions = questions[: args.max_questions]
            flat = await _flat_baseline(service.store.embedder, sample["conversation"], questions)
            for q, flat_ids in zip(questions, flat, strict=True):
                evidence = evidence_of(q)
                if not evidence:
                    continue
                text = str(q["question"])
                found = await service.find(ctx, text, target_uri=MEMORIES, limit=max(KS))
                searched = await service.search(ctx, text, session_id=last, limit=max(KS))
                per = {
                    "find": await harness.ranked(ctx, found["memories"]),
                    "search": await harness.ranked(ctx, searched["memories"]),
                    "flat vector": flat_ids,
                }
                for method, ranked in per.items():
                    bucket = scores.setdefault(method, {}).setdefault(int(q["category"]), [])
                    bucket += [_recall(ranked, evidence, k) for k in KS]
            print(f"# conversation {index}: {len(questions)} questions", flush=True)
        return scores, service.store.embedder, ingest_s
    finally:
        await service.close()


def _table(label: str, scores: dict[str, dict[int, list[float]]]) -> list[str]:
    lines = [
        f"| {label} | "
        + " | ".join(f"cat {c} ({CATEGORY_NAMES[c]})" for c in CATEGORIES)
        + " | overall |",
        "|---|" + "---|" * (len(CATEGORIES) + 1),
    ]
    for method, by_cat in scores.items():
        cells = []
        everything: list[float] = []
        for cat in (*CATEGORIES, 0):
            values = by_cat.get(cat, []) if cat else everything
            if cat:
                everything += values
            at = [statistics.mean(values[i :: len(KS)]) if values else 0.0 for i in range(2)]
            n = len(values) // len(KS)
            cells.append(f"{at[0]:.3f} / {at[1]:.3f} (n={n})")
        lines.append(f"| {method} R@5 / R@10 | " + " | ".join(cells) + " |")
    return lines


async def main(args: argparse.Namespace, data: list[dict[str, Any]]) -> None:
    modes: list[tuple[str, dict[str, Any] | None]] = [("rules", None)]
    if args.vlm_base:
        vlm = {
            "provider": "openai",
            "model": args.vlm_model,
            "api_base": args.vlm_base,
            "api_key": os.environ.get("OPENAI_API_KEY", "sk-local"),
        }
        modes.append(("llm", vlm))
    embedder: Embedder | None = None
    out: list[str] = []
    for label, vlm_cfg in modes:
        t0 = time.perf_counter()
        scores, embedder, ingest_s = await run_mode(args, data, vlm_cfg, embedder)
        print(f"# {label}: ingest {ingest_s:.0f} s, total {time.perf_counter() - t0:.0f} s")
        out += ["", *_table(f"extraction: {label}", scores)]
    assert embedder is not None
    print(
        f"\n# LoCoMo evidence recall: {len(data)} conversations, categories 1-4, "
        f"embedder {embedder.model_id}"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("\n".join(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--embedder", choices=("local", "hashing"), default="local")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--max-questions", type=int, default=0, help="per conversation; 0: all")
    parser.add_argument("--vlm-base", default="", help="OpenAI-compatible base URL")
    parser.add_argument("--vlm-model", default="gpt-4o-mini")
    parser.add_argument(
        "--workspace",
        default="",
        help="keep the store here; a later run reuses the conversations it already holds "
        "(benchmarks/fusion_sweep.py --locomo reads it)",
    )
    parsed = parser.parse_args()
    dataset = json.loads(Path(parsed.data).read_text(encoding="utf-8"))[: parsed.conversations]
    asyncio.run(main(parsed, dataset))
