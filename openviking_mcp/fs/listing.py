"""How listed entries are rendered and paged, shared by ``ls`` and ``tree``.

An entry takes the form its request asks for (``original`` or ``agent``); directories get
their L0 abstract with ``include_abstract`` (the default in agent output) and their L1
overview with ``include_overview``, files an empty string in both. ``extra_fields`` apply to
original output, as the original server's do: ``locked`` adds ``isLocked`` (a path lock held on
the entry or an ancestor), ``id`` a file's index record id, ``count`` the index rows under a
directory (only the ones the caller may read). Unknown names are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from openviking_mcp.contract.access import readable_prefixes
from openviking_mcp.contract.errors import PermissionDeniedError
from openviking_mcp.contract.fs import AgentEntry, FileEntry, ListingRequest
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.storage import Entry
from openviking_mcp.storage.index import IndexFilter, record_id
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE
from openviking_mcp.store import Store, iso_time

__all__ = [
    "EntryRenderer",
    "file_record_id",
    "page",
    "readable_row_count",
    "truncate_abstract",
    "truncate_overview",
]

T = TypeVar("T")


def truncate_abstract(text: str, limit: int) -> str:
    """An abstract cut to ``limit`` characters, ``...`` marking the cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def truncate_overview(text: str, limit: int) -> str:
    """An overview cut to ``limit`` characters as the original cuts it: the last three become
    ``...`` (a limit of three or less leaves only dots)."""
    if len(text) <= limit:
        return text
    return "." * limit if limit <= 3 else text[: limit - 3] + "..."


def page(items: Sequence[T], offset: int, size: int, node_limit: int) -> tuple[list[T], bool]:
    """``size`` items after the first ``offset``, and whether more follow. ``node_limit`` is
    the requested limit: a page asked with a limit below one never reports more."""
    chosen = list(items[offset : offset + size])
    return chosen, node_limit > 0 and len(items) > offset + size


async def file_record_id(store: Store, ctx: RequestContext, uri: VikingURI) -> str:
    """The id of the file's first content row (a whole small file, else its first passage);
    the whole-file id when it has no row yet."""
    account = ctx.account_id
    whole = record_id(account, uri.uri, 2, "")
    if not store.indexing_enabled:
        return whole
    first = record_id(account, uri.uri, 2, "p0")
    found = {row.id for row in await store.index.get([whole, first])}
    return first if first in found and whole not in found else whole


async def readable_row_count(store: Store, ctx: RequestContext, uri: VikingURI) -> int:
    """How many index rows lie under the directory ``uri`` in the parts ``ctx`` may read."""
    try:
        prefixes = readable_prefixes(ctx, [uri])
    except PermissionDeniedError:
        return 0
    flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=tuple(p.uri for p in prefixes))
    return await store.index.count(flt)


@dataclass(frozen=True, slots=True)
class EntryRenderer:
    """Renders the entries of one listing request for one caller."""

    store: Store
    ctx: RequestContext
    req: ListingRequest
    tags: Mapping[str, list[str]] | None = None
    """Stored tags by URI, when the request asks for them."""

    @property
    def _abstracts(self) -> bool:
        wanted = self.req.include_abstract
        return self.req.output == "agent" if wanted is None else wanted

    @property
    def _extras(self) -> frozenset[str]:
        if self.req.output != "original":
            return frozenset()
        return frozenset(self.req.extra_fields or ())

    async def dir_abstract(self, uri: VikingURI) -> str:
        """A directory's L0 body cut to ``abs_limit`` (a placeholder if missing)."""
        store = self.store
        body = await store.sidecar_body(store.key(self.ctx, uri), ABSTRACT_FILE)
        if body is None:
            return f"[{ABSTRACT_FILE} is not ready]"
        return truncate_abstract(body, self.req.abs_limit)

    async def _dir_overview(self, uri: VikingURI) -> str:
        body = await self.store.sidecar_body(self.store.key(self.ctx, uri), OVERVIEW_FILE)
        text = f"[{OVERVIEW_FILE} is not ready]" if body is None else body
        return truncate_overview(text, self.req.overview_limit)  # the placeholder too

    async def render(
        self, uri: VikingURI, entry: Entry, rel_path: str | None = None
    ) -> FileEntry | AgentEntry:
        """``entry`` at ``uri`` in the request's form (``rel_path`` for tree entries)."""
        abstract = overview = None
        if self._abstracts:
            abstract = await self.dir_abstract(uri) if entry.is_dir else ""
        if self.req.include_overview:
            overview = await self._dir_overview(uri) if entry.is_dir else ""
        if self.req.output == "agent":
            return AgentEntry(
                uri=uri.uri,
                size=entry.size,
                is_dir=entry.is_dir,
                mod_time=iso_time(entry.mtime),
                abstract=abstract,
                rel_path=rel_path,
                overview=overview,
                tags=self._tags_of(uri),
            )
        item = FileEntry(
            name=entry.name,
            size=entry.size,
            mode=entry.mode,
            mod_time=iso_time(entry.mtime),
            is_dir=entry.is_dir,
            uri=uri.uri,
            rel_path=rel_path,
            abstract=abstract,
            overview=overview,
            tags=self._tags_of(uri),
        )
        await self._add_extras(item, uri, entry)
        return item

    def _tags_of(self, uri: VikingURI) -> list[str] | None:
        return None if self.tags is None else self.tags.get(uri.uri, [])

    async def _add_extras(self, item: FileEntry, uri: VikingURI, entry: Entry) -> None:
        extras = self._extras
        store, ctx = self.store, self.ctx
        if "locked" in extras:
            item.is_locked = store.locks.is_locked(store.lock_path(ctx, uri))
        if "id" in extras and not entry.is_dir:
            item.id = await file_record_id(store, ctx, uri)
        if "count" in extras and entry.is_dir and store.indexing_enabled:
            item.count = await readable_row_count(store, ctx, uri)
