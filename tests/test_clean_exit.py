"""A script that ends without closing its store exits cleanly, its task workers busy or not.

Each case runs a script in a fresh interpreter (``sys.executable``): it opens a store on a
hashing-embedder workspace, queues an import (``wait=False``, so the workers are busy when the
script ends) and ends without ``close()``, normally or by raising.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.servers import clean_env

_SETUP = """
import asyncio, sys
from pathlib import Path
from openviking_mcp.config import OpenVikingConfig
workspace = Path(sys.argv[1])
config = OpenVikingConfig.from_dict({
    "storage": {"workspace": str(workspace / "data")},
    "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
})
doc = workspace / "notes"
doc.mkdir(exist_ok=True)
for i in range(60):
    (doc / f"n{i}.md").write_text(f"# Note {i}\\n\\n" + f"words about topic {i}. " * 500)
"""

_SYNC_CLIENT = """
from openviking_mcp import OpenViking
ov = OpenViking(config=config)
ov.initialize()
print(ov.add_resource(str(doc), wait=False)["task_id"])
import time; time.sleep(0.5)  # the import is under way when the script ends
"""

_ASYNC_CLIENT = """
from openviking_mcp import AsyncOpenViking
async def main():
    ov = AsyncOpenViking(config=config)
    await ov.initialize()
    print((await ov.add_resource(str(doc), wait=False))["task_id"])
asyncio.run(main())
"""

_SERVICE = """
from openviking_mcp.client.embedded import EMBEDDED_OPTIONS
from openviking_mcp.service import ContextService
async def main():
    service = ContextService(config)
    await service.initialize()
    ctx = await service.local_context()
    args = {"path": str(doc), "wait": False}
    trusted = EMBEDDED_OPTIONS.get("add_resource", {})
    print((await service.call(ctx, "add_resource", args, **trusted))["task_id"])
asyncio.run(main())
"""

_RAISE = """
raise ValueError("the script's own failure")
"""


def _run(tmp_path: Path, *parts: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("".join((_SETUP, *parts))), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=120,
    )


@pytest.mark.parametrize(
    "opening", [_SYNC_CLIENT, _ASYNC_CLIENT, _SERVICE], ids=["sync", "async", "service"]
)
def test_exit_without_close_is_quiet(tmp_path: Path, opening: str) -> None:
    done = _run(tmp_path, opening)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) == 32  # the queued task's id: the import was queued
    assert "Traceback" not in done.stderr
    assert "cannot schedule new futures" not in done.stderr


def test_a_script_that_raises_shows_its_own_traceback_only(tmp_path: Path) -> None:
    done = _run(tmp_path, _SYNC_CLIENT, _RAISE)
    assert done.returncode == 1
    assert done.stderr.count("Traceback") == 1
    assert done.stderr.rstrip().endswith("ValueError: the script's own failure")
    assert "cannot schedule new futures" not in done.stderr


def test_the_interrupted_import_resumes_on_the_next_open(tmp_path: Path) -> None:
    """Closing at exit puts the running import back (pending): the next open finishes it."""
    first = _run(tmp_path, _SYNC_CLIENT)
    assert first.returncode == 0, first.stderr
    task_id = first.stdout.strip()
    second = _run(
        tmp_path,
        "from openviking_mcp import OpenViking\n",
        "with OpenViking(config=config) as ov:\n",
        f"    ov.wait_processing(timeout=60)\n    print(ov.get_task({task_id!r})['status'])\n",
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "completed"
