"""A scale-out deployment in subprocesses, for tests: ``openviking-mcp serve --no-worker``
front ends and ``openviking-mcp worker`` processes on one PostgreSQL database.

Every process gets its own ``--path`` (a scratch workspace, so nothing is shared through the
filesystem), the same config file (the database, the hashing embedder, a root API key, and
the fake OpenAI-compatible model for summaries, memory extraction and the bot) and a private
HOME. Processes are launched together and waited for together: startup dominates the cost.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.servers import clean_env, exe, free_port

__all__ = ["ROOT_KEY", "Cluster", "Node", "result_of", "wait_task"]

ROOT_KEY = "cluster-root-key-0123456789"
READY_SECONDS = 60.0
WORKER_READY = "queue workers on the postgres backend"


def result_of(response: httpx.Response) -> Any:
    """The ``result`` of a success envelope (the test fails with the body otherwise)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok", body
    return body["result"]


@dataclass
class Node:
    """One process of the cluster; ``url`` is ``None`` for a worker."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        """Whether the server answers ``/health`` with nothing loading, or the worker
        announced its queue workers."""
        if self.url is None:
            return WORKER_READY in self.output()
        try:
            health = httpx.get(f"{self.url}/health", timeout=2)
        except httpx.TransportError:
            return False
        return health.status_code == 200 and "loading" not in health.json()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL when that takes too long."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """Processes on the database ``dsn``, with ``llm_url`` as every model's ``api_base``."""

    folder: Path
    dsn: str
    llm_url: str
    servers: list[Node] = field(default_factory=list)
    workers: list[Node] = field(default_factory=list)

    def config(self) -> dict[str, Any]:
        model = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": self.llm_url,
            "api_key": "sk-fake",
            "max_retries": 0,
        }
        return {
            "storage": {"backend": "postgres", "postgres": {"dsn": self.dsn}},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "server": {"root_api_key": ROOT_KEY},
            "vlm": model,
            "bot": {"model": model},
        }

    def _launch(self, name: str, args: list[str], env: dict[str, str] | None) -> Node:
        home = self.folder / name
        home.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "ov.conf"
        if not conf.exists():
            conf.write_text(json.dumps(self.config()))
        log = home / "process.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [exe("openviking-mcp"), *args, "--config", str(conf), "--path", str(home / "ws")],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**clean_env(home), **(env or {})},
                cwd=home,
            )
        return Node(name, proc, log)

    def launch_server(self, name: str) -> Node:
        """Start a front end (``serve --no-worker --with-bot``) without waiting for it."""
        port = free_port()
        args = ["serve", "--no-worker", "--with-bot", "--port", str(port)]
        node = self._launch(name, [*args, "--log-level", "warning"], None)
        node.url = f"http://127.0.0.1:{port}"
        self.servers.append(node)
        return node

    def launch_worker(self, name: str, env: dict[str, str] | None = None) -> Node:
        """Start a queue worker (``worker``) without waiting for it."""
        node = self._launch(name, ["worker"], env)
        self.workers.append(node)
        return node

    def wait_ready(self, nodes: list[Node], timeout: float = READY_SECONDS) -> None:
        """Wait until every node of ``nodes`` is ready (AssertionError with its log if one
        exits or the time runs out)."""
        deadline = time.monotonic() + timeout
        waiting = list(nodes)
        while waiting:
            waiting = [node for node in waiting if not node.ready()]
            for node in waiting:
                assert node.proc.poll() is None, f"{node.name} exited:\n{node.output()[-4000:]}"
            if waiting:
                assert time.monotonic() < deadline, f"{waiting[0].name}:\n{waiting[0].output()}"
                time.sleep(0.1)

    def start(self, servers: int, workers: int) -> None:
        """Launch the front ends and the workers together and wait for all of them."""
        nodes = [self.launch_server(f"server{chr(ord('a') + i)}") for i in range(servers)]
        nodes += [self.launch_worker(f"worker{i + 1}") for i in range(workers)]
        self.wait_ready(nodes)

    def stop(self) -> None:
        """Stop every process: the workers first, then the front ends, all signalled at
        once."""
        for group in (self.workers, self.servers):
            for node in group:
                if node.proc.poll() is None:
                    node.proc.terminate()
            for node in group:
                node.stop()

    def live_workers(self) -> list[Node]:
        return [node for node in self.workers if node.proc.poll() is None]

    # -- access ----------------------------------------------------------------------------

    def client(self, index: int, key: str, timeout: float = 60) -> httpx.Client:
        """An HTTP client of the front end ``index`` (0 = A) with the API key ``key``."""
        url = self.servers[index].url
        assert url is not None
        return httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=timeout)

    def new_account(self, account: str, admin: str, *users: str) -> dict[str, str]:
        """Create ``account`` (first user ``admin``, then USERs ``users``) through front end A
        with the root key; the API key of each user by name."""
        with self.client(0, ROOT_KEY) as root:
            body = {"account_id": account, "admin_user_id": admin}
            keys = {admin: result_of(root.post("/api/v1/admin/accounts", json=body))["user_key"]}
        with self.client(0, keys[admin]) as owner:
            for user in users:
                made = owner.post(f"/api/v1/admin/accounts/{account}/users", json={"user_id": user})
                keys[user] = result_of(made)["user_key"]
        return keys

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        """The rows of a query on the cluster's database."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())


def wait_task(client: httpx.Client, task_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Poll ``task_id`` through ``client`` until it ends; every record seen, the last one
    final."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = result_of(client.get(f"/api/v1/tasks/{task_id}"))
        seen.append(task)
        if task["status"] in ("completed", "failed", "cancelled"):
            return seen
        assert time.monotonic() < deadline, task
        time.sleep(0.05)
