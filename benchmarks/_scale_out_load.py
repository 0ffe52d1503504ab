"""The HTTP load of ``scale_out.py``: a fixed number of concurrent clients spread round-robin
over the front ends, for a fixed time; and ingest through one front end, timed from submit to
every task completed.

The clients are ``httpx2`` async clients (one connection pool per front end): at tens of
requests in flight ``httpx`` 0.29 costs several ms of the load generator's own CPU per
request, ``httpx2`` about one (``write_load.py`` measured both), and on 2 cores the load
generator's CPU is taken from the servers.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import _vs_workload as work
import httpx2

__all__ = ["Load", "call", "clients", "drive", "ingest_parts", "percentile"]

Request = Callable[[httpx2.AsyncClient, int], Awaitable[None]]


@dataclass
class Load:
    """The outcome of one timed load."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> dict[str, float]:
        lat = self.latencies_ms
        return {
            "requests": float(len(lat)),
            "qps": len(lat) / self.seconds if self.seconds else 0.0,
            "p50_ms": percentile(lat, 0.5),
            "p95_ms": percentile(lat, 0.95),
            "errors": float(len(self.errors)),
        }


def percentile(values: Sequence[float], fraction: float) -> float:
    return work.percentile(values, fraction) if values else float("nan")


def clients(urls: Sequence[str], concurrency: int) -> list[httpx2.AsyncClient]:
    """One keep-alive client per front end, each with room for every concurrent client."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return [
        httpx2.AsyncClient(base_url=url, timeout=600, limits=limits, trust_env=False)
        for url in urls
    ]


async def call(http: httpx2.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    """One request; the envelope's ``result``, or RuntimeError naming the status and body."""
    response = await http.request(method, path, **kwargs)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
    body = response.json()
    return body.get("result") if isinstance(body, dict) and "status" in body else body


async def drive(
    https: Sequence[httpx2.AsyncClient], concurrency: int, seconds: float, request: Request
) -> Load:
    """``concurrency`` clients, client ``i`` on front end ``i % len(https)``, each sending
    ``request(http, n)`` back to back (``n`` counts requests over all clients) for
    ``seconds``."""
    load, counter = Load(), itertools.count()
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        http = https[i % len(https)]
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await request(http, next(counter))
            except Exception as exc:  # counted, not fatal
                load.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            load.latencies_ms.append((time.perf_counter() - started) * 1e3)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    load.seconds = time.perf_counter() - started
    return load


async def _task_done(http: httpx2.AsyncClient, task_id: str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        task = await call(http, "GET", f"/api/v1/tasks/{task_id}")
        status = str(task.get("status"))
        if status in {"completed", "failed", "cancelled"}:
            if status != "completed":
                raise RuntimeError(f"task {task_id} {status}: {task.get('error')}")
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"task {task_id} not done after {timeout:.0f} s")


async def ingest_parts(
    http: httpx2.AsyncClient, parts: Sequence[tuple[str, bytes]], timeout: float = 1800.0
) -> dict[str, float]:
    """Upload each ``(target URI, zip)`` (``temp_upload``), then submit them all without
    ``wait`` and poll until every task is completed. Seconds of the uploads, and from the
    first submit to the last task completed."""
    started = time.perf_counter()
    uploads = []
    for target, data in parts:
        files = {"file": (target.rsplit("/", 1)[-1] + ".zip", data, "application/zip")}
        upload = await call(http, "POST", "/api/v1/resources/temp_upload", files=files)
        uploads.append((target, upload["temp_file_id"]))
    submitted = time.perf_counter()
    task_ids = []
    for target, temp_id in uploads:
        body = {"temp_file_id": temp_id, "to": target, "wait": False}
        accepted = await call(http, "POST", "/api/v1/resources", json=body)
        task_ids.append(str(accepted["task_id"]))
    await asyncio.gather(*(_task_done(http, tid, timeout) for tid in task_ids))
    done = time.perf_counter()
    return {"upload_s": submitted - started, "submit_to_done_s": done - submitted}
