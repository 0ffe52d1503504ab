"""The privacy service: versioned secret values kept per user, outside search.

A config is addressed by ``(category, target_key)`` and lives in the caller's own space under
``viking://user/{uid}/privacy/{category}/{target_key}/``:

* ``.meta.json`` — ``{category, target_key, active_version, latest_version, created_at,
  updated_at, updated_by, last_accessed_at, labels}``;
* ``current.json`` — a copy of the active version;
* ``history/version_001.json``... — every version ever written, ``{version, category,
  target_key, values, created_at, created_by, change_reason}``.

Values are any JSON values, stored and returned as they are (see :mod:`.values` for the checks).
Upserting values equal to the active ones (canonical JSON) adds no version; anything else becomes
version ``latest + 1`` and is activated. The area is managed (the filesystem API cannot change it)
and never indexed; files are written straight to the content store under a per-target lock, so
concurrent upserts of one target each get their own version. Only the owner ever sees a config.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.privacy import (
    PrivacyCategoryRequest,
    PrivacyConfig,
    PrivacyMeta,
    PrivacyTargetRequest,
    PrivacyVersion,
    PrivacyVersionRequest,
    UpsertPrivacyRequest,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.privacy.values import check_values
from openviking_mcp.store import Store, iso_time

__all__ = ["PrivacyService"]

_NAME_RE = re.compile(r"[A-Za-z0-9_:\-][A-Za-z0-9_:.\-]{0,127}")
_VERSION_RE = re.compile(r"version_(\d+)\.json")
_META_FILE = ".meta.json"
_CURRENT_FILE = "current.json"
_HISTORY_DIR = "history"
_KIND = "privacy config"


def _check_name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidArgumentError(
            f"Invalid {field}: {value!r} (1-128 letters, digits, '-', '_', '.' or ':', "
            "not starting with '.')",
            {"field": field, "value": str(value)},
        )
    return value


def _check_str_map(value: object, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidArgumentError(
            f"{field} must be an object mapping strings to strings", {"field": field}
        )
    return dict(value)


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidArgumentError(
            f"version must be a positive integer, got {version!r}", {"field": "version"}
        )
    return version


def _canonical(values: object) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _same_values(record: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether a version record holds ``values`` (compared as canonical JSON)."""
    return _canonical(record.get("values") or {}) == _canonical(values)


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def _version_file(version: int) -> str:
    return f"{_HISTORY_DIR}/version_{version:03d}.json"


def _now() -> str:
    return iso_time(time.time())


class PrivacyService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- addressing ------------------------------------------------------------------------

    def _privacy_root(self, ctx: RequestContext) -> VikingURI:
        """``viking://user/{uid}/privacy`` for the caller (ROOT has no user space)."""
        return self._store.user_area(ctx, "privacy")

    def _privacy_target(
        self, ctx: RequestContext, category: str, target_key: str
    ) -> tuple[VikingURI, str]:
        """The target folder's URI and storage key (names validated, not URI-parsed, so a
        key such as ``c:x`` is not mistaken for a drive letter)."""
        root = self._privacy_root(ctx)
        uri = VikingURI(
            root.scope,
            (
                *root.segments,
                _check_name(category, "category"),
                _check_name(target_key, "target_key"),
            ),
        )
        return uri, self._store.key(ctx, uri)

    # -- storage helpers -------------------------------------------------------------------

    async def _require_meta(self, key: str, category: str, target_key: str) -> dict[str, Any]:
        meta = await self._store.read_json(f"{key}/{_META_FILE}")
        if meta is None:
            raise NotFoundError(f"{category}/{target_key}", _KIND)
        return meta

    async def _require_version(
        self, key: str, category: str, target_key: str, version: int
    ) -> dict[str, Any]:
        record = await self._store.read_json(f"{key}/{_version_file(version)}")
        if record is None:
            raise NotFoundError(f"{category}/{target_key} version {version}", f"{_KIND} version")
        return record

    async def _list_names(self, key: str) -> list[str]:
        try:
            children = await self._store.content.listdir(key)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(c.name for c in children if c.is_dir and _NAME_RE.fullmatch(c.name))

    # -- operations ------------------------------------------------------------------------

    async def upsert(self, ctx: RequestContext, req: UpsertPrivacyRequest) -> PrivacyVersion:
        """Store ``values`` as the active config; returns the active version record.

        Values equal to the active ones add no version (only ``updated_at`` and, if given,
        ``labels`` change); otherwise they become version ``latest + 1``.
        """
        category, target_key = req.category, req.target_key
        uri, key = self._privacy_target(ctx, category, target_key)
        clean = check_values(req.values)
        labels = _check_str_map(req.labels, "labels") if req.labels is not None else None
        store = self._store
        async with store.locks.lock(store.lock_path(ctx, uri)):
            now = _now()
            meta = await store.read_json(f"{key}/{_META_FILE}")
            current = await store.read_json(f"{key}/{_CURRENT_FILE}")
            if meta is not None and current is not None and _same_values(current, clean):
                meta["updated_at"] = now
                if labels is not None:
                    meta["labels"] = labels
                await store.content.write_bytes(f"{key}/{_META_FILE}", _dump(meta))
                return PrivacyVersion.model_validate(current)
            meta = meta or _new_meta(category, target_key, now, ctx.user_id)
            version = int(meta.get("latest_version") or 0) + 1
            record: dict[str, Any] = {
                "version": version,
                "category": category,
                "target_key": target_key,
                "values": clean,
                "created_at": now,
                "created_by": ctx.user_id,
                "change_reason": req.change_reason,
            }
            payload = _dump(record)
            await store.content.write_bytes(f"{key}/{_version_file(version)}", payload)
            await store.content.write_bytes(f"{key}/{_CURRENT_FILE}", payload)
            meta.update(
                active_version=version,
                latest_version=version,
                updated_at=now,
                updated_by=ctx.user_id,
            )
            if labels is not None:
                meta["labels"] = labels
            await store.content.write_bytes(f"{key}/{_META_FILE}", _dump(meta))
            return PrivacyVersion.model_validate(record)

    async def get(self, ctx: RequestContext, req: PrivacyTargetRequest) -> PrivacyConfig:
        """``{meta, current}`` of a config; records the access in ``last_accessed_at``."""
        category, target_key = req.category, req.target_key
        uri, key = self._privacy_target(ctx, category, target_key)
        store = self._store
        async with store.locks.lock(store.lock_path(ctx, uri)):
            meta = await self._require_meta(key, category, target_key)
            current = await store.read_json(f"{key}/{_CURRENT_FILE}")
            if current is None:
                raise NotFoundError(f"{category}/{target_key}", _KIND)
            meta["last_accessed_at"] = _now()
            await store.content.write_bytes(f"{key}/{_META_FILE}", _dump(meta))
        return PrivacyConfig(
            meta=PrivacyMeta.model_validate(meta), current=PrivacyVersion.model_validate(current)
        )

    async def list_categories(self, ctx: RequestContext, req: Empty) -> list[str]:
        """The caller's categories, sorted."""
        root = self._privacy_root(ctx)
        return await self._list_names(self._store.key(ctx, root))

    async def list_targets(self, ctx: RequestContext, req: PrivacyCategoryRequest) -> list[str]:
        """Target keys of one category, sorted (``[]`` for an unknown category)."""
        root = self._privacy_root(ctx)
        folder = VikingURI(root.scope, (*root.segments, _check_name(req.category, "category")))
        return await self._list_names(self._store.key(ctx, folder))

    async def list_versions(self, ctx: RequestContext, req: PrivacyTargetRequest) -> list[int]:
        """Version numbers kept in a config's history, ascending."""
        _, key = self._privacy_target(ctx, req.category, req.target_key)
        await self._require_meta(key, req.category, req.target_key)
        try:
            children = await self._store.content.listdir(f"{key}/{_HISTORY_DIR}")
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = (_VERSION_RE.fullmatch(c.name) for c in children if not c.is_dir)
        return sorted(int(m.group(1)) for m in found if m)

    async def get_version(self, ctx: RequestContext, req: PrivacyVersionRequest) -> PrivacyVersion:
        """One version record of a config."""
        _, key = self._privacy_target(ctx, req.category, req.target_key)
        number = _check_version(req.version)
        await self._require_meta(key, req.category, req.target_key)
        record = await self._require_version(key, req.category, req.target_key, number)
        return PrivacyVersion.model_validate(record)

    async def activate(self, ctx: RequestContext, req: PrivacyVersionRequest) -> PrivacyVersion:
        """Make a historical version the active one; returns its record."""
        uri, key = self._privacy_target(ctx, req.category, req.target_key)
        number = _check_version(req.version)
        store = self._store
        async with store.locks.lock(store.lock_path(ctx, uri)):
            meta = await self._require_meta(key, req.category, req.target_key)
            record = await self._require_version(key, req.category, req.target_key, number)
            await store.content.write_bytes(f"{key}/{_CURRENT_FILE}", _dump(record))
            meta.update(active_version=number, updated_at=_now(), updated_by=ctx.user_id)
            await store.content.write_bytes(f"{key}/{_META_FILE}", _dump(meta))
        return PrivacyVersion.model_validate(record)

    async def delete(self, ctx: RequestContext, req: PrivacyTargetRequest) -> bool:
        """Remove a config with its history; ``True`` if it existed. An emptied category
        folder is removed too."""
        uri, key = self._privacy_target(ctx, req.category, req.target_key)
        parent = uri.parent
        assert parent is not None
        store = self._store
        async with store.locks.lock(store.lock_path(ctx, parent)):
            if not await store.content.exists(key):
                return False
            await store.content.remove(key, recursive=True)
            parent_key = store.key(ctx, parent)
            if not await store.content.listdir(parent_key):
                await store.content.remove(parent_key)
        return True

    async def values(self, ctx: RequestContext, req: PrivacyTargetRequest) -> dict[str, Any]:
        """The active values of a config as stored, ``{}`` if there is none or the caller is
        ROOT (for restoring placeholders on read; does not count as an access)."""
        if ctx.is_root:
            return {}
        _, key = self._privacy_target(ctx, req.category, req.target_key)
        current = await self._store.read_json(f"{key}/{_CURRENT_FILE}")
        values = current.get("values") if current is not None else None
        if not isinstance(values, dict):
            return {}
        return {str(k): v for k, v in values.items()}


def _new_meta(category: str, target_key: str, now: str, user_id: str) -> dict[str, Any]:
    return {
        "category": category,
        "target_key": target_key,
        "active_version": 0,
        "latest_version": 0,
        "created_at": now,
        "updated_at": now,
        "updated_by": user_id,
        "last_accessed_at": None,
        "labels": {},
    }
