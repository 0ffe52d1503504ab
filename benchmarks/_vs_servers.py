"""Install, configure, launch, measure and stop the two servers that ``vs_upstream.py`` compares.

The original server (PyPI ``openviking==0.5.2``) lives in a venv outside the repo,
``~/.cache/openviking-mcp/bench/openviking-0.5.2/``, installed once. Both servers run in dev
mode (no API key, identity default/default, loopback only) on their own workspace, with the
same OpenAI-compatible fake for embeddings (384 dimensions) and chat. Memory and CPU are read
from /proc for the server's whole process tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

UPSTREAM_VERSION = "0.5.2"
UPSTREAM_VENV = (
    Path.home() / ".cache" / "openviking-mcp" / "bench" / f"openviking-{UPSTREAM_VERSION}"
)
REPO = Path(__file__).resolve().parents[1]
OURS_BIN = REPO / ".venv" / "bin" / "openviking-mcp"
DIMENSION = 384
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _upstream_importable() -> bool:
    python = UPSTREAM_VENV / "bin" / "python"
    if not (python.exists() and (UPSTREAM_VENV / "bin" / "openviking-server").exists()):
        return False
    probe = "import openviking, openviking.server.bootstrap; print(openviking.__version__)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return done.returncode == 0 and UPSTREAM_VERSION in done.stdout


def ensure_upstream(log: TextIO = sys.stderr) -> Path:
    """The original server's console script, installing ``openviking==0.5.2`` first if needed."""
    script = UPSTREAM_VENV / "bin" / "openviking-server"
    if _upstream_importable():
        return script
    print(f"installing openviking=={UPSTREAM_VERSION} into {UPSTREAM_VENV} ...", file=log)
    UPSTREAM_VENV.parent.mkdir(parents=True, exist_ok=True)
    if not (UPSTREAM_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", UPSTREAM_VENV], check=True)
    pip = [str(UPSTREAM_VENV / "bin" / "python"), "-m", "pip", "install", "--progress-bar", "off"]
    proc = subprocess.Popen(
        [*pip, f"openviking=={UPSTREAM_VERSION}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # progress: one line per package collected or installed
        if line.startswith(("Collecting", "Installing", "Successfully", "ERROR")):
            print("  " + line.rstrip()[:160], file=log)
    if proc.wait() != 0 or not _upstream_importable():
        raise RuntimeError(f"pip install openviking=={UPSTREAM_VERSION} failed ({proc.returncode})")
    return script


def _models(base_url: str) -> dict[str, Any]:
    dense = {
        "provider": "openai",
        "model": "fake-embed",
        "api_base": base_url,
        "api_key": "sk-fake",
        "dimension": DIMENSION,
    }
    vlm = {"provider": "openai", "model": "fake-chat", "api_base": base_url, "api_key": "sk-fake"}
    return {"embedding": {"dense": dense}, "vlm": vlm}


def write_conf(kind: str, workspace: Path, port: int, base_url: str) -> Path:
    """An ov.conf for ``kind`` ("theirs" or "ours"): dev mode, the fake models, ``workspace``."""
    workspace.mkdir(parents=True, exist_ok=True)
    conf: dict[str, Any] = {
        "storage": {"workspace": str(workspace)},
        "server": {"host": "127.0.0.1", "port": port},
        **_models(base_url),
    }
    if kind == "ours":
        conf["vlm"]["max_retries"] = 0
    path = workspace.parent / f"{kind}-ov.conf"
    path.write_text(json.dumps(conf, indent=2))
    return path


def command(kind: str, conf: Path, port: int) -> list[str]:
    if kind == "ours":
        return [str(OURS_BIN), "serve", "--config", str(conf), "--port", str(port)]
    script = UPSTREAM_VENV / "bin" / "openviking-server"
    return [str(script), "--config", str(conf), "--port", str(port), "--host", "127.0.0.1"]


@dataclass
class Server:
    kind: str
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path
    startup_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def tree(self) -> list[int]:
        return process_tree(self.proc.pid)

    def rss_mb(self) -> float:
        return sum(_rss_bytes(pid) for pid in self.tree()) / 2**20

    def cpu_s(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.tree())


def launch(kind: str, conf: Path, port: int, timeout: float = 300.0) -> Server:
    """Start a server in its own session and wait for a 200 on ``/health`` (``startup_s``),
    then until ``/health`` names nothing still loading (``extra["started_s"]``: a server
    that starts in the background answers ``/health`` before it can serve)."""
    log_path = conf.parent / f"{kind}-server.log"
    env = {**os.environ, "OPENVIKING_CONFIG_FILE": str(conf), "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("VIRTUAL_ENV", None)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command(kind, conf, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=conf.parent,
            env=env,
            start_new_session=True,
        )
    server = Server(kind, proc, f"http://127.0.0.1:{port}", log_path)
    deadline = started + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{kind} server exited with {proc.returncode}:\n{tail}")
            try:
                health = client.get(server.url + "/health")
                if health.status_code == 200 and not server.startup_s:
                    server.startup_s = time.perf_counter() - started
                if health.status_code == 200 and "loading" not in health.json():
                    server.extra["started_s"] = time.perf_counter() - started
                    return server
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.05)
    stop(server)
    raise RuntimeError(f"{kind} server gave no 200 on /health within {timeout:.0f} s")


def stop(server: Server) -> None:
    """SIGTERM the server's process group (it was started in a session of its own), then KILL."""
    if server.proc.poll() is None:
        try:
            os.killpg(server.proc.pid, signal.SIGTERM)
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
        except ProcessLookupError:
            pass


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (state) on, so index 1 is the ppid; [] once it has exited."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return raw[raw.rindex(")") + 2 :].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK if fields else 0.0  # utime + stime


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0
