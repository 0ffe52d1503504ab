"""The observer service: one component per part of the running service, the host's facts
and the figures ``/metrics`` collects at scrape time (see :mod:`openviking_mcp.contract.observer`).

Recent ``find`` latencies come from the search service's
:class:`~openviking_mcp.search.latency.LatencyWindow`; the chat bot's turn counters from a
callable that answers the bot once anyone chatted (``None`` before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass, field
from typing import Protocol

from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.observer import (
    ActiveTasks,
    BotModel,
    Component,
    EmbeddingModel,
    FilesystemComponent,
    FilesystemDetails,
    HeldLock,
    IndexDetails,
    IndexUnavailable,
    LatencySummary,
    LockComponent,
    LockDetails,
    ModelInfo,
    ModelsComponent,
    ModelsDetails,
    QueueComponent,
    QueueDetails,
    RerankModel,
    RetrievalComponent,
    RetrievalDetails,
    SystemResult,
    VikingDBComponent,
    Workers,
)
from openviking_mcp.models.llm import model_string
from openviking_mcp.observer.queue import queue_table, workers_alive
from openviking_mcp.observer.report import component, host_facts, model_info, tree_size
from openviking_mcp.observer.status_text import (
    filesystem_text,
    lock_text,
    models_text,
    retrieval_text,
    vikingdb_text,
)
from openviking_mcp.search.latency import LatencyWindow
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.store import Store
from openviking_mcp.tasks.failures import failure_summary, queue_counters

__all__ = ["ChatActivity", "MetricsSnapshot", "ObserverService"]

#: Free space below this makes the filesystem component unhealthy (as ``/ready``).
_MIN_FREE_BYTES = 64 * 1024 * 1024


class _Streams(Protocol):
    async def running(self) -> Sized: ...


class ChatActivity(Protocol):
    """What the observer reads of the chat bot: finished turns by ``(mode, outcome)`` and the
    streams of the turns running now."""

    @property
    def turns(self) -> Mapping[tuple[str, str], int]: ...

    @property
    def streams(self) -> _Streams: ...


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Figures ``/metrics`` reads at each scrape: task counts by status, task counters of this
    process, index rows (``None`` while the index is unusable), find latencies and chat turns."""

    tasks: dict[str, int] = field(default_factory=dict)
    task_stats: dict[str, int] = field(default_factory=dict)
    index_rows: int | None = None
    find_latency: LatencySummary = field(default_factory=LatencySummary)
    bot_turns: dict[tuple[str, str], int] = field(default_factory=dict)
    bot_running: int = 0


class ObserverService:
    """See the module docs."""

    def __init__(
        self,
        store: Store,
        latency: LatencyWindow,
        bot: Callable[[], ChatActivity | None] = lambda: None,
    ) -> None:
        self._store = store
        self._latency = latency
        self._bot = bot

    def _index_problem(self) -> str | None:
        store = self._store
        if not store.opened:
            return "service is not initialised"
        if store.index_error is not None:
            return store.index_error.message
        if not store.index.is_open:
            return "search index is not open"
        return None

    # -- components --------------------------------------------------------------------

    async def _queue_details(self) -> QueueDetails:
        store = self._store
        rows = await store.db.fetchall(
            "SELECT status, priority, task_type, COUNT(*) AS n FROM tasks "
            "GROUP BY status, priority, task_type ORDER BY status, priority, task_type"
        )
        mine = await store.db.fetchone(
            "SELECT COUNT(*) AS n FROM tasks WHERE status='running' AND lease_owner=?",
            (store.tasks.owner,),
        )
        by_status: dict[str, int] = {}
        active: list[ActiveTasks] = []
        for row in rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
            if row["status"] in ("pending", "running"):
                active.append(
                    ActiveTasks(
                        status=row["status"],
                        priority=row["priority"],
                        task_type=row["task_type"],
                        count=row["n"],
                    )
                )
        workers = Workers(
            configured=store.config.processing.workers,
            running_here=int(mine["n"]) if mine is not None else 0,
            owner=store.tasks.owner,
        )
        return QueueDetails(
            by_status=by_status,
            pending=by_status.get("pending", 0),
            running=by_status.get("running", 0),
            active=active,
            workers=workers,
            stats=dict(store.tasks.stats),
        )

    async def queue(self, ctx: RequestContext, req: Empty) -> QueueComponent:
        """Task queue depth by status, priority and type; workers; counters since start; per
        queue (the original's table); failed tasks. Failed tasks are reported as a warning:
        they never make the queue unhealthy, dead workers do."""
        store = self._store
        store.require_open()
        details = await self._queue_details()
        details.queues = await queue_counters(store, ctx)
        details.failures = await failure_summary(store, ctx)
        table = queue_table(details.queues, details.by_status)
        errors = [] if workers_alive(store) else ["queue workers are not running"]
        failed = details.failures.failed
        warnings = [f"{failed} failed task(s) retained"] if failed else []
        headers = ("Queue", "Pending", "In Progress", "Processed", "Requeued", "Errors", "Total")
        return component(QueueComponent, "queue", headers, table, details, errors, warnings)

    async def vikingdb(self, ctx: RequestContext, req: Empty) -> VikingDBComponent:
        """The LanceDB table: rows, fragments, version, indexes, size on disk, model."""
        index = self._store.index
        headers = ("Field", "Value")
        problem = self._index_problem()
        if problem is not None:
            down = IndexUnavailable(error=problem, path=str(index.path))
            return component(
                VikingDBComponent, "vikingdb", headers, [("error", problem)], down, [problem]
            )
        stats = await index.stats()
        details = IndexDetails.model_validate({"open": True, **stats})
        vectors = stats["rows"]
        if not ctx.is_root:
            details.account_rows = vectors = await index.count(
                IndexFilter(account_id=ctx.account_id)
            )
        text = vikingdb_text(self._table_name(), len(stats["indexes"]), vectors, True)
        return component(VikingDBComponent, "vikingdb", (), (), details, text=text)

    def _table_name(self) -> str:
        if self._store.postgres is not None:
            from openviking_mcp.storage.postgres._index_rows import TABLE

            return TABLE
        from openviking_mcp.storage.index import TABLE_NAME  # loads with the open index

        return TABLE_NAME

    def _embedding(self) -> tuple[EmbeddingModel, str | None]:
        """The embedder's facts, and why it cannot be built (``None`` if it can)."""
        store = self._store
        error: str | None = None
        try:
            embedder = store.embedder
            embed_id: str | None = embedder.model_id
            dimension: int | None = embedder.dimension or None
        except (OpenVikingError, ValueError, OSError) as exc:
            embed_id, dimension = None, None
            error = str(exc)
        info = model_info(
            EmbeddingModel,
            "embedding",
            True,
            store.config.embedding.dense,
            embed_id,
            dimension=dimension,
            index_model_id=store.index.model_id or None,
        )
        return info, error

    def _models(self) -> tuple[ModelsDetails, str | None]:
        store, cfg = self._store, self._store.config
        embedding, error = self._embedding()
        llm_id = store.llm.model_id if store.llm else None
        vlm = model_info(ModelInfo, "vlm", cfg.vlm.configured, cfg.vlm, llm_id)
        rerank_id = f"litellm:{store.reranker.model}" if store.reranker else None
        rerank = model_info(
            RerankModel,
            "rerank",
            cfg.rerank.configured,
            cfg.rerank,
            rerank_id,
            threshold=cfg.rerank.threshold,
        )
        chat = cfg.bot.chat_model(cfg.vlm)  # the bot's model: bot.model, else vlm
        bot_id = (
            f"litellm:{model_string(chat.provider, chat.model)}" if chat and chat.model else None
        )
        bot = model_info(
            BotModel,
            "bot",
            chat is not None,
            chat if chat is not None else cfg.bot.model,
            bot_id,
            enabled=cfg.bot.enabled,
        )
        return ModelsDetails(embedding=embedding, vlm=vlm, rerank=rerank, bot=bot), error

    async def models(self, ctx: RequestContext, req: Empty) -> ModelsComponent:
        """Embedder, LLM (``vlm``), reranker and the bot's chat model: configured or not, and
        their model ids."""
        details, embedder_error = self._models()
        errors = [e for e in (embedder_error, self._index_problem()) if e]
        text = models_text((details.embedding, details.vlm, details.rerank, details.bot))
        return component(ModelsComponent, "models", (), (), details, errors, text=text)

    async def lock(self, ctx: RequestContext, req: Empty) -> LockComponent:
        """Path locks held right now (as ``viking://`` URIs, with their account)."""
        held: list[HeldLock] = []
        for path in self._store.locks.held:
            account, _, rest = path.partition("/")
            if ctx.is_root or account == ctx.account_id:
                held.append(HeldLock(account_id=account, uri=f"viking://{rest}"))
        details = LockDetails(held=held, count=len(held))
        return component(LockComponent, "lock", (), (), details, text=lock_text(held))

    async def retrieval(self, ctx: RequestContext, req: Empty) -> RetrievalComponent:
        """Retrieval settings, whether search can run, and recent ``find`` latencies."""
        problem = self._index_problem()
        latency = self._latency.summary()
        config = self._store.config.retrieval.model_dump()
        details = RetrievalDetails(
            available=problem is None,
            config=config,
            rerank=self._store.reranker is not None,
            find_latency=latency,
        )
        errors = [problem] if problem else []
        text = retrieval_text(latency, config)
        return component(RetrievalComponent, "retrieval", (), (), details, errors, text=text)

    async def filesystem(self, ctx: RequestContext, req: Empty) -> FilesystemComponent:
        """The workspace: its path, its size and the free space of the volume it is on."""
        store = self._store
        workspace = store.config.workspace
        usage = await store.content.disk_usage() if store.opened else None
        size = await asyncio.to_thread(tree_size, workspace)
        details = FilesystemDetails(workspace=str(workspace), volume=usage, workspace_size=size)
        errors = []
        if usage is not None and usage["free"] < _MIN_FREE_BYTES:
            errors.append("disk almost full")
        text = filesystem_text(details)
        return component(FilesystemComponent, "filesystem", (), (), details, errors, text=text)

    async def system(self, ctx: RequestContext, req: Empty) -> SystemResult:
        """Every component, plus the host: ``{is_healthy, errors, components, system}``;
        ``is_healthy`` when every component is, ``errors`` every component's errors and
        warnings (failed tasks are a warning of the queue)."""
        components: dict[str, Component] = {}
        for observe in (
            self.queue,
            self.vikingdb,
            self.models,
            self.lock,
            self.retrieval,
            self.filesystem,
        ):
            found: Component = await observe(ctx, req)
            components[found.name] = found
        errors = [f"{n}: {e}" for n, c in components.items() for e in c.errors]
        cfg = self._store.config
        host = await asyncio.to_thread(host_facts, cfg.workspace, cfg.server.effective_auth_mode)
        # as the original: healthy when every component is; ``errors`` also lists warnings
        healthy = all(c.is_healthy for c in components.values())
        return SystemResult(is_healthy=healthy, errors=errors, components=components, system=host)

    # -- metrics -------------------------------------------------------------------------

    async def metrics_snapshot(self) -> MetricsSnapshot:
        """The figures ``/metrics`` reads at each scrape (see :class:`MetricsSnapshot`)."""
        store = self._store
        tasks = await store.tasks.counts() if store.opened else {}
        rows: int | None = None
        if self._index_problem() is None:
            try:
                rows = await store.index.count()
            except OpenVikingError:
                rows = None
        bot = self._bot()
        return MetricsSnapshot(
            tasks=tasks,
            task_stats=dict(store.tasks.stats),
            index_rows=rows,
            find_latency=self._latency.summary(),
            bot_turns=dict(bot.turns) if bot is not None else {},
            bot_running=len(await bot.streams.running()) if bot is not None else 0,
        )
