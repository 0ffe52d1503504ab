"""The process the fault-injection suite kills: ``python -m tests.adversarial._fault_worker
WORKSPACE SCENARIO [SOURCE]``.

It opens the embedded service on ``WORKSPACE`` (hashing embedder, rule-based memory extraction:
no network, no model) and does one piece of work, waiting for its background tasks:

* ``ingest SOURCE``: ``add_resource`` of the local folder ``SOURCE``;
* ``commit``: a conversation, then a commit of all of it (phases 1 and 2);
* ``writes``: ``WRITES`` file writes that return at once, then ``SIGKILL`` of itself;
* ``write``: one file write (:data:`WRITTEN_URI`, in a new shared folder), which the crash point
  ``content.written`` cuts between the file and the release of its indexing task.

``OPENVIKING_FAULT_STAGE`` (:mod:`openviking_mcp.faults`) kills it at the stage under test.
Reaching the end alive prints ``survived`` (the stage was never reached) and exits 3.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from openviking_mcp import ContextService, OpenVikingConfig

WRITES = 12
CONVERSATION = (
    "I prefer dark roast coffee in the morning.",
    "Noted.",
    "My name is Dana Whitfield.",
    "Nice to meet you, Dana.",
    "Remember that the billing service runs on Kubernetes.",
    "Got it.",
)
SESSION = "faults"
WRITTEN_URI = "viking://resources/ledger/pangolin.md"
WRITTEN_TEXT = "The pangolin ledger records every scale counted in the Kruger survey."


def config(workspace: str) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": workspace},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )


async def main(workspace: str, scenario: str, source: str | None) -> int:
    svc = ContextService(config(workspace))
    await svc.initialize()
    ctx = svc.dev_context()
    await svc.wait_processing(ctx, timeout=60)
    if scenario == "ingest":
        await svc.add_resource(ctx, source, allow_local_paths=True, wait=True, timeout=60)
    elif scenario == "commit":
        for i, line in enumerate(CONVERSATION):
            role = "user" if i % 2 == 0 else "assistant"
            await svc.add_message(ctx, SESSION, role, content=line)
        await svc.commit_session(ctx, SESSION, keep_recent_count=0, wait=True, timeout=60)
    elif scenario == "writes":
        for i in range(WRITES):
            text = f"Note {i}: the quokka number {i} lives on Rottnest island."
            await svc.write(ctx, f"viking://resources/notes/note{i}.md", text, mode="create")
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    elif scenario == "write":
        await svc.write(ctx, WRITTEN_URI, WRITTEN_TEXT, mode="create")
    await svc.wait_processing(ctx, timeout=60)
    print("survived", flush=True)
    await svc.close()
    return 3


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(asyncio.run(main(args[0], args[1], args[2] if len(args) > 2 else None)))
