"""The HTTP workloads of ``vs_upstream.py``: the same requests, byte for byte, to either server.

Everything goes through the public REST API (``/api/v1/...``) with httpx, in dev mode (no key).
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time
import zipfile
from collections.abc import Sequence
from typing import Any

import httpx

TOPICS = {
    "deploy": "deploy pipeline release rollout canary staging production artifact build",
    "database": "database migration schema index postgres replica backup transaction",
    "incident": "incident outage pager review postmortem timeline mitigation alert",
    "billing": "billing invoice payment subscription refund tax customer plan",
    "security": "security token secret rotation audit access policy encryption",
    "search": "search ranking query embedding vector retrieval relevance recall",
    "network": "network latency dns proxy load balancer timeout packet firewall",
    "mobile": "mobile ios android app store push notification crash build",
    "data": "data warehouse etl batch stream kafka schema lake partition",
    "hiring": "hiring interview candidate offer onboarding team manager role",
}
FILLER = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "for",
    "with",
    "on",
    "team",
    "notes",
    "we",
    "should",
    "about",
    "this",
    "is",
]
SKILL_MD = """---
name: {name}
description: Summarise a deploy pipeline incident and list the follow-up actions.
tags: [bench]
---

# {name}

Read the incident timeline, group events by service, then write a short summary with the
root cause, the impact and three follow-up actions with owners.
"""


def make_docs(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` small deterministic Markdown files (name, text), ~150 words each."""
    rng = random.Random(seed)
    names = list(TOPICS)
    docs = []
    for i in range(count):
        topic = names[i % len(names)]
        words = TOPICS[topic].split()
        paragraphs = [
            " ".join(rng.choice(words if rng.random() < 0.5 else FILLER) for _ in range(50))
            for _ in range(3)
        ]
        title = f"{topic.title()} note {i}: {rng.choice(words)} and {rng.choice(words)}"
        docs.append((f"{topic}-{i:03d}.md", f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"))
    return docs


def labelled_queries(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` (topic, query) pairs: three words of one topic's vocabulary."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        topic = rng.choice(list(TOPICS))
        pairs.append((topic, " ".join(rng.sample(TOPICS[topic].split(), 3))))
    return pairs


def queries(count: int, seed: int = 7) -> list[str]:
    return [text for _, text in labelled_queries(count, seed)]


def zip_bytes(docs: Sequence[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in docs:
            archive.writestr(name, text)
    return buffer.getvalue()


def client(url: str, timeout: float = 900.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    return httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False)


async def call(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    """One request; the envelope's ``result``, or RuntimeError naming the status and body."""
    response = await http.request(method, path, **kwargs)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:400]}")
    body = response.json()
    return body.get("result") if isinstance(body, dict) and "status" in body else body


async def ingest(http: httpx.AsyncClient, docs: Sequence[tuple[str, str]], to: str) -> float:
    """Seconds to upload ``docs`` as one zip (temp_upload) and add it with ``wait=true``."""
    data = zip_bytes(docs)
    started = time.perf_counter()
    files = {"file": (to.rsplit("/", 1)[-1] + ".zip", data, "application/zip")}
    upload = await call(http, "POST", "/api/v1/resources/temp_upload", files=files)
    body = {"temp_file_id": upload["temp_file_id"], "to": to, "wait": True}
    await call(http, "POST", "/api/v1/resources", json=body)
    return time.perf_counter() - started


async def find(http: httpx.AsyncClient, query: str) -> float:
    started = time.perf_counter()
    result = await call(http, "POST", "/api/v1/search/find", json={"query": query, "limit": 10})
    elapsed = time.perf_counter() - started
    if not isinstance(result, dict) or "resources" not in result:
        raise RuntimeError(f"find returned {str(result)[:200]}")
    return elapsed


async def relevance(http: httpx.AsyncClient, pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Sanity of the finds: mean resource hits, and how often the best file is on topic."""
    hits, on_topic = 0, 0
    for topic, text in pairs:
        result = await call(http, "POST", "/api/v1/search/find", json={"query": text, "limit": 10})
        resources = result.get("resources") or []
        files = [str(r.get("uri")) for r in resources if str(r.get("uri")).endswith(".md")]
        hits += len(resources)
        on_topic += bool(files) and f"/{topic}-" in files[0]
    return {"find_hits": hits / len(pairs), "top1_on_topic": on_topic / len(pairs)}


async def find_serial(http: httpx.AsyncClient, texts: Sequence[str]) -> list[float]:
    return [await find(http, text) for text in texts]


async def find_qps(http: httpx.AsyncClient, texts: Sequence[str], concurrency: int) -> float:
    """Finds per second with ``concurrency`` requests in flight until ``texts`` is used up."""
    todo = list(texts)

    async def worker() -> None:
        while todo:
            await find(http, todo.pop())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(texts) / (time.perf_counter() - started)


async def health_qps(http: httpx.AsyncClient, count: int, concurrency: int) -> float:
    """``GET /health`` per second, ``concurrency`` in flight: what the HTTP stack and this
    client allow at most, before any work."""
    todo = count

    async def worker() -> None:
        nonlocal todo
        while todo > 0:
            todo -= 1
            response = await http.get("/health")
            if response.status_code != 200:
                raise RuntimeError(f"/health -> {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def add_skill(http: httpx.AsyncClient, name: str) -> float:
    started = time.perf_counter()
    body = {"data": SKILL_MD.format(name=name), "wait": True}
    await call(http, "POST", "/api/v1/skills", json=body)
    return time.perf_counter() - started


async def session_cycle(http: httpx.AsyncClient, turns: int) -> dict[str, float]:
    """Create a session, add ``turns`` user/assistant pairs, commit, wait for the commit task."""
    t0 = time.perf_counter()
    created = await call(http, "POST", "/api/v1/sessions", json={})
    sid = created["session_id"]
    t1 = time.perf_counter()
    for i in range(turns):
        for role in ("user", "assistant"):
            text = f"Turn {i}: the {role} talks about the deploy pipeline and database backups."
            await call(
                http,
                "POST",
                f"/api/v1/sessions/{sid}/messages",
                json={"role": role, "content": text},
            )
    t2 = time.perf_counter()
    committed = await call(http, "POST", f"/api/v1/sessions/{sid}/commit", json={})
    t3 = time.perf_counter()
    task_id = committed.get("task_id") if isinstance(committed, dict) else None
    if task_id:
        await wait_task(http, str(task_id))
    t4 = time.perf_counter()
    return {
        "create_ms": (t1 - t0) * 1e3,
        "message_ms": (t2 - t1) * 1e3 / (2 * turns),
        "commit_ms": (t3 - t2) * 1e3,
        "commit_done_ms": (t4 - t2) * 1e3,
    }


async def wait_task(http: httpx.AsyncClient, task_id: str, timeout: float = 600.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        task = await call(http, "GET", f"/api/v1/tasks/{task_id}")
        status = str(task.get("status"))
        if status in {"completed", "failed", "cancelled"}:
            if status != "completed":
                raise RuntimeError(f"task {task_id} {status}: {task.get('error')}")
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"task {task_id} still running after {timeout:.0f} s")


async def first_file(http: httpx.AsyncClient, root: str) -> str:
    """A file URI under ``root`` (descending into the first directory when the root has none)."""
    uri = root
    for _ in range(4):
        entries = await call(http, "GET", "/api/v1/fs/ls", params={"uri": uri})
        files = [e["uri"] for e in entries if not e.get("isDir")]
        if files:
            return str(sorted(files)[0])
        dirs = [e["uri"] for e in entries if e.get("isDir")]
        if not dirs:
            break
        uri = sorted(dirs)[0]
    raise RuntimeError(f"no file found under {root}")


async def fs_ops(http: httpx.AsyncClient, root: str, repeat: int) -> dict[str, float]:
    """Median ms of ``ls`` (of ``root``), ``read`` and ``stat`` (of one file) over ``repeat``."""
    target = await first_file(http, root)
    timings: dict[str, list[float]] = {"ls_ms": [], "read_ms": [], "stat_ms": []}
    requests = {
        "ls_ms": ("/api/v1/fs/ls", root),
        "read_ms": ("/api/v1/content/read", target),
        "stat_ms": ("/api/v1/fs/stat", target),
    }
    for _ in range(repeat):
        for key, (path, uri) in requests.items():
            started = time.perf_counter()
            await call(http, "GET", path, params={"uri": uri})
            timings[key].append((time.perf_counter() - started) * 1e3)
    return {key: statistics.median(values) for key, values in timings.items()}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
