"""Memory junk rate: do repeated statements across sessions produce duplicate memories?

A scripted set of conversations restates the same facts in different words across many
sessions, mixed with small talk and questions. Each session is committed (phase 2 runs the
extractor and the dedup/merge stage); afterwards every stored memory is matched to the
scripted facts it mentions (by its key words). A memory is a **duplicate** when an earlier
memory already holds the same fact, and **junk** when it holds no scripted fact at all.

    .venv/bin/python benchmarks/memory_dedup.py [--sessions 30] [--seed 7]

Without an LLM this measures the rule-based extractor plus dedup; point ``--vlm-base`` at an
OpenAI-compatible server to measure the LLM path. Prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from openviking_mcp import AsyncOpenViking, OpenVikingConfig

# fact id -> (key words that identify it in a memory, ways a user says it)
FACTS: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "coffee": (
        ("dark roast",),
        [
            "I prefer dark roast coffee.",
            "I prefer dark roast coffee, as I said before.",
            "Honestly I prefer dark roast coffee over anything else.",
        ],
    ),
    "editor": (
        ("neovim",),
        ["I prefer Neovim for editing.", "I prefer Neovim for editing code.", "I prefer Neovim."],
    ),
    "tabs": (
        ("tabs",),
        ["I prefer tabs over spaces.", "I prefer tabs over spaces in Go code."],
    ),
    "name": (
        ("dana",),
        ["My name is Dana.", "My name is Dana, by the way.", "Call me Dana."],
    ),
    "city": (
        ("lisbon",),
        ["I live in Lisbon.", "I live in Lisbon these days."],
    ),
    "job": (
        ("data engineer",),
        ["I work as a data engineer.", "I work as a data engineer at a bank."],
    ),
    "billing": (
        ("billing", "kubernetes"),
        [
            "Remember that the billing service runs on Kubernetes.",
            "Remember that billing runs on Kubernetes.",
        ],
    ),
    "standup": (
        ("standup",),
        [
            "Remember that our standup is at 9:30.",
            "Remember that the team standup is at 9:30 every day.",
        ],
    ),
    "tea": (
        ("green tea",),
        ["I like green tea in the afternoon.", "I like green tea."],
    ),
    "meetings": (
        ("meetings",),
        ["I hate long meetings.", "I hate long meetings, keep them short."],
    ),
}
NOISE = [
    "Can you help me with a SQL query?",
    "Do you prefer Python or Go?",
    "Thanks, that works.",
    "What time is it in Tokyo?",
    "Let's continue tomorrow.",
]
REPLIES = ["Sure.", "Noted.", "Done.", "Here you go."]


def _sessions(count: int, rng: random.Random) -> list[list[str]]:
    sessions = []
    for _ in range(count):
        lines: list[str] = []
        for fact in rng.sample(sorted(FACTS), 3):
            lines.append(rng.choice(FACTS[fact][1]))
        lines.append(rng.choice(NOISE))
        rng.shuffle(lines)
        sessions.append(lines)
    return sessions


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vlm-base", default="", help="OpenAI-compatible base URL (LLM path)")
    parser.add_argument("--vlm-model", default="gpt-4o-mini")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workspace = Path(tempfile.mkdtemp(prefix="ov-dedup-")) / "data"
    sections: dict[str, Any] = {
        "storage": {"workspace": str(workspace)},
        "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
    }
    if args.vlm_base:
        sections["vlm"] = {"provider": "openai", "model": args.vlm_model, "api_base": args.vlm_base}
    started = time.perf_counter()
    statements = 0
    async with AsyncOpenViking(config=OpenVikingConfig.from_dict(sections)) as aov:
        svc, ctx = aov.service, aov.context
        for n, lines in enumerate(_sessions(args.sessions, rng)):
            sid = f"bench-{n:03d}"
            for line in lines:
                await svc.add_message(ctx, sid, "user", content=line)
                await svc.add_message(ctx, sid, "assistant", content=rng.choice(REPLIES))
                statements += 1
            commit = await svc.commit_session(ctx, sid, wait=True, timeout=300)
            if commit.get("task_status") != "completed":
                raise SystemExit(f"commit failed: {commit}")
        found = await svc.glob(ctx, "**/*.md", uri="viking://~/memories", node_limit=10_000)
        memories = []
        for uri in sorted(found["matches"]):
            text = (await svc.read(ctx, uri)).lower()
            memories.append((uri, text))
    elapsed = time.perf_counter() - started

    seen: set[str] = set()
    duplicates = junk = summaries = 0
    for uri, text in memories:
        if "/events/" in uri and uri.rsplit("/", 1)[-1].startswith("session-"):
            summaries += 1  # the per-session summary events (they quote the conversation)
            continue
        facts = {f for f, (keys, _) in FACTS.items() if all(k in text for k in keys)}
        if not facts:
            junk += 1
        elif facts <= seen:
            duplicates += 1
        seen |= facts
    kept = len(memories) - summaries
    print(
        f"\nMemory dedup: {args.sessions} sessions, {statements} user statements, seed {args.seed}"
    )
    print(f"extractor: {'llm' if args.vlm_base else 'rules'}; {elapsed:.1f} s\n")
    print("| metric | value |")
    print("|---|---|")
    print(f"| memories stored (excluding session-summary events) | {kept} |")
    print(f"| session-summary events | {summaries} |")
    print(f"| facts covered | {len(seen)} / {len(FACTS)} |")
    print(f"| duplicates | {duplicates} ({duplicates / max(kept, 1):.1%}) |")
    print(f"| junk (no scripted fact) | {junk} ({junk / max(kept, 1):.1%}) |")


if __name__ == "__main__":
    asyncio.run(main())
