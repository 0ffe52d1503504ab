"""``ContextService``: the composition root that every surface (MCP, HTTP, CLI, Python) uses.

It opens one :class:`~openviking_mcp.store.Store` (content, metadata, index, queue, models,
events) and builds the feature services over it, each exposed as an attribute
(``svc.fs``, ``svc.content``, ``svc.retrieval``...). Every operation is a feature service method
``(ctx, request) -> result`` over the contract models; this module only wires them together,
including who subscribes to which event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from openviking_mcp._version import __version__
from openviking_mcp.admin.service import AdminService
from openviking_mcp.analytics.service import AnalyticsService
from openviking_mcp.audit.service import AuditService
from openviking_mcp.auth.service import AuthService
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.content.service import ContentService
from openviking_mcp.contract import search as search_contract
from openviking_mcp.contract.audit_scope import audit_kind
from openviking_mcp.contract.base import parse_request, to_wire
from openviking_mcp.contract.catalog import BY_NAME, OPERATIONS
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.operations import Operation
from openviking_mcp.contract.scopes import check_operation_scope
from openviking_mcp.debug.service import DebugService
from openviking_mcp.eventlog.service import EventLogService
from openviking_mcp.events import MessagesAdded, SessionDeleted, TextIndexed, TextRead
from openviking_mcp.fs.service import FilesystemService
from openviking_mcp.indexing.service import IndexingService
from openviking_mcp.mcp_registry.service import McpRegistryService
from openviking_mcp.memory.commit import CommitService
from openviking_mcp.memory.memory_file import parse_memory
from openviking_mcp.memory.service import MemoryService
from openviking_mcp.models.base import Embedder
from openviking_mcp.oauth.service import OAuthService
from openviking_mcp.observer.service import ObserverService
from openviking_mcp.pack.service import PackService
from openviking_mcp.privacy.service import PrivacyService
from openviking_mcp.ratelimit.service import RateLimitService
from openviking_mcp.relations.service import RelationService
from openviking_mcp.resources.netguard import check_public_url
from openviking_mcp.resources.service import ADD_RESOURCE_TASK, ResourceService
from openviking_mcp.search.service import SearchService
from openviking_mcp.sessions.layout import SESSION_COMMIT_TASK
from openviking_mcp.sessions.service import SessionService
from openviking_mcp.skills.importer import SkillImporter
from openviking_mcp.skills.service import SkillService
from openviking_mcp.startup import Startup
from openviking_mcp.storage import ContentStore
from openviking_mcp.store import Store
from openviking_mcp.tags.service import TagService
from openviking_mcp.tasks.service import TaskService
from openviking_mcp.uploads.service import UploadService
from openviking_mcp.webdav.service import WebDAVService
from openviking_mcp.webhooks.dispatcher import WEBHOOK_DELIVERY_TASK
from openviking_mcp.webhooks.service import WebhookService

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from openviking_mcp.observer.service import ChatActivity

__all__ = ["OPERATIONS", "ContextService"]

_TRUSTED = ("allow_local_paths", "allow_paths", "allow_command")


async def _public_url_check(url: str) -> object:
    """The URL-import address guard, for MCP servers imported by untrusted callers."""
    return await check_public_url(url, allow_private=False)


class ContextService:
    """The store. Call :meth:`initialize` before use and :meth:`close` after.

    ``store`` replaces the local content filesystem, ``embedder`` the configured embedder and
    ``chat_model`` the bot's model (tests inject fakes here, as pydantic-ai's ``TestModel``):
    the service only keeps it for the surfaces that build a
    :class:`~openviking_mcp.bot.service.ChatService` over it (the service never builds the
    bot). ``chat_activity`` is the bot such a chat service runs, once built (``/metrics``).
    ``index_on_demand``: the search index opens on first use, not in :meth:`initialize`.
    ``background_tasks=False`` (or ``processing.worker: false``): :meth:`initialize` starts
    neither the task queue's workers nor the commit scanner (queued work waits for a service
    that runs them).
    """

    def __init__(
        self,
        config: OpenVikingConfig | None = None,
        *,
        store: ContentStore | None = None,
        embedder: Embedder | None = None,
        chat_model: Model | None = None,
        index_on_demand: bool = False,
        background_tasks: bool = True,
    ) -> None:
        self.config = config or OpenVikingConfig()
        self._background_tasks = background_tasks and self.config.processing.worker
        self.chat_model = chat_model
        self.chat_activity: ChatActivity | None = None
        self.store = Store(
            self.config, content=store, embedder=embedder, index_on_demand=index_on_demand
        )
        self.fs = FilesystemService(self.store)
        self.indexing = IndexingService(self.store, self.config.semantic)
        self.content = ContentService(self.store, self.fs, self.indexing)
        self.tags = TagService(self.store, lambda text: parse_memory(text).fields)
        self.auth = AuthService(self.store)
        self.oauth = OAuthService(self.store, self.config.oauth, self.auth.resolve_api_key)
        self.admin = AdminService(self.store)
        self.audit = AuditService(self.store)
        self.eventlog = EventLogService(self.store)
        self.store.tasks.finish_listeners.append(self.eventlog.on_task_finished)
        self.analytics = AnalyticsService(self.store)
        self.webdav = WebDAVService(self.store, self.fs, self.content)
        self.debug = DebugService(self.store)
        self.uploads = UploadService(self.store)
        self.privacy = PrivacyService(self.store)
        self.relations = RelationService(self.store)
        self.ratelimits = RateLimitService(self.config.rate_limits)
        self.skills = SkillService(
            self.store, self.privacy, self.uploads, self.indexing, self._find_skill_hits
        )
        self.skill_import = SkillImporter(self.store, self.skills, _public_url_check)
        self.mcp_registry = McpRegistryService(
            self.store, self.skills, self.skill_import, self.privacy
        )
        self.sessions = SessionService(self.store)
        self.pack = PackService(self.store, self.indexing, self.uploads)
        self.tasks = TaskService(self.store)
        self.resources = ResourceService(self.store, self.indexing, self.uploads, self.tags)
        # ``retrieval``, not ``search``: ``svc.search(ctx, ...)`` is the search operation.
        self.retrieval = SearchService(self.store, self.relations, self.sessions.recent_texts)
        self.assembler = self.retrieval.assembler
        self.memory = MemoryService(self.store, self.indexing, self.sessions, self._find_memories)
        self.commits = CommitService(self.store, self.sessions, self.memory)
        self.observer = ObserverService(
            self.store, self.retrieval.latency, bot=lambda: self.chat_activity
        )
        self.tasks.register(
            ADD_RESOURCE_TASK, self.resources.run_import, retry=self.resources.retry_import
        )
        self.tasks.register(
            SESSION_COMMIT_TASK, self.commits.run_phase2, retry=self.commits.retry_task
        )
        self.webhooks = WebhookService(self.store)
        dispatcher = self.webhooks.dispatcher
        self.tasks.register(
            WEBHOOK_DELIVERY_TASK, dispatcher.run_delivery, retry=dispatcher.retry_delivery
        )
        self._init_lock = asyncio.Lock()
        #: The running or finished start (:meth:`start`); ``None`` before it.
        self.startup: Startup | None = None
        self._subscribe()

    async def _find_memories(
        self, ctx: RequestContext, query: str, target_uri: str, limit: int
    ) -> dict[str, Any]:
        """The memory extractor's view of existing memories: a ``find`` under ``target_uri``."""
        request = search_contract.FindRequest(
            query=query, target_uri=target_uri, context_type="memory", limit=limit
        )
        return (await self.retrieval.find(ctx, request)).wire()

    async def _find_skill_hits(
        self, ctx: RequestContext, request: search_contract.FindRequest
    ) -> search_contract.FindResult:
        """The skill search's retrieval: the search feature's ``find``."""
        return await self.retrieval.find(ctx, request)

    def _subscribe(self) -> None:
        """Who reacts to which event, in the order the handlers run."""
        events = self.store.events
        # tags before indexing: the refresh of a moved or copied path reads its tags
        self.tags.subscribe(events)
        self.indexing.subscribe(events)
        self.audit.subscribe(events)
        self.eventlog.subscribe(events)
        events.subscribe_filter(TextRead, self.memory.for_reader)
        events.subscribe_filter(TextRead, self.skills.restore_for_reader)
        events.subscribe_filter(TextIndexed, self.memory.for_index)
        events.subscribe(MessagesAdded, self.commits.on_messages_added)
        events.subscribe(SessionDeleted, self.memory.on_session_deleted)

    def __getattr__(self, name: str) -> Any:
        """``svc.<operation>(ctx, *args, **kwargs)``: every operation of the catalog as a thin
        delegating method (positional arguments as the operation's ``args``), answering its
        JSON form. The feature services themselves are the attributes set in ``__init__``."""
        op = BY_NAME.get(name)
        if op is None:
            raise AttributeError(name)
        return self._bound(op)

    def _bound(self, op: Operation) -> Callable[..., Awaitable[Any]]:
        async def bound(ctx: RequestContext, *args: Any, **kwargs: Any) -> Any:
            if len(args) > len(op.args):
                raise TypeError(f"{op.name}() takes at most {len(op.args)} positional arguments")
            data = dict(zip(op.args, args, strict=False))
            data.update(kwargs)
            options = data.pop("options", None)  # the clients' mapping of further fields
            if isinstance(options, Mapping):
                data.update(options)
            trusted = {k: data.pop(k) for k in _TRUSTED if k in data}
            return await self.call(ctx, op.name, data, **trusted)

        return bound

    async def call(
        self, ctx: RequestContext, name: str, arguments: Mapping[str, Any], **trusted: Any
    ) -> Any:
        """Run the operation ``name`` for ``ctx``: ``arguments`` validated as its request, the
        answer in its JSON form. ``trusted`` options (local paths, commands) come from the
        caller's code, never from a request."""
        op = BY_NAME.get(name)
        if op is None:
            raise AttributeError(f"no operation {name!r}")
        check_operation_scope(ctx, name)
        method = getattr(getattr(self, op.feature), op.method)
        request = parse_request(op.request, arguments)
        async with self.audit.track(ctx, op.name, audit_kind(op), request):
            result = await method(ctx, request, **trusted)
            self.analytics.observe(ctx, op.name, request, result)
            await self.eventlog.after_operation(ctx, op.name, request, result)
            return to_wire(result)

    @property
    def initialized(self) -> bool:
        return self.store.opened

    async def initialize(self) -> None:
        """Open storage, apply migrations and create the default account's preset tree."""
        async with self._init_lock:
            if self.store.opened:
                return
            await self.store.open()
            try:
                account, user = self.config.default_account, self.config.default_user
                await self.store.accounts.ensure_user(account, user, Role.ADMIN)
                await self.store.ensure_layout(account, user)
                await self.uploads.purge()
                if self._background_tasks:
                    await self.store.tasks.start()
                    self.commits.start_scanner()
                    self.webhooks.dispatcher.start()
                    self.mcp_registry.scheduler.start()
            except BaseException:
                await self.store.close()
                raise

    async def start(
        self, *, background: bool = False, install_bundled_skills: bool = False
    ) -> Startup:
        """Open the storage, then, when asked, install the bundled skills. ``background``:
        return at once, load the embedding model alongside the storage (rather than on first
        use), and let requests wait for both (:meth:`Startup.wait_serving`, at most
        ``server.startup_wait_seconds``)."""
        if self.startup is None:
            model = self._load_embedder if background else None
            skills = self.ensure_bundled_skills if install_bundled_skills else None
            wait = self.config.server.startup_wait_seconds
            self.startup = Startup(self.initialize, model, skills, wait_seconds=wait)
            if background:
                self.startup.start()
            else:
                await self.startup.run()
        return self.startup

    async def _load_embedder(self) -> None:
        await self.store.embedder.load()

    async def close(self) -> None:
        if self.startup is not None:
            await self.startup.close()
        async with self._init_lock:
            if not self.store.opened:
                return
            await self.commits.stop_scanner()
            await self.webhooks.dispatcher.stop()
            await self.mcp_registry.scheduler.stop()
            await self.store.close()

    async def ensure_bundled_skills(self) -> dict[str, Any] | None:
        """On a fresh workspace, install the bundled skills into the default account once
        (a start-up step of ``serve``; ``None`` when they were installed before)."""
        report = await self.skills.ensure_bundled()
        return report.wire() if report is not None else None

    # -- identities ------------------------------------------------------------------------

    def dev_context(self) -> RequestContext:
        """Identity of dev mode: the default user (ADMIN of the default account), never ROOT."""
        return self.auth.dev_context()

    async def local_context(
        self, account_id: str | None = None, user_id: str | None = None
    ) -> RequestContext:
        """Identity of an embedded client: the user is created on first use with its space
        (the first user of an account becomes its ADMIN, later ones USERs)."""
        return await self.auth.local_context(account_id, user_id)

    # -- health ----------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Why the server cannot serve now (empty: it can). Failed tasks are not a reason."""
        store = self.store
        startup = self.startup
        if startup is not None and not startup.serving and startup.error is None:
            return [f"starting (loading: {', '.join(startup.loading)})"]
        if not store.opened:
            return ["service is not initialised"]
        found = []
        if store.index_error is not None:
            found.append(f"search index unavailable: {store.index_error.message}")
        if self._background_tasks and store.tasks.live_workers == 0:
            found.append("queue workers are not running")
        return found

    def health(self) -> dict[str, Any]:
        """Liveness: ``status`` is ``ok`` while the process answers; ``healthy`` says whether
        it can serve (see :meth:`problems`)."""
        problems = self.problems()
        report: dict[str, Any] = {
            "status": "ok",
            "healthy": not problems,
            "version": __version__,
            "auth_mode": self.config.server.effective_auth_mode,
        }
        if problems:
            report["problems"] = problems
        if self.startup is not None and self.startup.loading:
            report["loading"] = self.startup.loading
        return report

    async def health_status(self, ctx: RequestContext | None = None) -> dict[str, Any]:
        """:meth:`health`, plus ``account_id``/``user_id``/``role`` of ``ctx`` (the caller
        that sent credentials) and the failed tasks (``tasks``; the newest failure's id and
        message only when ``ctx`` may see that task)."""
        report = self.health()
        if ctx is not None:
            report.update(account_id=ctx.account_id, user_id=ctx.user_id, role=ctx.role.value)
        if self.store.opened:
            try:
                report["tasks"] = (await self.tasks.failures(ctx)).wire()
            except Exception as exc:  # the metadata database: the server cannot serve
                report["healthy"] = False
                problem = f"metadata database unavailable: {type(exc).__name__}"
                report["problems"] = [*report.get("problems", []), problem]
        return report

    async def ready(self) -> dict[str, Any]:
        """Readiness checks: each is ``ok`` or an error text; ready only if all are ``ok``."""
        checks: dict[str, Any] = {}
        store = self.store
        startup = self.startup
        if startup is not None and startup.loading:
            report = {"status": "not_ready", "reason": "starting", "checks": checks}
            return {**report, "loading": startup.loading}
        if startup is not None and startup.error is not None:
            failure = f"error: {type(startup.error).__name__}: {startup.error}"
            return {"status": "not_ready", "reason": "start_failed", "error": failure}
        if not store.opened:
            return {"status": "not_ready", "reason": "initializing", "checks": checks}
        probe = f"_system/ready-{uuid.uuid4().hex}"  # "_" never starts an account id
        try:
            await store.content.write_bytes(probe, b"ok")
            await store.content.remove(probe)
            checks["filesystem"] = "ok"
        except OSError as exc:
            checks["filesystem"] = f"error: {exc.strerror or exc}"
        try:
            await store.db.ping()
            checks["metadata_db"] = "ok"
        except Exception as exc:
            checks["metadata_db"] = f"error: {type(exc).__name__}"
        try:
            usage = await store.content.disk_usage()
            free = usage["free"]  # -1: the backend cannot tell (a database server)
            roomy = free < 0 or free > 64 * 1024 * 1024
            checks["disk"] = "ok" if roomy else "error: disk almost full"
        except OSError as exc:
            checks["disk"] = f"error: {exc.strerror or exc}"
        checks["index"] = "ok" if store.index_error is None else f"error: {store.index_error}"
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not_ready", "checks": checks}
