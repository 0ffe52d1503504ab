"""The method names of openviking-sdk's HTTP clients, as adapters over our operations.

``openviking-sdk`` (0.1.17) names several calls differently (``wait_processed`` for
``wait_processing``, ``admin_register_user`` for ``create_user``...). :class:`AsyncUpstreamNames`
gives the HTTP clients those names with the SDK's parameters (names, order, defaults) and
result shapes: each method calls one of our operations and, where the SDK returns something
else (a path as ``str``, a bare ``uri``, a ``bool``), converts the result. Calls of features
this server does not have are in :mod:`._upstream_unsupported`. :class:`SyncUpstreamNames` has
the same methods, blocking, over the async client a blocking client drives.

Upstream's async client also has a few plain (non-async) methods that do network I/O
(``queue_status``, ``get_status``, ``is_healthy``...); here they are coroutines on the async
client, and plain calls on the blocking one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal, cast

from openviking_mcp.client._operations import AsyncOperations
from openviking_mcp.client._sync import forwarded
from openviking_mcp.client._upstream_pages import AsyncListingPages
from openviking_mcp.client._upstream_session import AsyncUpstreamSessions, SyncSessions
from openviking_mcp.client._upstream_unsupported import AsyncUnsupported, SyncUnsupported
from openviking_mcp.contract.errors import NotFoundError, UnimplementedError

__all__ = [
    "UPSTREAM_ADAPTERS",
    "AsyncObserver",
    "AsyncUpstreamNames",
    "SyncObserver",
    "SyncUpstreamNames",
]

Format = Literal["table", "json"] | None
Conflict = Literal["fail", "overwrite", "skip"]
VectorMode = Literal["auto", "recompute", "require"]


def _pack_target(to: str, default_name: str) -> Path:
    """Where the SDK saves a pack: into ``to`` if it is a folder, else at ``to`` (``.ovpack``
    added when missing); parent folders are created."""
    target = Path(to)
    if target.is_dir():
        target = target / default_name
    elif not str(target).endswith(".ovpack"):
        target = Path(f"{target}.ovpack")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _move_pack(saved: Path, target: Path) -> str:
    shutil.move(os.fspath(saved), os.fspath(target))
    shutil.rmtree(saved.parent, ignore_errors=True)
    return str(target)


def _leaf(uri: str) -> str:
    return uri.strip().rstrip("/").rsplit("/", 1)[-1] or "export"


def _no_seed(call: str, **given: Any) -> None:
    """Keys are random here: a caller's key seed or per-user config is refused, not dropped."""
    named = sorted(name for name, value in given.items() if value is not None)
    if named:
        raise UnimplementedError(f"{call}: {', '.join(named)} is not supported by this server")


def _page(
    rows: list[dict[str, Any]], key: str, name: str | None, query: str | None, **page: int | None
) -> list[dict[str, Any]]:
    """The SDK's list filters, applied here: ``name`` matches ``key`` exactly, ``query`` is a
    case-insensitive substring of it; ``limit`` rows of page ``page`` (1-based)."""
    if name is not None:
        rows = [r for r in rows if r.get(key) == name]
    if query is not None:
        rows = [r for r in rows if query.lower() in str(r.get(key, "")).lower()]
    limit, number = page.get("limit"), page.get("page") or 1
    if limit is None:
        return rows
    start = max(number - 1, 0) * limit
    return rows[start : start + limit]


def _one(rows: list[dict[str, Any]], key: str, value: str, what: str) -> dict[str, Any]:
    for row in rows:
        if row.get(key) == value:
            return row
    raise NotFoundError(value, what)


class AsyncUpstreamNames(
    AsyncUnsupported, AsyncListingPages, AsyncUpstreamSessions, AsyncOperations
):
    """openviking-sdk's method names on the async HTTP client."""

    supports_request_actor_peer = False
    """The SDK's actor-peer header is not read by this server."""

    async def upload_temp_file(self, path: str | os.PathLike[str]) -> str:
        raise NotImplementedError

    async def wait_processed(self) -> dict[str, Any]:
        """Wait until every queue is idle (``wait_processing`` without a timeout)."""
        return await self.wait_processing()

    async def session_exists(self, session_id: str) -> bool:
        """Whether the session exists (``get_session`` answers ``NOT_FOUND`` if not)."""
        try:
            await self.get_session(session_id)
        except NotFoundError:
            return False
        return True

    async def batch_add_messages(
        self, session_id: str, messages: list[dict[str, Any]], options: Any = None
    ) -> dict[str, Any]:
        """``add_messages``; ``options`` is not used."""
        return await self.add_messages(session_id, messages)

    async def read_raw(self, uri: str, offset: int = 0, limit: int = -1) -> str:
        """The stored text of a file (``read`` with ``raw=True``)."""
        return await self.read(uri, offset=offset, limit=limit, raw=True)

    async def download_bytes(self, uri: str) -> bytes:
        """A file's bytes (``read_bytes``)."""
        return await self.read_bytes(uri)

    async def get_session_context(
        self, session_id: str, token_budget: int = 128_000
    ) -> dict[str, Any]:
        """``session_context``."""
        return await self.session_context(session_id, token_budget)

    async def get_session_archive(self, session_id: str, archive_id: str) -> dict[str, Any]:
        """``get_archive``."""
        return await self.get_archive(session_id, archive_id)

    async def check_consistency(self, uri: str) -> dict[str, Any]:
        """``consistency``."""
        return await self.consistency(uri)

    async def export_ovpack(self, uri: str, to: str, include_vectors: bool = False) -> str:
        """``export_pack`` saved at ``to`` (a folder or a file name); returns its path."""
        target = await asyncio.to_thread(_pack_target, to, f"{_leaf(uri)}.ovpack")
        saved = await self.export_pack(uri, include_vectors=include_vectors)
        return await asyncio.to_thread(_move_pack, saved, target)

    async def backup_ovpack(self, to: str, include_vectors: bool = False) -> str:
        """``backup`` saved at ``to`` (a folder or a file name); returns its path."""
        target = await asyncio.to_thread(_pack_target, to, "openviking-backup.ovpack")
        saved = await self.backup(include_vectors)
        return await asyncio.to_thread(_move_pack, saved, target)

    async def import_ovpack(
        self,
        file_path: str,
        parent: str,
        on_conflict: str | None = None,
        vector_mode: str | None = None,
    ) -> str:
        """Upload a local pack and ``import_pack`` it under ``parent``; returns its URI."""
        temp_file_id = await self.upload_temp_file(file_path)
        result = await self.import_pack(
            temp_file_id,
            parent,
            on_conflict=cast(Conflict, on_conflict or "fail"),
            vector_mode=cast(VectorMode, vector_mode or "auto"),
        )
        return str(result.get("uri", ""))

    async def restore_ovpack(
        self, file_path: str, on_conflict: str | None = None, vector_mode: str | None = None
    ) -> str:
        """Upload a local backup pack and ``restore`` it; returns the restored root's URI."""
        temp_file_id = await self.upload_temp_file(file_path)
        result = await self.restore(
            temp_file_id,
            on_conflict=cast(Conflict, on_conflict or "fail"),
            vector_mode=cast(VectorMode, vector_mode or "auto"),
        )
        return str(result.get("uri", ""))

    async def admin_create_account(
        self,
        account_id: str,
        admin_user_id: str,
        user_config: dict[str, Any] | None = None,
        seed: str | None = None,
    ) -> dict[str, Any]:
        """``create_account`` (a key ``seed`` and ``user_config`` are refused)."""
        _no_seed("admin_create_account", user_config=user_config, seed=seed)
        return await self.create_account(account_id, admin_user_id)

    async def admin_list_accounts(
        self,
        name: str | None = None,
        limit: int | None = None,
        page: int = 1,
        query: str | None = None,
    ) -> list[dict[str, Any]]:
        """``list_accounts``, filtered by ``name``/``query`` and paged by ``limit``/``page``."""
        rows = await self.list_accounts()
        return _page(rows, "account_id", name, query, limit=limit, page=page)

    async def admin_get_account(self, account_id: str) -> dict[str, Any]:
        """One row of ``list_accounts``; ``NOT_FOUND`` if there is none."""
        return _one(await self.list_accounts(), "account_id", account_id, "account")

    async def admin_delete_account(self, account_id: str) -> dict[str, Any]:
        """``delete_account``."""
        return await self.delete_account(account_id)

    async def admin_register_user(
        self,
        account_id: str,
        user_id: str,
        role: str = "user",
        user_config: dict[str, Any] | None = None,
        seed: str | None = None,
    ) -> dict[str, Any]:
        """``create_user`` (a key ``seed`` and ``user_config`` are refused)."""
        _no_seed("admin_register_user", user_config=user_config, seed=seed)
        return await self.create_user(account_id, user_id, role)

    async def admin_list_users(
        self,
        account_id: str,
        limit: int | None = None,
        name: str | None = None,
        role: str | None = None,
        page: int = 1,
        query: str | None = None,
    ) -> list[dict[str, Any]]:
        """``list_users``, filtered by ``name``/``role``/``query``, paged by ``limit``/``page``."""
        rows = await self.list_users(account_id)
        if role is not None:
            rows = [r for r in rows if r.get("role") == role]
        return _page(rows, "user_id", name, query, limit=limit, page=page)

    async def admin_get_user(self, account_id: str, user_id: str) -> dict[str, Any]:
        """``get_user``: ``{user_id, role}``; ``NOT_FOUND`` if there is no such user."""
        return await self.get_user(account_id, user_id)

    async def admin_remove_user(self, account_id: str, user_id: str) -> dict[str, Any]:
        """``delete_user``."""
        return await self.delete_user(account_id, user_id)

    async def admin_set_role(self, account_id: str, user_id: str, role: str) -> dict[str, Any]:
        """``set_user_role``."""
        return await self.set_user_role(account_id, user_id, role)

    async def admin_regenerate_key(
        self, account_id: str, user_id: str, seed: str | None = None
    ) -> dict[str, Any]:
        """``regenerate_user_key`` (a key ``seed`` is refused)."""
        _no_seed("admin_regenerate_key", seed=seed)
        return await self.regenerate_user_key(account_id, user_id)

    async def admin_create_group(self, account_id: str, group_id: str) -> dict[str, Any]:
        """``create_group``."""
        return await self.create_group(account_id, group_id)

    async def admin_list_groups(self, account_id: str) -> list[Any]:
        """``list_groups``."""
        return await self.list_groups(account_id)

    async def admin_delete_group(self, account_id: str, group_id: str) -> dict[str, Any]:
        """``delete_group``."""
        return await self.delete_group(account_id, group_id)

    async def admin_list_group_members(self, account_id: str, group_id: str) -> dict[str, Any]:
        """``list_group_members``."""
        return await self.list_group_members(account_id, group_id)

    async def admin_add_group_member(
        self, account_id: str, group_id: str, user_id: str
    ) -> dict[str, Any]:
        """``add_group_member``."""
        return await self.add_group_member(account_id, group_id, user_id)

    async def admin_remove_group_member(
        self, account_id: str, group_id: str, user_id: str
    ) -> dict[str, Any]:
        """``remove_group_member``."""
        return await self.remove_group_member(account_id, group_id, user_id)

    async def queue_status(self, format: Format = None) -> dict[str, Any]:
        """``observe_queue`` (always as JSON)."""
        return await self.observe_queue()

    async def vikingdb_status(self, format: Format = None) -> dict[str, Any]:
        """``observe_vikingdb`` (always as JSON)."""
        return await self.observe_vikingdb()

    async def models_status(self, format: Format = None) -> dict[str, Any]:
        """``observe_models`` (always as JSON)."""
        return await self.observe_models()

    async def get_status(self, format: Format = None) -> dict[str, Any]:
        """``observe_system`` (always as JSON)."""
        return await self.observe_system()

    async def is_healthy(self) -> bool:
        """The ``is_healthy`` flag of ``observe_system``."""
        return bool((await self.observe_system()).get("is_healthy", False))

    @property
    def observer(self) -> AsyncObserver:
        """``await client.observer.queue`` (``vikingdb``, ``models``, ``system``)."""
        return AsyncObserver(self)


class AsyncObserver:
    """The SDK's ``observer`` on the async client: each property is a coroutine to await."""

    def __init__(self, client: AsyncUpstreamNames) -> None:
        self._client = client

    @property
    def queue(self) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._client.observe_queue()

    @property
    def vikingdb(self) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._client.observe_vikingdb()

    @property
    def models(self) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._client.observe_models()

    @property
    def system(self) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._client.observe_system()

    async def is_healthy(self) -> bool:
        return await self._client.is_healthy()


class SyncObserver:
    """The SDK's ``observer`` on the blocking client: each property is fetched when read."""

    def __init__(self, client: SyncUpstreamNames) -> None:
        self._client = client

    @property
    def queue(self) -> dict[str, Any]:
        return self._client.queue_status()

    @property
    def vikingdb(self) -> dict[str, Any]:
        return self._client.vikingdb_status()

    @property
    def models(self) -> dict[str, Any]:
        return self._client.models_status()

    @property
    def system(self) -> dict[str, Any]:
        return self._client.get_status()

    def is_healthy(self) -> bool:
        return self._client.is_healthy()


UPSTREAM_ADAPTERS: tuple[str, ...] = tuple(
    name
    for adapters in (AsyncUpstreamNames, AsyncListingPages, AsyncUpstreamSessions)
    for name, value in vars(adapters).items()
    if not name.startswith("_") and callable(value) and name != "upload_temp_file"
)
"""The SDK's names served by an adapter over one of our operations."""


class SyncUpstreamNames(SyncSessions, SyncUnsupported):
    """openviking-sdk's method names on the blocking HTTP client (over its async client)."""

    supports_request_actor_peer = False

    wait_processed = forwarded(AsyncUpstreamNames.wait_processed)
    session_exists = forwarded(AsyncUpstreamNames.session_exists)
    batch_add_messages = forwarded(AsyncUpstreamNames.batch_add_messages)
    read_raw = forwarded(AsyncUpstreamNames.read_raw)
    download_bytes = forwarded(AsyncUpstreamNames.download_bytes)
    get_session_context = forwarded(AsyncUpstreamNames.get_session_context)
    get_session_archive = forwarded(AsyncUpstreamNames.get_session_archive)
    check_consistency = forwarded(AsyncUpstreamNames.check_consistency)
    ls_page = forwarded(AsyncListingPages.ls_page)
    tree_page = forwarded(AsyncListingPages.tree_page)
    search_context = forwarded(AsyncUpstreamSessions.search_context)
    export_ovpack = forwarded(AsyncUpstreamNames.export_ovpack)
    backup_ovpack = forwarded(AsyncUpstreamNames.backup_ovpack)
    import_ovpack = forwarded(AsyncUpstreamNames.import_ovpack)
    restore_ovpack = forwarded(AsyncUpstreamNames.restore_ovpack)
    admin_create_account = forwarded(AsyncUpstreamNames.admin_create_account)
    admin_list_accounts = forwarded(AsyncUpstreamNames.admin_list_accounts)
    admin_get_account = forwarded(AsyncUpstreamNames.admin_get_account)
    admin_delete_account = forwarded(AsyncUpstreamNames.admin_delete_account)
    admin_register_user = forwarded(AsyncUpstreamNames.admin_register_user)
    admin_list_users = forwarded(AsyncUpstreamNames.admin_list_users)
    admin_get_user = forwarded(AsyncUpstreamNames.admin_get_user)
    admin_remove_user = forwarded(AsyncUpstreamNames.admin_remove_user)
    admin_set_role = forwarded(AsyncUpstreamNames.admin_set_role)
    admin_regenerate_key = forwarded(AsyncUpstreamNames.admin_regenerate_key)
    admin_create_group = forwarded(AsyncUpstreamNames.admin_create_group)
    admin_list_groups = forwarded(AsyncUpstreamNames.admin_list_groups)
    admin_delete_group = forwarded(AsyncUpstreamNames.admin_delete_group)
    admin_list_group_members = forwarded(AsyncUpstreamNames.admin_list_group_members)
    admin_add_group_member = forwarded(AsyncUpstreamNames.admin_add_group_member)
    admin_remove_group_member = forwarded(AsyncUpstreamNames.admin_remove_group_member)
    queue_status = forwarded(AsyncUpstreamNames.queue_status)
    vikingdb_status = forwarded(AsyncUpstreamNames.vikingdb_status)
    models_status = forwarded(AsyncUpstreamNames.models_status)
    get_status = forwarded(AsyncUpstreamNames.get_status)
    is_healthy = forwarded(AsyncUpstreamNames.is_healthy)

    @property
    def observer(self) -> SyncObserver:
        """``client.observer.queue`` (``vikingdb``, ``models``, ``system``)."""
        return SyncObserver(self)
