"""Checking a migrated account: the same files with the same bytes, the same index rows
(``(uri, level, anchor)``, a row stored twice counted once) and the same number of metadata
rows per table on both ends. Every difference is one line of ``problems``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from openviking_mcp.migrate.tables import count_rows
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.store import Store

__all__ = [
    "TreeDigest",
    "compare_rows",
    "compare_trees",
    "digest_tree",
    "index_keys",
    "index_rows",
    "verify_account",
]

_MAX_ENTRIES = 10_000_000
_SHOWN = 5  # paths named per kind of difference


@dataclass
class TreeDigest:
    """The files below an account key: ``{relative path: sha256}`` and their total size."""

    files: dict[str, str] = field(default_factory=dict)
    size: int = 0


async def digest_tree(store: Store, account_id: str) -> TreeDigest:
    """Every file below ``account_id`` in ``store``'s content, read and hashed one by one."""
    content = store.content
    digest = TreeDigest()
    if not await content.exists(account_id):
        return digest
    for entry in await content.walk(account_id, 100_000, _MAX_ENTRIES):
        if entry.is_dir:
            continue
        data = await content.read_bytes(entry.key)
        digest.files[entry.key[len(account_id) + 1 :]] = hashlib.sha256(data).hexdigest()
        digest.size += len(data)
    return digest


def _named(kind: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:_SHOWN])
    more = f" (and {len(paths) - _SHOWN} more)" if len(paths) > _SHOWN else ""
    return f"{len(paths)} file(s) {kind}: {shown}{more}"


def compare_trees(source: TreeDigest, target: TreeDigest) -> list[str]:
    """The differences between two trees (missing, extra, different bytes)."""
    problems: list[str] = []
    missing = sorted(set(source.files) - set(target.files))
    extra = sorted(set(target.files) - set(source.files))
    changed = sorted(
        p for p in set(source.files) & set(target.files) if source.files[p] != target.files[p]
    )
    if missing:
        problems.append(_named("missing on the target", missing))
    if extra:
        problems.append(_named("only on the target", extra))
    if changed:
        problems.append(_named("with other content on the target", changed))
    return problems


async def index_keys(store: Store, account_id: str) -> set[tuple[str, int, str]] | None:
    """``(uri, level, anchor)`` of the account's index rows (``None``: the store's index
    cannot be used). A row stored twice under one id counts once."""
    if store.index_error is not None:
        return None
    return await store.index.uris(IndexFilter(account_id=account_id))


async def index_rows(store: Store, account_id: str) -> int | None:
    """How many distinct index rows the account has (``None``: no usable index)."""
    keys = await index_keys(store, account_id)
    return None if keys is None else len(keys)


def compare_rows(
    source: set[tuple[str, int, str]] | None, target: set[tuple[str, int, str]] | None
) -> list[str]:
    """The differences between two accounts' index rows (nothing when the source has no
    usable index: there is nothing to compare with)."""
    if source is None:
        return []
    if target is None:
        return ["the target's search index is unavailable"]
    problems: list[str] = []
    for kind, rows in (
        ("missing on the target", source - target),
        ("only on the target", target - source),
    ):
        if rows:
            shown = ", ".join(f"{uri} (level {level})" for uri, level, _ in sorted(rows)[:_SHOWN])
            problems.append(f"{len(rows)} index row(s) {kind}: {shown}")
    return problems


async def verify_account(
    source: Store, target: Store, account_id: str, source_tree: TreeDigest | None = None
) -> list[str]:
    """Every difference between the account on ``source`` and on ``target`` (``source_tree``:
    the source's digest when it is known already)."""
    before = source_tree if source_tree is not None else await digest_tree(source, account_id)
    problems = compare_trees(before, await digest_tree(target, account_id))
    problems += compare_rows(
        await index_keys(source, account_id), await index_keys(target, account_id)
    )
    counts = await count_rows(source.db, account_id), await count_rows(target.db, account_id)
    for table, count in counts[0].items():
        if counts[1][table] != count:
            problems.append(
                f"{table} rows: {count} on the source, {counts[1][table]} on the target"
            )
    return problems
