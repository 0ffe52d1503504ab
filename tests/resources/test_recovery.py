"""Killing the process mid-ingest loses no accepted work: the next start resumes the task."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from openviking_mcp import ContextService, OpenVikingConfig
    from openviking_mcp.models.hashing import HashingEmbedder

    class SlowEmbedder(HashingEmbedder):
        delay = float(sys.argv[3])

        async def embed_documents(self, texts):
            await asyncio.sleep(self.delay * len(texts))
            return await super().embed_documents(texts)

    async def main(workspace, mode, delay, arg):
        config = OpenVikingConfig.from_dict({
            "storage": {"workspace": workspace},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        })
        service = ContextService(config, embedder=SlowEmbedder(dimension=256))
        await service.initialize()
        ctx = await service.local_context()
        if mode == "start":
            planned = await service.add_resource(ctx, arg)
            print(planned["task_id"], flush=True)
            await asyncio.sleep(3600)  # killed long before this ends
        else:
            record = await service.store.tasks.wait(arg, timeout=120)
            found = await service.find(ctx, "chapter 37 unique marker", limit=1)
            rows = await service.store.index.count()
            print(json.dumps({"status": record.status, "attempts": record.attempts,
                              "result": record.result, "top": found["resources"][0]["uri"],
                              "rows": rows}), flush=True)
            await service.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))
    """
)


def _stage(db: Path, task_id: str) -> str:
    conn = sqlite3.connect(db, timeout=5)
    try:
        row = conn.execute("SELECT stage FROM tasks WHERE task_id=?", (task_id,)).fetchone()
        return str(row[0]) if row else ""
    finally:
        conn.close()


def test_sigkill_mid_ingest_then_resume(tmp_path: Path) -> None:
    source = tmp_path / "book"
    source.mkdir()
    for i in range(60):
        (source / f"chapter{i:02d}.md").write_text(
            f"# Chapter {i}\n\n" + f"Chapter {i} unique marker text. " * 20
        )
    workspace = tmp_path / "data"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)

    first = subprocess.Popen(
        [sys.executable, str(script), str(workspace), "start", "0.05", str(source)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert first.stdout is not None
    task_id = first.stdout.readline().strip()
    assert len(task_id) == 32
    db = workspace / "meta" / "openviking.sqlite3"
    deadline = time.monotonic() + 60
    while _stage(db, task_id) not in ("summarizing", "embedding"):
        assert time.monotonic() < deadline, "import never reached the embedding stage"
        assert first.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert _stage(db, task_id) != "done"

    second = subprocess.run(
        [sys.executable, str(script), str(workspace), "resume", "0", task_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout.strip().splitlines()[-1])
    assert report["status"] == "completed"
    assert report["attempts"] == 2
    assert report["result"]["root_uri"] == "viking://resources/book"
    assert report["top"] == "viking://resources/book/chapter37/chapter37.md"
    assert report["rows"] >= 60
