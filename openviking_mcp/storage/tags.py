"""The explicit retrieval tags of paths: the ``path_tags`` table of the metadata database.

One row per tagged path (``uri`` exact, no inheritance): its ``k=v`` tags as a JSON list. A
path without tags has no row. Indexing reads the tags of each path it (re)indexes, so they
survive reindexing and content edits; moves and removals keep the rows in step with the tree.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from openviking_mcp.contract.tags import normalize_tags
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["PathTags"]

_BELOW = "account_id = ? AND (uri = ? OR substr(uri, 1, ?) = ?)"
_CHUNK = 500


def _below(uri: str) -> tuple[str, int, str]:
    """The parameters of :data:`_BELOW` after the account id: ``uri`` and what is under it."""
    prefix = uri.rstrip("/") + "/"
    return (uri.rstrip("/"), len(prefix), prefix)


def _decode(raw: object) -> list[str]:
    try:
        value = json.loads(str(raw))
    except json.JSONDecodeError:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


class PathTags:
    """The ``path_tags`` records of one metadata database."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db

    async def get(self, account_id: str, uri: str) -> list[str]:
        """The tags of ``uri`` (``[]`` when it has none)."""
        return (await self.lookup(account_id, [uri])).get(uri, [])

    async def lookup(self, account_id: str, uris: Sequence[str]) -> dict[str, list[str]]:
        """The tags of each of ``uris`` that has some, in one query per 500 URIs: the bulk
        lookup for listings (``ls``/``tree`` entries, ``grep``/``glob`` matches)."""
        found: dict[str, list[str]] = {}
        unique = list(dict.fromkeys(uris))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._db.fetchall(
                f"SELECT uri, tags FROM path_tags WHERE account_id = ? AND uri IN ({marks})",
                (account_id, *chunk),
            )
            found.update({str(r["uri"]): _decode(r["tags"]) for r in rows})
        return {u: t for u, t in found.items() if t}

    async def carrying(
        self, account_id: str, uris: Sequence[str], tags: Sequence[str] | None, *, shown: bool
    ) -> dict[str, list[str]] | None:
        """The stored tags of those of ``uris`` that carry all of ``tags`` (``k=v``, normalised
        first; every URI when there are none), for a listing or search that filters on tags or
        shows them. ``None`` when it does neither (``shown`` false and no tags): no lookup."""
        wanted = set(normalize_tags(tags, discard_invalid=True))
        if not wanted and not shown:
            return None
        stored = await self.lookup(account_id, uris)
        own = {uri: stored.get(uri, []) for uri in uris}
        return {uri: found for uri, found in own.items() if wanted <= set(found)}

    async def under(self, account_id: str, uri: str) -> dict[str, list[str]]:
        """The tags of ``uri`` and of every tagged path below it."""
        rows = await self._db.fetchall(
            f"SELECT uri, tags FROM path_tags WHERE {_BELOW}", (account_id, *_below(uri))
        )
        return {str(r["uri"]): tags for r in rows if (tags := _decode(r["tags"]))}

    async def store(self, account_id: str, changes: Mapping[str, list[str]]) -> None:
        """Set the tags of each path of ``changes`` in one transaction (``[]``: untagged)."""
        now = time.time()

        def write(conn: Connection) -> None:
            for uri, tags in changes.items():
                if tags:
                    conn.execute(
                        "INSERT INTO path_tags (account_id, uri, tags, updated_at) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, uri) DO UPDATE SET "
                        "tags = excluded.tags, updated_at = excluded.updated_at",
                        (account_id, uri, json.dumps(list(tags)), now),
                    )
                else:
                    conn.execute(
                        "DELETE FROM path_tags WHERE account_id = ? AND uri = ?",
                        (account_id, uri),
                    )

        await self._db.transaction(write)

    async def moved(self, account_id: str, source: VikingURI, dest: VikingURI) -> None:
        """Carry the tags at and below ``source`` over to ``dest`` (replacing what was there)."""

        def move(conn: Connection) -> None:
            conn.execute(f"DELETE FROM path_tags WHERE {_BELOW}", (account_id, *_below(dest.uri)))
            conn.execute(
                f"UPDATE path_tags SET uri = ? || substr(uri, ?) WHERE {_BELOW}",
                (dest.uri, len(source.uri) + 1, account_id, *_below(source.uri)),
            )

        await self._db.transaction(move)

    async def copied(self, account_id: str, source: VikingURI, dest: VikingURI) -> None:
        """Give ``dest`` (and the paths below it) the tags of ``source`` and of its paths."""
        found = await self.under(account_id, source.uri)
        prefix = len(source.uri)
        await self.store(account_id, {dest.uri + uri[prefix:]: tags for uri, tags in found.items()})

    async def removed(self, account_id: str, uri: VikingURI) -> None:
        """Forget the tags at and below ``uri`` (it was removed)."""
        await self._db.transaction(
            lambda conn: conn.execute(
                f"DELETE FROM path_tags WHERE {_BELOW}", (account_id, *_below(uri.uri))
            )
        )

    async def account_deleted(self, account_id: str) -> None:
        await self._db.transaction(
            lambda conn: conn.execute("DELETE FROM path_tags WHERE account_id = ?", (account_id,))
        )
