"""Who created shared paths: the records behind the owner rule.

Shared scopes (``viking://resources``, ``viking://agent``) are written by every user of an
account; removing, moving or replacing a path there follows the owner rule of
:func:`openviking_mcp.contract.access.check_owner`. The creator of a path is recorded in the
``path_owners`` table of the metadata database, only where it differs from the creator of the
folder above: the owner of a path is the user recorded on it or on its nearest recorded
ancestor, and :data:`~openviking_mcp.contract.access.ACCOUNT_OWNER` (``""``) when there is
none (presets, bundled skills, data written before ownership was recorded, restored backups).

Creations call :meth:`PathOwners.claim` before writing (it records the caller on the topmost
folder the write will create), under a lock that covers that folder, so that of two concurrent
creations of one folder only the one that creates it is recorded; moves and removals keep the
records in step with the tree.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from openviking_mcp.contract.access import ACCOUNT_OWNER, check_owner, is_shared
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["PathOwners", "owner_id"]

Exists = Callable[[str], Awaitable[bool]]

_BELOW = "account_id = ? AND (uri = ? OR substr(uri, 1, ?) = ?)"


def owner_id(ctx: RequestContext) -> str:
    """What is recorded for a creation by ``ctx``: its user id, ``""`` for ROOT."""
    return ACCOUNT_OWNER if ctx.is_root else ctx.user_id


def _below(uri: VikingURI) -> tuple[str, int, str]:
    """The parameters of :data:`_BELOW` after the account id: ``uri`` and what is under it."""
    prefix = uri.uri + "/"
    return (uri.uri, len(prefix), prefix)


def _ancestors(uri: VikingURI) -> list[str]:
    """``uri`` and its ancestors below the scope root, nearest first."""
    out: list[str] = []
    current: VikingURI | None = uri
    while current is not None and len(current.parts) > 1:
        out.append(current.uri)
        current = current.parent
    return out


class PathOwners:
    """The ``path_owners`` records of one metadata database. ``exists(key)`` tells whether a
    storage key exists (the content store's ``exists``)."""

    def __init__(self, db: MetadataBackend, exists: Exists) -> None:
        self._db = db
        self._exists = exists

    # -- reading ---------------------------------------------------------------------------

    async def owner(self, account_id: str, uri: VikingURI) -> str:
        """The creator of ``uri``: recorded on it or its nearest recorded ancestor."""
        chain = _ancestors(uri)
        if not chain:
            return ACCOUNT_OWNER
        marks = ", ".join("?" for _ in chain)
        rows = await self._db.fetchall(
            f"SELECT uri, user_id FROM path_owners WHERE account_id = ? AND uri IN ({marks})",
            (account_id, *chain),
        )
        found = {str(r["uri"]): str(r["user_id"]) for r in rows}
        return next((found[u] for u in chain if u in found), ACCOUNT_OWNER)

    async def owners_under(self, account_id: str, uri: VikingURI) -> set[str]:
        """The creators of ``uri`` and of everything below it."""
        rows = await self._db.fetchall(
            f"SELECT DISTINCT user_id FROM path_owners WHERE {_BELOW}",
            (account_id, *_below(uri)),
        )
        return {await self.owner(account_id, uri), *(str(r["user_id"]) for r in rows)}

    async def require(self, ctx: RequestContext, uri: VikingURI) -> None:
        """The owner rule before removing, moving or replacing ``uri`` (403 if it fails)."""
        if ctx.is_admin or not is_shared(uri):
            return
        check_owner(ctx, uri, await self.owners_under(ctx.account_id, uri))

    # -- writing ---------------------------------------------------------------------------

    async def claim(self, ctx: RequestContext, uri: VikingURI) -> None:
        """Record ``ctx`` as the creator of what writing ``uri`` will create: its topmost
        missing folder (or ``uri`` itself). Call it before creating ``uri``, holding a lock
        that covers that folder (see :meth:`created_top`)."""
        top = await self.created_top(ctx, uri)
        if top is not None:
            await self.record_created(ctx, top)

    async def created_top(self, ctx: RequestContext, uri: VikingURI) -> VikingURI | None:
        """The topmost path writing ``uri`` creates (its topmost missing folder, or ``uri``),
        in a shared scope; ``None`` when nothing is recorded (not shared, or it exists)."""
        if not is_shared(uri) or len(uri.parts) < 2:
            return None
        parts = uri.parts
        for depth in range(2, len(parts) + 1):
            top = VikingURI(parts[0], parts[1:depth])
            if not await self._exists("/".join((ctx.account_id, *top.parts))):
                return top
        return None

    async def record_created(self, ctx: RequestContext, top: VikingURI) -> None:
        """Record ``ctx`` as the creator of ``top`` (from :meth:`created_top`)."""
        await self._set(ctx.account_id, top, owner_id(ctx))

    async def moved(
        self, ctx: RequestContext, source: VikingURI, dest: VikingURI, owner: str
    ) -> None:
        """Carry the records of ``source`` (whose creator was ``owner``) over to ``dest``."""
        account = ctx.account_id

        def move(conn: Connection) -> None:
            conn.execute(f"DELETE FROM path_owners WHERE {_BELOW}", (account, *_below(dest)))
            if is_shared(dest):
                conn.execute(
                    f"UPDATE path_owners SET uri = ? || substr(uri, ?) WHERE {_BELOW}",
                    (dest.uri, len(source.uri) + 1, account, *_below(source)),
                )
            else:
                conn.execute(f"DELETE FROM path_owners WHERE {_BELOW}", (account, *_below(source)))

        await self._db.transaction(move)
        if is_shared(dest) and await self.owner(account, dest) != owner:
            await self._record(account, dest, owner)

    async def removed(self, ctx: RequestContext, uri: VikingURI) -> None:
        """Forget the records of ``uri`` and everything below it (it was removed)."""
        if is_shared(uri):
            await self._forget(ctx.account_id, uri)

    async def user_deleted(self, account_id: str, user_id: str) -> None:
        """What a deleted user created now belongs to the account (a new user with the same
        id owns none of it)."""
        await self._db.transaction(
            lambda conn: conn.execute(
                "UPDATE path_owners SET user_id = ? WHERE account_id = ? AND user_id = ?",
                (ACCOUNT_OWNER, account_id, user_id),
            )
        )

    async def account_deleted(self, account_id: str) -> None:
        await self._db.transaction(
            lambda conn: conn.execute("DELETE FROM path_owners WHERE account_id = ?", (account_id,))
        )

    async def _forget(self, account_id: str, uri: VikingURI) -> None:
        await self._db.transaction(
            lambda conn: conn.execute(
                f"DELETE FROM path_owners WHERE {_BELOW}", (account_id, *_below(uri))
            )
        )

    async def _set(self, account_id: str, uri: VikingURI, user_id: str) -> None:
        """``uri`` (new) is ``user_id``'s: stale records at and below it go."""
        await self._forget(account_id, uri)
        parent = uri.parent
        inherited = await self.owner(account_id, parent) if parent is not None else ACCOUNT_OWNER
        if inherited != user_id:
            await self._record(account_id, uri, user_id)

    async def _record(self, account_id: str, uri: VikingURI, user_id: str) -> None:
        await self._db.transaction(
            lambda conn: conn.execute(
                "INSERT INTO path_owners (account_id, uri, user_id, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, uri) DO UPDATE SET "
                "user_id = excluded.user_id, created_at = excluded.created_at",
                (account_id, uri.uri, user_id, time.time()),
            )
        )
