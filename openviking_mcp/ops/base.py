"""State and helpers shared by the service's operation groups.

``ContextService`` is assembled from mixins (filesystem, admin, ...) that all build on
:class:`ServiceCore`: URI resolution with access checks, URI → storage-key mapping, translation
of storage errors into typed errors that name the URI, and the preset layout.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    NotInitializedError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, resolve_uri
from openviking_mcp.indexing.semantic import SemanticBuilder
from openviking_mcp.models.base import Embedder
from openviking_mcp.models.llm import LLM
from openviking_mcp.models.rerank import Reranker
from openviking_mcp.presets import PresetDir, account_presets, user_presets
from openviking_mcp.storage import ContentStore, MetadataDB, PathLocks
from openviking_mcp.storage.accounts import AccountStore
from openviking_mcp.storage.index import VectorIndex
from openviking_mcp.storage.queue import TaskQueue
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    render_sidecar,
    sidecar_body,
)

__all__ = ["ServiceCore", "iso_epoch", "iso_time"]

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


class ServiceCore:
    config: OpenVikingConfig
    store: ContentStore
    db: MetadataDB
    accounts: AccountStore
    locks: PathLocks
    index: VectorIndex
    tasks: TaskQueue
    semantic: SemanticBuilder
    llm: LLM | None
    reranker: Reranker | None
    _opened: bool
    _embedder: Embedder | None
    _index_error: OpenVikingError | None

    @property
    def embedder(self) -> Embedder:
        """The configured embedder, built on first use and shared by every service of this
        process with the same embedding configuration (a local model loads once)."""
        if self._embedder is None:
            from openviking_mcp.models.factory import build_embedder

            key = self.config.embedding.model_dump_json()
            shared = _SHARED_EMBEDDERS.get(key)
            if shared is None:
                shared = _SHARED_EMBEDDERS[key] = build_embedder(self.config)
            self._embedder = shared
        return self._embedder

    def _require_index(self) -> VectorIndex:
        """The vector index, or the reason it cannot be used (e.g. built with another model)."""
        self._require_open()
        if self._index_error is not None:
            raise self._index_error
        return self.index

    # -- guards and mapping ----------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._opened:
            raise NotInitializedError()

    def _resolve(
        self, ctx: RequestContext, raw: str | VikingURI, *, field: str = "uri", mutate: bool = False
    ) -> VikingURI:
        """Resolve a caller's URI and check that the caller may read (or change) it."""
        self._require_open()
        uri = resolve_uri(raw, ctx, field=field)
        check_access(ctx, uri, mutate=mutate)
        return uri

    def _user_area(self, ctx: RequestContext, area: str) -> VikingURI:
        """``viking://user/{uid}/{area}`` of the caller (ROOT has no user space)."""
        if ctx.is_root:
            raise PermissionDeniedError(
                f"{area.capitalize()} belong to a user space; ROOT has none", {"resource": area}
            )
        return self._resolve(ctx, f"viking://~/{area}")

    @staticmethod
    def _key(ctx: RequestContext, uri: VikingURI) -> str:
        return "/".join((ctx.account_id, *uri.parts))

    @staticmethod
    def _lock_path(ctx: RequestContext, uri: VikingURI) -> tuple[str, ...]:
        return (ctx.account_id, *uri.parts)

    @staticmethod
    @contextmanager
    def _fs_errors(uri: VikingURI, kind: str = "file") -> Iterator[None]:
        """Turn storage ``OSError``s into typed errors that name ``uri``."""
        try:
            yield
        except FileNotFoundError:
            raise NotFoundError(uri.uri, kind) from None
        except FileExistsError:
            raise AlreadyExistsError(uri.uri, kind) from None
        except NotADirectoryError:
            raise FailedPreconditionError(
                f"Not a directory (a file is in the way): {uri.uri}",
                {"uri": uri.uri, "reason": "not_a_directory"},
            ) from None
        except IsADirectoryError:
            raise InvalidArgumentError(
                f"Is a directory: {uri.uri}", {"uri": uri.uri, "reason": "is_directory"}
            ) from None
        except PermissionError:
            raise PermissionDeniedError(
                f"Storage refused access to {uri.uri}", {"resource": uri.uri}
            ) from None
        except OSError as exc:
            if exc.errno == errno.ENOTEMPTY:
                raise FailedPreconditionError(
                    f"Directory not empty: {uri.uri}", {"uri": uri.uri}
                ) from None
            raise

    async def _require_dir(self, ctx: RequestContext, uri: VikingURI) -> None:
        with self._fs_errors(uri, "directory"):
            entry = await self.store.stat(self._key(ctx, uri))
        if not entry.is_dir:
            raise FailedPreconditionError(
                f"Not a directory: {uri.uri}", {"uri": uri.uri, "reason": "not_a_directory"}
            )

    async def _read_text(self, key: str) -> str | None:
        """A stored file as text (undecodable bytes replaced), ``None`` if it is not a file."""
        try:
            return (await self.store.read_bytes(key)).decode("utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError):
            return None

    async def _read_json(self, key: str) -> dict[str, Any] | None:
        """A stored JSON object, ``None`` if the file is missing, not JSON or not an object."""
        text = await self._read_text(key)
        if text is None:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    async def _sidecar_body(self, dir_key: str, name: str) -> str | None:
        """Body of a directory's ``.abstract.md``/``.overview.md``, ``None`` if missing."""
        raw = await self._read_text(f"{dir_key}/{name}")
        return sidecar_body(raw) if raw is not None else None

    # -- preset layout ---------------------------------------------------------------------

    async def _ensure_dirs(self, account_id: str, presets: list[PresetDir]) -> list[VikingURI]:
        """Create missing preset folders and sidecars; returns the folders that changed."""
        created: list[VikingURI] = []
        for preset in presets:
            uri = VikingURI(preset.parts[0], preset.parts[1:])
            key = "/".join((account_id, *preset.parts))
            await self.store.mkdir(key, exist_ok=True)
            for name, body in ((ABSTRACT_FILE, preset.abstract), (OVERVIEW_FILE, preset.overview)):
                sidecar = f"{key}/{name}"
                if not await self.store.exists(sidecar):
                    text = render_sidecar(uri.uri, body, component="preset", trigger="init")
                    await self.store.write_bytes(sidecar, text.encode("utf-8"))
                    if not created or created[-1] != uri:
                        created.append(uri)
        return created

    async def _ensure_layout(self, account_id: str, user_id: str | None = None) -> None:
        """Create the account's preset folders and, if given, the user's space; new preset
        folders are queued for indexing."""
        created = await self._ensure_dirs(account_id, account_presets())
        if user_id is not None:
            created += await self._ensure_dirs(account_id, user_presets(user_id))
        if created:
            await self._index_presets(account_id, user_id, created)

    async def _index_presets(
        self, account_id: str, user_id: str | None, dirs: list[VikingURI]
    ) -> None:
        """Queue indexing of preset folders (the indexing mixin implements it)."""

    # -- hooks the indexing mixin implements -----------------------------------------------

    async def _after_write(
        self, ctx: RequestContext, uri: VikingURI, *, wait: bool, timeout: float | None
    ) -> dict[str, object]:
        """Refresh tiers and vectors after a content change; returns status fields."""
        return {}

    async def _after_read(self, ctx: RequestContext, uri: VikingURI, text: str) -> str:
        """Adjust a file's text for the reader (the skills mixin restores secrets)."""
        return text

    async def _after_remove(self, ctx: RequestContext, uri: VikingURI) -> None:
        """Drop index rows under ``uri`` and refresh its parent."""

    async def _after_move(self, ctx: RequestContext, source: VikingURI, dest: VikingURI) -> None:
        """Re-key index rows from ``source`` to ``dest`` and refresh both parents."""
