"""MCP overhead: tool-call round trips over streamable HTTP against direct service calls.

Builds a small store (``--docs`` files), starts ``openviking-mcp serve`` on it (a real uvicorn
process), and times ``find`` and ``read`` four ways:

* ``direct``: ``ContextService.find`` / ``read_level`` in this process (no MCP, no HTTP);
* ``mcp in-process``: the official MCP client talking to the MCP server in this process
  (SDK dispatch, argument validation, result conversion; no HTTP);
* ``mcp http (raw)``: one JSON-RPC ``tools/call`` POST per call to ``/mcp`` from a plain
  keep-alive HTTP client: the server's cost of MCP over HTTP plus loopback networking;
* ``mcp http (sdk)``: the official MCP client over streamable HTTP (adds the client SDK).

"overhead" is the p50 difference to ``direct``. The embedder is the hashing one by default so
the numbers measure transport and dispatch, not model inference (``--embedder local`` uses
MiniLM).

    .venv/bin/python benchmarks/mcp_overhead.py [--calls 300] [--docs 200] [--embedder hashing]

Prints one table; copy it, with the machine and date, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.mcp_server import build_mcp_server

_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
_QUERIES = ["deploy pipeline", "database migration", "incident review", "api limits"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _time(calls: int, fn: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(min(20, calls)):  # warm-up
        await fn(i)
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        await fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _stats(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95, statistics.fmean(ordered)


async def _seed(service: ContextService, docs: int) -> list[str]:
    ctx = service.dev_context()
    uris = []
    for i in range(docs):
        topic = _QUERIES[i % len(_QUERIES)]
        uri = f"viking://resources/bench/doc-{i:04d}.md"
        text = f"# Note {i} on {topic}\n\n" + f"This note {i} explains the {topic} in detail. " * 8
        await service.write(ctx, uri, text, mode="create")
        uris.append(uri)
    await service.wait_processing(ctx, timeout=600)
    return uris


def _start_server(workspace: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).with_name("openviking-mcp"))
    proc = subprocess.Popen(
        [exe, "serve", "--path", str(workspace), "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--embedder", default="hashing", choices=["hashing", "local"])
    args = parser.parse_args()

    os.environ["OPENVIKING__EMBEDDING__DENSE__PROVIDER"] = args.embedder
    workspace = Path(tempfile.mkdtemp(prefix="ov-mcp-bench-")) / "data"
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": args.embedder}},
        }
    )
    service = ContextService(config)
    await service.initialize()
    uris = await _seed(service, args.docs)
    ctx = service.dev_context()
    port = _free_port()
    proc = _start_server(workspace, port, dict(os.environ))
    url = f"http://127.0.0.1:{port}/mcp"
    rows: list[tuple[str, str, list[float]]] = []
    try:
        calls = args.calls

        async def d_find(i: int) -> Any:
            return await service.find(ctx, _QUERIES[i % 4], limit=10)

        async def d_read(i: int) -> Any:
            return await service.read_level(ctx, uris[i % len(uris)], "full")

        rows.append(("find", "direct", await _time(calls, d_find)))
        rows.append(("read", "direct", await _time(calls, d_read)))

        async with Client(build_mcp_server(service, caller=ctx)) as local:

            async def l_find(i: int) -> Any:
                return await local.call_tool("find", {"query": _QUERIES[i % 4]})

            async def l_read(i: int) -> Any:
                return await local.call_tool("read", {"uris": uris[i % len(uris)]})

            rows.append(("find", "mcp in-process", await _time(calls, l_find)))
            rows.append(("read", "mcp in-process", await _time(calls, l_read)))

        async with httpx.AsyncClient(headers=_HEADERS) as http:

            def rpc(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": name, "arguments": arguments},
                }

            async def r_find(i: int) -> Any:
                reply = await http.post(url, json=rpc("find", {"query": _QUERIES[i % 4]}))
                assert '"isError":false' in reply.text, reply.text[:300]
                return reply

            async def r_read(i: int) -> Any:
                reply = await http.post(url, json=rpc("read", {"uris": uris[i % len(uris)]}))
                assert '"isError":false' in reply.text, reply.text[:300]
                return reply

            rows.append(("find", "mcp http (raw)", await _time(calls, r_find)))
            rows.append(("read", "mcp http (raw)", await _time(calls, r_read)))

            async def health(i: int) -> Any:
                return await http.get(f"http://127.0.0.1:{port}/health")

            rows.append(("GET /health", "plain http (floor)", await _time(calls, health)))

        async with Client(url) as remote:

            async def s_find(i: int) -> Any:
                return await remote.call_tool("find", {"query": _QUERIES[i % 4]})

            async def s_read(i: int) -> Any:
                return await remote.call_tool("read", {"uris": uris[i % len(uris)]})

            rows.append(("find", "mcp http (sdk)", await _time(calls, s_find)))
            rows.append(("read", "mcp http (sdk)", await _time(calls, s_read)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        await service.close()

    direct = {op: _stats(s)[0] for op, path, s in rows if path == "direct"}
    print(
        f"\nMCP round trips: {args.calls} calls each, {args.docs} docs, embedder={args.embedder}, "
        f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}\n"
    )
    print("| tool | path | p50 ms | p95 ms | mean ms | overhead vs direct (p50) |")
    print("|---|---|---|---|---|---|")
    for op, path, samples in rows:
        p50, p95, mean = _stats(samples)
        extra = f"{p50 - direct[op]:+.2f} ms" if op in direct and path != "direct" else ""
        print(f"| {op} | {path} | {p50:.2f} | {p95:.2f} | {mean:.2f} | {extra} |")


if __name__ == "__main__":
    asyncio.run(main())
