"""Processes for ``scale_out.py``: a PostgreSQL with pgvector, ``openviking-mcp serve
--no-worker`` front ends and ``openviking-mcp worker`` processes on one database, and the CPU
each group of processes uses (from /proc).

PostgreSQL is the ``pgserver`` package's (PostgreSQL 16 + pgvector, as ``tests/pg.py`` starts
it) in a temporary folder, or an external server given by ``--dsn``; every measurement gets a
database of its own. Every process gets its own ``--path`` (a scratch workspace) and shares
nothing with the others but the database. The embedder is the built-in ``hashing`` one (64
dimensions), in each process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import _vs_servers as servers
import httpx
import psycopg

__all__ = ["Cluster", "CpuMeter", "Postgres", "Proc"]

DIMENSION = 64
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class Postgres:
    """A PostgreSQL server (pgserver in ``folder``, or the external ``dsn``)."""

    def __init__(self, folder: Path, dsn: str | None) -> None:
        self.external = dsn is not None
        self._server = None
        if dsn is None:
            os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver

            self._server = pgserver.get_server(folder, cleanup_mode="stop")  # type: ignore[attr-defined]
            dsn = str(self._server.get_uri())
        self.admin_dsn = dsn
        self.folder = folder

    def pids(self) -> list[int]:
        """The postmaster and its children (none for an external server)."""
        pid_file = self.folder / "postmaster.pid"  # pgserver's data folder is ``folder``
        if self.external or not pid_file.exists():
            return []
        return servers.process_tree(int(pid_file.read_text().split()[0]))

    def version(self) -> str:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT version()").fetchone()
        return str(row[0]).split(" on ")[0] if row else "?"

    def new_database(self, prefix: str) -> str:
        """The DSN of a new empty database."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        info = psycopg.conninfo.conninfo_to_dict(self.admin_dsn)
        info["dbname"] = name
        return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v})

    def drop_database(self, dsn: str) -> None:
        name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._server is not None:
            self._server.cleanup()


@dataclass
class Proc:
    """One started process: ``serve`` (with ``url``) or ``worker``."""

    kind: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def cpu_s(self) -> float:
        return sum(_cpu_seconds(pid) for pid in servers.process_tree(self.popen.pid))


def _env(dsn: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env |= {
        "OPENVIKING__STORAGE__BACKEND": "postgres",
        "OPENVIKING__STORAGE__POSTGRES__DSN": dsn,
        "OPENVIKING__EMBEDDING__DENSE__PROVIDER": "hashing",
        "OPENVIKING__EMBEDDING__DENSE__DIMENSION": str(DIMENSION),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.pop("VIRTUAL_ENV", None)
    return env | extra


@dataclass
class Cluster:
    """Front ends and workers on one database, each in a scratch folder under ``root``."""

    root: Path
    dsn: str
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def _start(self, kind: str, argv: list[str]) -> Proc:
        n = len(self.procs)
        workspace = self.root / f"{kind}-{n}"
        workspace.mkdir(parents=True, exist_ok=True)
        log = self.root / f"{kind}-{n}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [str(servers.OURS_BIN), *argv, "--path", str(workspace), "--log-level", "warning"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_env(self.dsn, self.extra_env),
                cwd=workspace,
                start_new_session=True,
            )
        proc = Proc(kind, popen, log)
        self.procs.append(proc)
        return proc

    def front(self, port: int) -> Proc:
        proc = self._start("front", ["serve", "--no-worker", "--port", str(port)])
        proc.url = f"http://127.0.0.1:{port}"
        _wait(proc, lambda: _healthy(proc.url))
        return proc

    def worker(self) -> Proc:
        proc = self._start("worker", ["worker"])
        _wait(proc, lambda: "queue workers" in proc.log.read_text(errors="replace"))
        return proc

    def of(self, kind: str) -> list[Proc]:
        return [p for p in self.procs if p.kind == kind]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        self.procs.clear()


def _healthy(url: str) -> bool:
    try:
        health = httpx.get(url + "/health", timeout=2, trust_env=False)
    except httpx.TransportError:
        return False
    return health.status_code == 200 and "loading" not in health.json()


def _wait(proc: Proc, ready: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.popen.poll() is not None:
            break
        time.sleep(0.1)
    tail = proc.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{proc.kind} did not start (exit {proc.popen.poll()}):\n{tail}")


def _cpu_seconds(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _CLK_TCK, sum(values) / _CLK_TCK


class CpuMeter:
    """CPU used between :meth:`start` and :meth:`stop`: the machine's (busy share of all
    cores) and, in cores (CPU seconds per second), each group of processes', and what the
    rest of the machine (processes not started here) used."""

    def __init__(self, cluster: Cluster, pg: Postgres) -> None:
        self.cluster, self.pg = cluster, pg

    def _groups(self) -> dict[str, float]:
        groups = {"front": 0.0, "worker": 0.0, "postgres": 0.0}
        for proc in self.cluster.procs:
            groups[proc.kind] += proc.cpu_s()
        groups["postgres"] = sum(_cpu_seconds(pid) for pid in self.pg.pids())
        groups["loadgen"] = time.process_time()
        return groups

    def start(self) -> None:
        self._t0, self._m0, self._g0 = time.perf_counter(), _machine_busy_s(), self._groups()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        busy, total = _machine_busy_s()
        share = (busy - self._m0[0]) / max(1e-9, total - self._m0[1])
        out = {"machine_busy_pct": 100 * share}
        for name, value in self._groups().items():
            out[f"{name}_cores"] = (value - self._g0[name]) / wall
        ours = sum(out[f"{name}_cores"] for name in self._g0)
        out["other_cores"] = share * (os.cpu_count() or 1) - ours  # processes not ours
        return out
