"""Observer: how the parts of a running service are doing, for operators and dashboards.

Each ``observe_*`` method returns one *component* in the original server's shape
``{name, is_healthy, has_errors, status}`` where ``status`` is a pre-rendered text table, plus
``details``: the same facts as JSON (queue depths, index statistics, model ids, held locks,
retrieval settings and latencies). :meth:`ObserverOps.observe_system` combines them with facts
about the host (Python, platform, CPU, memory, disk, uptime, version).

Nothing here reveals a secret: model API keys are reported only as ``api_key_set``, header
values and URL credentials are dropped. Callers below ROOT see the locks of their own account
only; the other figures describe the shared server.

Retrieval latency is measured around :meth:`SearchOps.find` (every surface and every internal
search goes through it) in a small in-memory window: the last :data:`LATENCY_WINDOW` calls.
"""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import shutil
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from openviking_mcp._version import __version__
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.models.llm import model_string
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.ops.search import SearchOps
from openviking_mcp.storage.index import IndexFilter

__all__ = ["LATENCY_WINDOW", "LatencyWindow", "ObserverOps", "render_table"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=ServiceCore)

#: How many recent ``find`` calls the retrieval observer summarises.
LATENCY_WINDOW = 512
#: Files counted at most when measuring the workspace's size (the figure is then partial).
_MAX_WALK_FILES = 200_000
#: Free space below this makes the filesystem component unhealthy (as ``/ready``).
_MIN_FREE_BYTES = 64 * 1024 * 1024
_PROCESS_STARTED = time.time()


class LatencyWindow:
    """Durations of the last ``size`` calls, plus totals since the process started."""

    def __init__(self, size: int = LATENCY_WINDOW) -> None:
        self._recent: deque[float] = deque(maxlen=size)
        self.calls = 0
        self.errors = 0
        self.last_at: float | None = None

    def add(self, seconds: float, *, ok: bool = True) -> None:
        self.calls += 1
        self.errors += 0 if ok else 1
        self.last_at = time.time()
        self._recent.append(seconds)

    def summary(self) -> dict[str, Any]:
        """``{calls, errors, window, mean_ms, p50_ms, p95_ms, max_ms, last_at}`` (ms rounded)."""
        recent = sorted(self._recent)
        out: dict[str, Any] = {
            "calls": self.calls,
            "errors": self.errors,
            "window": len(recent),
            "mean_ms": None,
            "p50_ms": None,
            "p95_ms": None,
            "max_ms": None,
            "last_at": self.last_at,
        }
        if recent:
            out["mean_ms"] = round(sum(recent) / len(recent) * 1000, 3)
            out["p50_ms"] = round(_percentile(recent, 0.50) * 1000, 3)
            out["p95_ms"] = round(_percentile(recent, 0.95) * 1000, 3)
            out["max_ms"] = round(recent[-1] * 1000, 3)
        return out


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence."""
    rank = max(1, min(len(ordered), int(q * len(ordered) + 0.999999)))
    return ordered[rank - 1]


def _latency(service: ServiceCore) -> LatencyWindow:
    window: LatencyWindow | None = service.__dict__.get("_find_latency")
    if window is None:
        window = service.__dict__["_find_latency"] = LatencyWindow()
    return window


def _timed(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """``method`` with its duration recorded in the service's find latency window."""

    @functools.wraps(method)
    async def timed(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        ok = False
        try:
            result = await method(self, *args, **kwargs)
            ok = True
            return result
        finally:
            _latency(self).add(time.perf_counter() - start, ok=ok)

    return timed


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with ``+---+`` borders (the original observer's ``status`` text)."""
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(row: list[str]) -> str:
        return "|" + "|".join(f" {v:<{w}} " for v, w in zip(row, widths, strict=True)) + "|"

    body = [line(r) for r in cells[1:]]
    return "\n".join([rule, line(cells[0]), rule, *body, *([rule] if body else [])])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _component(
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    details: dict[str, Any],
    errors: Sequence[str] = (),
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """``errors`` make the component unhealthy; ``warnings`` only set ``has_errors``."""
    return {
        "name": name,
        "is_healthy": not errors,
        "has_errors": bool(errors or warnings),
        "errors": [*errors, *warnings],
        "status": render_table(headers, rows),
        "details": details,
    }


def _safe_url(url: str | None) -> str | None:
    """``url`` without credentials, query or fragment (they may carry keys)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _model(kind: str, configured: bool, cfg: Any, model_id: str | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "configured": configured,
        "provider": getattr(cfg, "provider", None),
        "model": getattr(cfg, "model", None),
        "model_id": model_id,
        "api_base": _safe_url(getattr(cfg, "api_base", None)),
        "api_key_set": bool(getattr(cfg, "api_key", None)),
        "extra_headers": sorted(getattr(cfg, "extra_headers", {}) or {}),
    }


def _memory() -> dict[str, int | None]:
    """Host memory from ``/proc/meminfo`` and this process's resident size (Linux; else None)."""
    info: dict[str, int | None] = {"total": None, "available": None, "process_rss": None}
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        info["total"] = int(fields["MemTotal"].split()[0]) * 1024
        info["available"] = int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        pass
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            info["process_rss"] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        pass
    return info


def _tree_size(root: Path) -> dict[str, Any]:
    """Bytes and files under ``root`` (stops after :data:`_MAX_WALK_FILES` files)."""
    total = files = 0
    partial = False
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            files += 1
            if files >= _MAX_WALK_FILES:
                partial = True
                break
        if partial:
            break
    return {"bytes": total, "files": files, "partial": partial}


class ObserverOps(SearchOps):
    """The ``/api/v1/observer`` components and the figures ``/metrics`` collects at scrape."""

    find = _timed(SearchOps.find)

    def _index_problem(self) -> str | None:
        if not self._opened:
            return "service is not initialised"
        if self._index_error is not None:
            return self._index_error.message
        if not self.index.is_open:
            return "search index is not open"
        return None

    # -- components --------------------------------------------------------------------

    async def observe_queue(self, ctx: RequestContext) -> dict[str, Any]:
        """Task queue depth by status, priority and type; workers; counters since start."""
        self._require_open()
        rows = await self.db.fetchall(
            "SELECT status, priority, task_type, COUNT(*) AS n FROM tasks "
            "GROUP BY status, priority, task_type ORDER BY status, priority, task_type"
        )
        mine = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM tasks WHERE status='running' AND lease_owner=?",
            (self.tasks.owner,),
        )
        by_status: dict[str, int] = {}
        active: list[dict[str, Any]] = []
        for row in rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
            if row["status"] in ("pending", "running"):
                active.append(
                    {
                        "status": row["status"],
                        "priority": row["priority"],
                        "task_type": row["task_type"],
                        "count": row["n"],
                    }
                )
        stats = dict(self.tasks.stats)
        details = {
            "by_status": by_status,
            "pending": by_status.get("pending", 0),
            "running": by_status.get("running", 0),
            "active": active,
            "workers": {
                "configured": self.config.processing.workers,
                "running_here": int(mine["n"]) if mine is not None else 0,
                "owner": self.tasks.owner,
            },
            "stats": stats,
        }
        table = [(a["task_type"], a["priority"], a["status"], a["count"]) for a in active] or [
            ("(idle)", None, None, 0)
        ]
        errors = (
            [f"{by_status['failed']} failed task(s) retained"] if by_status.get("failed") else []
        )
        return _component(
            "queue", ("Task type", "Priority", "Status", "Count"), table, details, errors
        )

    async def observe_vikingdb(self, ctx: RequestContext) -> dict[str, Any]:
        """The LanceDB table: rows, fragments, version, indexes, size on disk, model."""
        problem = self._index_problem()
        if problem is not None:
            details: dict[str, Any] = {
                "open": False,
                "error": problem,
                "path": str(self.index.path),
            }
            return _component(
                "vikingdb", ("Field", "Value"), [("error", problem)], details, [problem]
            )
        stats = await self.index.stats()
        details = {"open": True, **stats}
        if not ctx.is_root:
            details["account_rows"] = await self.index.count(IndexFilter(account_id=ctx.account_id))
        rows: list[tuple[Any, ...]] = [
            (key, stats.get(key))
            for key in ("rows", "fragments", "small_fragments", "version", "size_bytes")
        ]
        rows += [("model", f"{stats['model_id']} ({stats['dimension']} dims)")]
        rows += [
            (f"index {i['name']}", f"{i['type']} on {','.join(i['columns'])}")
            for i in stats["indexes"]
        ]
        return _component("vikingdb", ("Field", "Value"), rows, details)

    async def observe_models(self, ctx: RequestContext) -> dict[str, Any]:
        """Embedder, LLM (``vlm``), reranker and the bot's chat model: configured or not, and
        their model ids."""
        cfg = self.config
        embedder_error: str | None = None
        try:
            embedder = self.embedder
            embed_id: str | None = embedder.model_id
            dimension: int | None = embedder.dimension or None
        except (OpenVikingError, ValueError, OSError) as exc:
            embed_id, dimension = None, None
            embedder_error = str(exc)
        embedding = _model("embedding", True, cfg.embedding.dense, embed_id)
        embedding["dimension"] = dimension
        embedding["index_model_id"] = self.index.model_id or None
        vlm = _model("vlm", cfg.vlm.configured, cfg.vlm, self.llm.model_id if self.llm else None)
        rerank = _model(
            "rerank",
            cfg.rerank.configured,
            cfg.rerank,
            f"litellm:{self.reranker.model}" if self.reranker else None,
        )
        rerank["threshold"] = cfg.rerank.threshold
        chat = cfg.bot.chat_model(cfg.vlm)  # the bot's model: bot.model, else vlm
        bot = _model(
            "bot",
            chat is not None,
            chat if chat is not None else cfg.bot.model,
            f"litellm:{model_string(chat.provider, chat.model)}" if chat and chat.model else None,
        )
        bot["enabled"] = cfg.bot.enabled
        models = [embedding, vlm, rerank, bot]
        errors = [e for e in (embedder_error, self._index_problem()) if e]
        rows = [
            (m["kind"], "yes" if m["configured"] else "no", m["model_id"], m["api_base"])
            for m in models
        ]
        return _component(
            "models",
            ("Model", "Configured", "Model id", "API base"),
            rows,
            {"embedding": embedding, "vlm": vlm, "rerank": rerank, "bot": bot},
            errors,
        )

    async def observe_lock(self, ctx: RequestContext) -> dict[str, Any]:
        """Path locks held right now (as ``viking://`` URIs, with their account)."""
        held: list[dict[str, str]] = []
        for path in self.locks.held:
            account, _, rest = path.partition("/")
            if ctx.is_root or account == ctx.account_id:
                held.append({"account_id": account, "uri": f"viking://{rest}"})
        details = {"held": held, "count": len(held)}
        rows = [(h["account_id"], h["uri"]) for h in held] or [("-", "(no locks held)")]
        return _component("lock", ("Account", "Locked URI"), rows, details)

    async def observe_retrieval(self, ctx: RequestContext) -> dict[str, Any]:
        """Retrieval settings, whether search can run, and recent ``find`` latencies."""
        problem = self._index_problem()
        latency = _latency(self).summary()
        config = self.config.retrieval.model_dump()
        details = {
            "available": problem is None,
            "config": config,
            "rerank": self.reranker is not None,
            "find_latency": latency,
        }
        rows: list[tuple[Any, ...]] = [
            (key, latency[key]) for key in ("calls", "errors", "p50_ms", "p95_ms", "max_ms")
        ]
        rows += [(f"config.{k}", v) for k, v in config.items()]
        errors = [problem] if problem else []
        return _component("retrieval", ("Metric", "Value"), rows, details, errors)

    async def observe_filesystem(self, ctx: RequestContext) -> dict[str, Any]:
        """The workspace: its path, its size and the free space of the volume it is on."""
        workspace = self.config.workspace
        usage = await self.store.disk_usage() if self._opened else None
        size = await asyncio.to_thread(_tree_size, workspace)
        details = {"workspace": str(workspace), "volume": usage, "workspace_size": size}
        errors = []
        if usage is not None and usage["free"] < _MIN_FREE_BYTES:
            errors.append("disk almost full")
        rows: list[tuple[Any, ...]] = [("workspace", workspace), *size.items()]
        if usage is not None:
            rows += [(f"volume {k}", v) for k, v in usage.items()]
        return _component("filesystem", ("Field", "Value"), rows, details, errors)

    async def observe_system(self, ctx: RequestContext) -> dict[str, Any]:
        """Every component, plus the host: ``{is_healthy, errors, components, system}``."""
        components: dict[str, dict[str, Any]] = {}
        for observe in (
            self.observe_queue,
            self.observe_vikingdb,
            self.observe_models,
            self.observe_lock,
            self.observe_retrieval,
            self.observe_filesystem,
        ):
            component = await observe(ctx)
            components[component["name"]] = component
        errors = [f"{n}: {e}" for n, c in components.items() for e in c["errors"]]
        return {
            "is_healthy": not errors,
            "errors": errors,
            "components": components,
            "system": await asyncio.to_thread(self._host_facts),
        }

    def _host_facts(self) -> dict[str, Any]:
        try:
            disk: dict[str, int] | None = shutil.disk_usage(self.config.workspace)._asdict()
        except OSError:
            disk = None
        try:
            load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            load = None
        return {
            "version": __version__,
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "pid": os.getpid(),
            "cpu": {"count": os.cpu_count(), "load_average": load},
            "memory": _memory(),
            "disk": disk,
            "workspace": str(self.config.workspace),
            "started_at": _PROCESS_STARTED,
            "uptime_seconds": round(time.time() - _PROCESS_STARTED, 3),
            "auth_mode": self.config.server.effective_auth_mode,
        }

    # -- metrics -------------------------------------------------------------------------

    async def metrics_snapshot(self) -> dict[str, Any]:
        """Figures ``/metrics`` reads at each scrape: task counts by status, task counters of
        this process and index rows (``None`` while the index is unusable)."""
        tasks = await self.tasks.counts() if self._opened else {}
        rows: int | None = None
        if self._index_problem() is None:
            try:
                rows = await self.index.count()
            except OpenVikingError:
                rows = None
        bot = getattr(self, "_bot", None)  # the chat bot, once anyone chatted
        return {
            "tasks": tasks,
            "task_stats": dict(self.tasks.stats),
            "index_rows": rows,
            "find_latency": _latency(self).summary(),
            "bot_turns": dict(bot.turns) if bot is not None else {},
            "bot_running": len(bot.streams.running()) if bot is not None else 0,
        }
