"""The ``Store``: the storage and models one service runs on, and the helpers every feature needs.

A :class:`Store` holds the content tree, the metadata database (accounts, tasks), the path
locks, the vector index, the task queue, the models (embedder, LLM, reranker) and the event
bus. Features take the store in their constructor and use its helpers:

* :meth:`Store.resolve` turns a caller's URI into a :class:`VikingURI` after checking that the
  caller may read (or change) it; :meth:`Store.key` maps it onto a storage key;
* :meth:`Store.fs_errors` turns storage ``OSError`` s into typed errors that name the URI;
* :meth:`Store.ensure_layout` creates an account's (and a user's) preset folders and announces
  them with :class:`~openviking_mcp.events.LayoutCreated`.

Every part is replaceable: ``content`` by another :class:`ContentStore`, ``embedder`` by any
:class:`Embedder`. With ``index_on_demand`` the index is not opened by :meth:`Store.open` but
by the first call that uses it (a short-lived process that may never search).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.access import check_access, readable, readable_prefixes
from openviking_mcp.contract.audit_scope import current_operation, current_scope
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InternalError,
    NotFoundError,
    NotInitializedError,
    OpenVikingError,
    PermissionDeniedError,
    storage_error,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, resolve_uri
from openviking_mcp.events import EventBus, LayoutCreated
from openviking_mcp.models.base import Embedder
from openviking_mcp.models.llm import LLM
from openviking_mcp.models.rerank import Reranker
from openviking_mcp.presets import PresetDir, account_presets, user_presets
from openviking_mcp.storage import (
    ContentStore,
    Entry,
    LocalContentStore,
    MetadataDB,
    PathLocks,
)
from openviking_mcp.storage.accounts import AccountStore
from openviking_mcp.storage.audit import AuditLog, AuditRecord
from openviking_mcp.storage.event_log import EventLog
from openviking_mcp.storage.mcp_servers import McpServerStore
from openviking_mcp.storage.metadata import MetadataBackend
from openviking_mcp.storage.on_demand import OnDemandIndex
from openviking_mcp.storage.owners import PathOwners
from openviking_mcp.storage.queue import TaskQueue
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    render_sidecar,
    sidecar_body,
)
from openviking_mcp.storage.tags import PathTags
from openviking_mcp.storage.usage import UsageLog
from openviking_mcp.storage.webhooks import WebhookStore

if TYPE_CHECKING:
    # LanceDB and Arrow load with the index, on first use (see ``index_on_demand``);
    # psycopg with the postgres backend.
    from openviking_mcp.storage.index import SearchIndex
    from openviking_mcp.storage.postgres.backend import PgBackend
    from openviking_mcp.storage.postgres.locks import PgPathLocks

__all__ = ["SYSTEM_KEY", "Store", "iso_epoch", "iso_time"]

#: The content key below which a shared deployment keeps its own files (staged imports,
#: markers); "_" never starts an account id, so no account sees it.
SYSTEM_KEY = "_system"

_SHARED_EMBEDDERS: dict[str, Embedder] = {}


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def iso_epoch(value: object) -> float | None:
    """The epoch of an ISO 8601 time (``Z`` accepted); ``None`` for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Store:
    """See the module docs. :meth:`open` before use, :meth:`close` after."""

    def __init__(
        self,
        config: OpenVikingConfig,
        *,
        content: ContentStore | None = None,
        embedder: Embedder | None = None,
        index_on_demand: bool = False,
    ) -> None:
        self.config = config
        workspace = config.workspace
        self.db: MetadataBackend
        self.locks: PathLocks | PgPathLocks
        #: The PostgreSQL parts of a ``storage.backend: postgres`` store.
        self.postgres: PgBackend | None = None
        if config.storage.uses_postgres:
            from openviking_mcp.storage.postgres.backend import PgBackend

            self.postgres = PgBackend(config.storage.postgres)
            self.content = content or self.postgres.content
            self.db, self.locks = self.postgres.metadata, self.postgres.locks
        else:
            self.content = content or LocalContentStore(workspace)
            self.db, self.locks = MetadataDB(workspace / "meta" / "openviking.sqlite3"), PathLocks()
        self.accounts = AccountStore(self.db)
        #: Who created shared paths: the owner rule for removing, moving, replacing them.
        self.owners = PathOwners(self.db, self.content.exists)
        #: The explicit ``k=v`` retrieval tags of paths, applied to their index rows.
        self.tags = PathTags(self.db)
        #: The audit log (buffered; written in the background).
        self.audit = AuditLog(
            self.db,
            retention_days=config.audit.retention_days,
            flush_interval=config.audit.flush_interval_seconds,
            buffer_max=config.audit.buffer_max,
        )
        #: The usage log of analytics (buffered; written in the background).
        self.usage = UsageLog(
            self.db,
            retention_days=config.analytics.retention_days,
            flush_interval=config.analytics.flush_interval_seconds,
            buffer_max=config.analytics.buffer_max,
        )
        #: The event log (written in the flow of each change; docs/events.md).
        self.event_log = EventLog(
            self.db,
            retention_days=config.events.retention_days,
            gap_wait=config.webhooks.gap_wait_seconds,
        )
        self.webhooks = WebhookStore(self.db)
        #: The registered MCP servers whose tools are imported as skills.
        self.mcp_servers = McpServerStore(self.db)
        self._vectors: SearchIndex | None = None
        self._on_demand = (
            OnDemandIndex(self._vector_index, self._open_on_demand, self._may_open)
            if index_on_demand
            else None
        )
        self._index_pending = False
        self._index_lock = asyncio.Lock()
        self.tasks = TaskQueue(self.db, workers=config.processing.workers)
        self.llm = LLM(config.vlm) if config.vlm.configured else None
        self.reranker = Reranker(config.rerank) if config.rerank.configured else None
        self.events = EventBus()
        self.index_error: OpenVikingError | None = None
        self.opened = False
        self._embedder = embedder

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the content tree, the database (migrations) and the index."""
        self.config.workspace.mkdir(parents=True, exist_ok=True)
        if self.postgres is not None:
            await self.postgres.open()
        try:
            await self.content.open()
            await asyncio.to_thread(self.db.open)
        except BaseException:
            if self.postgres is not None:
                await self.postgres.close()
            raise
        try:
            if self._on_demand is None:
                await self._open_index()
        except BaseException:
            await self._close_databases()
            raise
        self._index_pending = self._on_demand is not None
        self.opened = True

    async def _open_index(self) -> None:
        """Open the index for the configured embedder. A mismatch (index built with another
        model) is kept as the reason search is unavailable; files still work."""
        embedder = self.embedder
        self.index_error = None
        try:
            if not embedder.dimension and hasattr(embedder, "probe"):
                await embedder.probe()  # a remote model without a configured dimension
            await self._vector_index().open(embedder.model_id, embedder.dimension)
        except OpenVikingError as exc:
            self.index_error = exc

    async def _open_on_demand(self) -> SearchIndex:
        """The index of an ``index_on_demand`` store, opened by its first use."""
        async with self._index_lock:
            if self._index_pending:
                self.require_open()
                await self._open_index()
                self._index_pending = False
        if self.index_error is not None:
            raise self.index_error
        return self._vector_index()

    def _may_open(self) -> bool:
        return self.opened and self.index_error is None

    async def close(self) -> None:
        self.opened = False
        self._index_pending = False
        await self.tasks.stop()
        await self.audit.close()
        await self.usage.close()
        if self._vectors is not None:
            await self._vectors.close()
        await self.content.close()
        await self._close_databases()

    async def _close_databases(self) -> None:
        await asyncio.to_thread(self.db.close)
        if self.postgres is not None:
            await self.postgres.close()

    @property
    def index(self) -> SearchIndex:
        """The search index (with ``index_on_demand``, opened by its first use)."""
        if self._on_demand is not None and self._index_pending:
            return cast("SearchIndex", self._on_demand)
        return self._vector_index()

    def _vector_index(self) -> SearchIndex:
        if self._vectors is None and self.postgres is not None:
            from openviking_mcp.storage.postgres.index import PgVectorIndex

            settings = self.config.storage.postgres
            self._vectors = PgVectorIndex(
                self.postgres.database,
                memory_max_rows=self.config.index.memory_max_rows,
                hnsw_build=(settings.hnsw_m, settings.hnsw_ef_construction),
            )
        if self._vectors is None:
            from openviking_mcp.storage.index import VectorIndex

            self._vectors = VectorIndex(
                self.config.workspace / "index",
                memory_max_rows=self.config.index.memory_max_rows,
                cache_bytes=(
                    self.config.index.lance_index_cache_mb * 2**20,
                    self.config.index.lance_metadata_cache_mb * 2**20,
                ),
            )
        return self._vectors

    @property
    def embedder(self) -> Embedder:
        """The configured embedder, built on first use and shared by every store of this
        process with the same embedding configuration (a local model loads once)."""
        if self._embedder is None:
            from openviking_mcp.models.factory import build_embedder

            key = self.config.embedding.model_dump_json()
            shared = _SHARED_EMBEDDERS.get(key)
            if shared is None:
                shared = _SHARED_EMBEDDERS[key] = build_embedder(self.config)
            self._embedder = shared
        return self._embedder

    # -- guards ------------------------------------------------------------------------------

    def require_open(self) -> None:
        if not self.opened:
            raise NotInitializedError()

    def require_index(self) -> SearchIndex:
        """The vector index, or the reason it cannot be used (e.g. built with another model)."""
        self.require_open()
        if self.index_error is not None:
            raise self.index_error
        return self.index

    @property
    def indexing_enabled(self) -> bool:
        """Whether the index can take rows (it opened with this embedder)."""
        return self.index_error is None

    # -- deployment-wide files -------------------------------------------------------------

    @property
    def shared(self) -> bool:
        """Whether processes on other hosts serve from the same storage (the postgres
        backend): what one process stages or remembers must then live in the content store,
        under :data:`SYSTEM_KEY`, not in its own workspace folder."""
        return self.config.storage.uses_postgres

    async def read_system(self, name: str) -> bytes | None:
        """A small file the deployment remembers (``meta/{name}`` of a local workspace);
        ``None`` when there is none."""
        if self.shared:
            return (await self.content.read_many([f"{SYSTEM_KEY}/{name}"]))[f"{SYSTEM_KEY}/{name}"]
        path = self.config.workspace / "meta" / name
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def write_system(self, name: str, data: bytes) -> None:
        """Write the file :meth:`read_system` reads."""
        if self.shared:
            await self.content.write_bytes(f"{SYSTEM_KEY}/{name}", data)
            return
        path = self.config.workspace / "meta" / name
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)

    # -- URIs and keys ---------------------------------------------------------------------

    def resolve(
        self, ctx: RequestContext, raw: str | VikingURI, *, field: str = "uri", mutate: bool = False
    ) -> VikingURI:
        """Resolve a caller's URI and check that the caller may read (or change) it."""
        self.require_open()
        uri = resolve_uri(raw, ctx, field=field)
        foreign = ctx.is_admin and uri.scope == "user" and uri.parts[1:2] != (ctx.user_id,)
        if not foreign or len(uri.parts) < 2:
            check_access(ctx, uri, mutate=mutate)
            return uri
        try:  # a privileged caller in another user's space: recorded, allowed or not
            check_access(ctx, uri, mutate=mutate)
        except OpenVikingError as exc:
            self.note_access(ctx, uri, exc.code)
            raise
        self.note_access(ctx, uri, "ok")
        return uri

    def note_access(self, ctx: RequestContext, uri: VikingURI, outcome: str) -> None:
        """Record an access to another user's space (once per path and request)."""
        scope = current_scope()
        if not self.config.audit.enabled or uri.uri in scope.noted:
            return
        scope.noted.add(uri.uri)
        self.audit.add(
            AuditRecord(
                ts=time.time(),
                account_id=ctx.account_id,
                user_id=ctx.user_id,
                role=ctx.role.value,
                key_id=getattr(ctx, "key_id", None) or scope.key_id,
                surface=scope.surface,
                operation=current_operation() or "access",
                kind="access",
                uris=(uri.uri,),
                outcome=outcome,
                request_id=scope.request_id,
            )
        )

    def user_area(self, ctx: RequestContext, area: str) -> VikingURI:
        """``viking://user/{uid}/{area}`` of the caller (ROOT has no user space)."""
        if ctx.is_root:
            raise PermissionDeniedError(
                f"{area.capitalize()} belong to a user space; ROOT has none", {"resource": area}
            )
        return self.resolve(ctx, f"viking://~/{area}")

    @staticmethod
    def key(ctx: RequestContext, uri: VikingURI) -> str:
        return "/".join((ctx.account_id, *uri.parts))

    @staticmethod
    def lock_path(ctx: RequestContext, uri: VikingURI) -> tuple[str, ...]:
        return (ctx.account_id, *uri.parts)

    @staticmethod
    @contextmanager
    def fs_errors(uri: VikingURI, kind: str = "file") -> Iterator[None]:
        """Turn storage ``OSError``s into typed errors that name ``uri`` (never a server path):
        a name too long for the filesystem is ``INVALID_ARGUMENT``, a refusal (permissions, a
        read-only mount) ``PERMISSION_DENIED``, a full disk ``RESOURCE_EXHAUSTED`` (507)."""
        try:
            yield
        except FileNotFoundError:
            raise NotFoundError(uri.uri, kind) from None
        except FileExistsError:
            raise AlreadyExistsError(uri.uri, kind) from None
        except OSError as exc:
            typed = storage_error(exc, uri.uri)
            if isinstance(exc, TimeoutError) or isinstance(typed, InternalError):
                raise  # not a storage condition a caller can act on: logged as a failure
            raise typed from None

    # -- reading helpers -------------------------------------------------------------------

    async def require_dir(self, ctx: RequestContext, uri: VikingURI) -> None:
        with self.fs_errors(uri, "directory"):
            entry = await self.content.stat(self.key(ctx, uri))
        if not entry.is_dir:
            raise FailedPreconditionError(
                f"Not a directory: {uri.uri}", {"uri": uri.uri, "reason": "not_a_directory"}
            )

    async def walk_readable(
        self, ctx: RequestContext, base: VikingURI, depth: int, limit: int
    ) -> list[tuple[str, Entry, VikingURI]]:
        """``(relative path, entry, uri)`` below directory ``base``, depth first (folders
        first, then by name), at most ``depth`` levels and about ``limit`` entries.

        Only the readable parts of ``base`` are walked (and the folders leading down to them),
        never other users' spaces, so their size can neither cut the caller's answer short nor
        slow it down; the answer still goes through the read filter."""
        base_key = self.key(ctx, base)
        out: list[tuple[str, Entry, VikingURI]] = []
        seen: set[VikingURI] = set()
        for prefix in sorted(readable_prefixes(ctx, [base])):
            below = len(prefix.parts) - len(base.parts)
            steps = [s for s in _between(base, prefix, depth) if s not in seen]
            seen.update(steps)
            try:
                for step in steps:
                    entry = await self.content.stat(self.key(ctx, step))
                    out.append((step.relative_to(base), entry, step))
                if depth <= below:
                    continue
                walked = await self.content.walk(self.key(ctx, prefix), depth - below, limit)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in walked:
                rel = entry.key[len(base_key) + 1 :]
                out.append((rel, entry, base.join(rel)))
        return readable(ctx, out, lambda item: item[2].uri)

    async def read_text(self, key: str) -> str | None:
        """A stored file as text (undecodable bytes replaced), ``None`` if it is not a file."""
        try:
            return (await self.content.read_bytes(key)).decode("utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError):
            return None

    async def read_json(self, key: str) -> dict[str, Any] | None:
        """A stored JSON object, ``None`` if the file is missing, not JSON or not an object."""
        text = await self.read_text(key)
        if text is None:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    async def sidecar_body(self, dir_key: str, name: str) -> str | None:
        """Body of a directory's ``.abstract.md``/``.overview.md``, ``None`` if missing."""
        raw = await self.read_text(f"{dir_key}/{name}")
        return sidecar_body(raw) if raw is not None else None

    # -- preset layout ---------------------------------------------------------------------

    async def _ensure_dirs(self, account_id: str, presets: list[PresetDir]) -> list[VikingURI]:
        """Create missing preset folders and sidecars; returns the folders that changed."""
        created: list[VikingURI] = []
        for preset in presets:
            uri = VikingURI(preset.parts[0], preset.parts[1:])
            key = "/".join((account_id, *preset.parts))
            await self.content.mkdir(key, exist_ok=True)
            for name, body in ((ABSTRACT_FILE, preset.abstract), (OVERVIEW_FILE, preset.overview)):
                sidecar = f"{key}/{name}"
                if not await self.content.exists(sidecar):
                    text = render_sidecar(uri.uri, body, component="preset", trigger="init")
                    await self.content.write_bytes(sidecar, text.encode("utf-8"))
                    if not created or created[-1] != uri:
                        created.append(uri)
        return created

    async def ensure_layout(self, account_id: str, user_id: str | None = None) -> None:
        """Create the account's preset folders and, if given, the user's space; new folders
        are announced with :class:`LayoutCreated`."""
        created = await self._ensure_dirs(account_id, account_presets())
        if user_id is not None:
            created += await self._ensure_dirs(account_id, user_presets(user_id))
        if created:
            await self.events.publish(LayoutCreated(account_id, user_id, tuple(created)))


def _between(base: VikingURI, prefix: VikingURI, depth: int) -> list[VikingURI]:
    """The folders from just below ``base`` down to ``prefix`` (none when they are equal),
    at most ``depth`` levels below ``base``."""
    parts = prefix.parts
    stop = min(len(parts), len(base.parts) + depth)
    return [VikingURI(parts[0], parts[1:i]) for i in range(len(base.parts) + 1, stop + 1)]
