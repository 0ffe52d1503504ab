"""``ContextService``: the one facade that every surface (MCP, HTTP, CLI, Python) calls.

It owns the parts (content store, metadata database, key store, path locks) and exposes async
methods that each take the caller's :class:`~openviking_mcp.contract.identity.RequestContext`. The
operations themselves live in the ``ops`` mixins, one group per module.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from openviking_mcp._version import __version__
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.indexing.llm_summary import LLMSummarizer
from openviking_mcp.indexing.semantic import SemanticBuilder
from openviking_mcp.models.base import Embedder
from openviking_mcp.models.llm import LLM
from openviking_mcp.models.rerank import Reranker
from openviking_mcp.ops.admin import AdminOps
from openviking_mcp.ops.auth import AuthOps
from openviking_mcp.ops.chat import ChatOps
from openviking_mcp.ops.context import ContextOps
from openviking_mcp.ops.debug import DebugOps
from openviking_mcp.ops.memory import MemoryOps
from openviking_mcp.ops.observer import ObserverOps
from openviking_mcp.ops.pack import PackOps
from openviking_mcp.ops.privacy import PrivacyOps
from openviking_mcp.ops.resources import ResourceOps
from openviking_mcp.ops.sessions import SESSION_COMMIT_TASK, SessionOps
from openviking_mcp.ops.skill_import import SkillImportOps
from openviking_mcp.ops.stats import StatsOps
from openviking_mcp.ops.tiers import TierOps
from openviking_mcp.ops.webdav import WebDAVOps
from openviking_mcp.storage import ContentStore, LocalContentStore, MetadataDB, PathLocks
from openviking_mcp.storage.accounts import AccountStore
from openviking_mcp.storage.index import VectorIndex
from openviking_mcp.storage.queue import TaskQueue

if TYPE_CHECKING:
    from pydantic_ai.models import Model

__all__ = ["ContextService"]


class ContextService(
    PackOps,  # first for a valid MRO; brings RelationsOps (links, relations on find hits)
    StatsOps,
    TierOps,
    AdminOps,
    AuthOps,
    ResourceOps,
    ContextOps,
    MemoryOps,
    SkillImportOps,
    SessionOps,
    PrivacyOps,
    ObserverOps,
    DebugOps,
    WebDAVOps,
    ChatOps,
):
    """The store. Call :meth:`initialize` before use and :meth:`close` after.

    ``store`` replaces the local content filesystem, ``embedder`` the configured embedder and
    ``chat_model`` the bot's model (tests inject fakes here, as pydantic-ai's ``TestModel``).
    """

    def __init__(
        self,
        config: OpenVikingConfig | None = None,
        *,
        store: ContentStore | None = None,
        embedder: Embedder | None = None,
        chat_model: Model | None = None,
    ) -> None:
        self.config = config or OpenVikingConfig()
        workspace = self.config.workspace
        self.store = store or LocalContentStore(workspace)
        self.db = MetadataDB(workspace / "meta" / "openviking.sqlite3")
        self.accounts = AccountStore(self.db)
        self.locks = PathLocks()
        self.index = VectorIndex(workspace / "index")
        self.tasks = TaskQueue(self.db, workers=self.config.processing.workers)
        self.llm = LLM(self.config.vlm) if self.config.vlm.configured else None
        self.reranker = Reranker(self.config.rerank) if self.config.rerank.configured else None
        summarizer = LLMSummarizer(self.llm.complete) if self.llm is not None else None
        self.semantic = SemanticBuilder(self.config.semantic, summarizer)
        self._embedder = embedder
        self._chat_model = chat_model
        self._index_error: OpenVikingError | None = None
        self._opened = False
        self._init_lock = asyncio.Lock()
        self._known_users: set[tuple[str, str]] = set()
        self.tasks.register("add_resource", self._task_add_resource)
        self.tasks.register("refresh", self._task_refresh)
        phase2 = getattr(self, "_task_session_commit", None)  # commit phase 2 (ops/memory.py)
        if phase2 is not None:
            self.tasks.register(SESSION_COMMIT_TASK, phase2)

    @property
    def initialized(self) -> bool:
        return self._opened

    async def initialize(self) -> None:
        """Open storage, apply migrations and create the default account's preset tree."""
        async with self._init_lock:
            if self._opened:
                return
            self.config.workspace.mkdir(parents=True, exist_ok=True)
            await self.store.open()
            await asyncio.to_thread(self.db.open)
            try:
                await self._open_index()
                account, user = self.config.default_account, self.config.default_user
                await self.accounts.ensure_user(account, user, Role.ADMIN)
                await self._ensure_layout(account, user)
                await self.purge_uploads()
                await self.tasks.start()
                self._start_session_scanner()
            except BaseException:
                await self.index.close()
                await asyncio.to_thread(self.db.close)
                raise
            self._opened = True

    async def _open_index(self) -> None:
        """Open the index for the configured embedder. A mismatch (index built with another
        model) is kept as the reason search is unavailable; files still work."""
        embedder = self.embedder
        self._index_error = None
        try:
            if not embedder.dimension and hasattr(embedder, "probe"):
                await embedder.probe()  # a remote model without a configured dimension
            await self.index.open(embedder.model_id, embedder.dimension)
        except OpenVikingError as exc:
            self._index_error = exc

    async def close(self) -> None:
        async with self._init_lock:
            if not self._opened:
                return
            self._opened = False
            await self._close_bot()
            await self._stop_session_scanner()
            await self.tasks.stop()
            await self.index.close()
            await self.store.close()
            await asyncio.to_thread(self.db.close)

    # -- identities ------------------------------------------------------------------------

    def dev_context(self) -> RequestContext:
        """Identity of dev mode: the default user (ADMIN of the default account), never ROOT."""
        return RequestContext(self.config.default_account, self.config.default_user, Role.ADMIN)

    async def local_context(
        self, account_id: str | None = None, user_id: str | None = None
    ) -> RequestContext:
        """Identity of an embedded client: the user is created on first use with its space.

        The first user of an account becomes its ADMIN; later ones are USERs.
        """
        self._require_open()
        account = validate_identifier(account_id or self.config.default_account, "account_id")
        user = validate_identifier(user_id or self.config.default_user, "user_id")
        await self.accounts.ensure_account(account)
        users = await self.accounts.list_users(account)
        role = Role.ADMIN if not users else Role.USER
        await self.accounts.ensure_user(account, user, role)
        await self._ensure_layout(account, user)
        record = await self.accounts.get_user(account, user)
        return RequestContext(account, user, record.role)

    # -- health ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "healthy": True,
            "version": __version__,
            "auth_mode": self.config.server.effective_auth_mode,
        }

    async def ready(self) -> dict[str, Any]:
        """Readiness checks: each is ``ok`` or an error text; ready only if all are ``ok``."""
        checks: dict[str, Any] = {}
        if not self._opened:
            return {"status": "not_ready", "reason": "initializing", "checks": checks}
        probe = f"_system/ready-{uuid.uuid4().hex}"  # "_" never starts an account id
        try:
            await self.store.write_bytes(probe, b"ok")
            await self.store.remove(probe)
            checks["filesystem"] = "ok"
        except OSError as exc:
            checks["filesystem"] = f"error: {exc.strerror or exc}"
        try:
            await self.db.ping()
            checks["metadata_db"] = "ok"
        except Exception as exc:
            checks["metadata_db"] = f"error: {type(exc).__name__}"
        try:
            usage = await self.store.disk_usage()
            checks["disk"] = "ok" if usage["free"] > 64 * 1024 * 1024 else "error: disk almost full"
        except OSError as exc:
            checks["disk"] = f"error: {exc.strerror or exc}"
        checks["index"] = "ok" if self._index_error is None else f"error: {self._index_error}"
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not_ready", "checks": checks}
