"""The code of README.md and docs/*.md runs as written.

Convention: every ```bash, ```sh and ```python block of README.md and docs/*.md is run by these
tests, unless the last non-blank line before its fence is an HTML comment starting with
``illustrative`` or ``not run`` that says why, e.g.::

    <!-- illustrative: needs Claude Code -->
    <!-- not run: serves until stopped -->

Each document runs in a fresh temporary folder standing in for the repository root: HOME is
under it (with an ``ov.conf`` choosing the hashing embedder, for speed), ``.venv`` links to this
virtualenv and ``.venv/bin`` comes first on PATH. Blocks run in document order and share that
folder and its ``./data``; Python blocks of one run share their names. A block that talks to
``127.0.0.1:1933`` gets a server (``serve --with-bot`` on ``./data``), started before it on port
1933 when that is free, otherwise on a free port substituted into the block. The README runs
twice on the same folder: imports, skills and accounts must not pile up.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from openviking_mcp import OpenViking
from tests.doc_blocks import Block, DocRunner, blocks
from tests.servers import clean_env, start_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTED = "127.0.0.1:1933"


def _port_1933_free() -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 1933))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workdir(tmp_path: Path) -> dict[str, str]:
    """Lay out the stand-in repository root; returns the environment for shell blocks."""
    conf = tmp_path / "home" / ".openviking" / "ov.conf"
    conf.parent.mkdir(parents=True)
    hashing = {"embedding": {"dense": {"provider": "hashing", "dimension": 256}}}
    conf.write_text(json.dumps(hashing), encoding="utf-8")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = clean_env(tmp_path)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    return env


def _needs_server(doc_blocks: list[Block]) -> bool:
    return any(block.runs and DOCUMENTED in block.text for block in doc_blocks)


@pytest.fixture
def runner(tmp_path: Path) -> DocRunner:
    return DocRunner(tmp_path, _workdir(tmp_path), {})


def _run_doc(runner: DocRunner, doc: Path, times: int = 1) -> list[str]:
    """Run ``doc`` ``times`` times, with a server for as long as it needs one."""
    doc_blocks = blocks(doc)
    server: subprocess.Popen[bytes] | None = None
    if _needs_server(doc_blocks):
        port = 1933 if _port_1933_free() else _free_port()
        runner.replace[DOCUMENTED] = f"127.0.0.1:{port}"
        server = start_server(runner.workdir, ["openviking-mcp", "serve", "--with-bot"], port)
    try:
        return [runner.run(doc_blocks) for _ in range(times)]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def test_markers_are_read() -> None:
    """The convention holds: the README's set-up and Claude blocks are marked, the rest run."""
    readme = blocks(README)
    setup = next(block for block in readme if "make run" in block.text)
    assert setup.illustrative
    assert not setup.runs
    claude = [block for block in readme if "claude mcp add" in block.text]
    assert claude
    assert all(block.illustrative for block in claude)
    runnable = [block for block in readme if block.runs]
    assert {block.lang for block in runnable} == {"bash", "python"}
    assert len(runnable) >= 8


@pytest.mark.slow
@pytest.mark.timeout(300)  # two runs of about 30 CLI processes each (about 1 min per run)
def test_readme_runs_twice(runner: DocRunner) -> None:
    """Both runs pass and print what the README promises; the second adds no duplicates."""
    for out in _run_doc(runner, README, times=2):
        assert "- ship it\n- test it" in out
        assert "My project notes" in out
        assert "viking://resources/handbook/releases/releases.md" in out  # find and grep
        assert "viking://resources/hr/oncall/oncall.md" in out
        assert "viking://user/default/skills/search-web" in out  # found right after add_skill
        assert '"account_id": "acme"' in out
        assert '"deleted": true' in out
        assert "retrieval-only mode" in out  # the bot over HTTP and the CLI
    with OpenViking(path=runner.workdir / "data") as ov:
        resources = [entry["uri"] for entry in ov.tree("viking://resources")]
        skills = [entry["name"] for entry in ov.tree("viking://agent/skills", level_limit=1)]
    assert "viking://resources/handbook" in resources
    assert [uri for uri in resources if re.search(r"_\d+(/|$)", uri)] == []
    assert [name for name in skills if name.startswith("my-skill")] == ["my-skill"]


RUNNABLE_DOCS = [doc for doc in DOCS if any(block.runs for block in blocks(doc))]
EXPECTED = {"bot.md": "retrieval-only mode"}


@pytest.mark.slow
@pytest.mark.parametrize("doc", RUNNABLE_DOCS, ids=[doc.name for doc in RUNNABLE_DOCS])
def test_docs_blocks_run(runner: DocRunner, doc: Path) -> None:
    """Each doc with runnable blocks runs top to bottom (a failing block fails the test)."""
    (out,) = _run_doc(runner, doc)
    assert EXPECTED.get(doc.name, "") in out
