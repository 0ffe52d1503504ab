"""Memory files and their index rows, checked together.

A memory write is two writes: the file, then its index rows (and its folders' tiers). A
process can die between them. :func:`reconcile` makes the index agree with the files at a set
of memory URIs: a file without rows, a folder without tier rows or rows of a file that is gone
are re-indexed (:meth:`IndexingService.refresh_now` forgets the rows of missing files). Commit
phase 2 runs it over every output it recorded before it reports ``completed``, so a retried
task re-checks its outputs instead of trusting that an earlier attempt finished them.
"""

from __future__ import annotations

from collections.abc import Sequence

from openviking_mcp.contract.errors import UnavailableError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, parse_uri
from openviking_mcp.indexing.service import IndexingService
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.store import Store

__all__ = ["mismatched", "reconcile"]


def _folders(uri: VikingURI, root: VikingURI) -> list[VikingURI]:
    """The folders from ``uri``'s parent up to ``root`` (inclusive)."""
    out: list[VikingURI] = []
    current = uri.parent
    while current is not None and root.is_ancestor_of(current):
        out.append(current)
        current = current.parent
    return out


async def mismatched(
    store: Store, ctx: RequestContext, root: VikingURI, uris: Sequence[str]
) -> list[str]:
    """Which of ``uris`` (files under ``root``) disagree with the index: an existing file
    without L2 rows or with a folder (up to ``root``) without tier rows, or a missing file
    that still has rows."""
    rows = await store.index.uris(IndexFilter(account_id=ctx.account_id, uri_prefixes=(root.uri,)))
    levels: dict[str, set[int]] = {}
    for row_uri, level, _ in rows:
        levels.setdefault(row_uri, set()).add(level)
    out: list[str] = []
    for text in dict.fromkeys(uris):
        uri = parse_uri(text)
        exists = await store.content.exists(store.key(ctx, uri))
        if not exists:
            if uri.uri in levels:
                out.append(uri.uri)
            continue
        if 2 not in levels.get(uri.uri, ()):
            out.append(uri.uri)
            continue
        for folder in _folders(uri, root):
            if not levels.get(folder.uri) and await store.content.exists(store.key(ctx, folder)):
                out.append(uri.uri)
                break
    return out


async def reconcile(
    store: Store,
    indexing: IndexingService,
    ctx: RequestContext,
    root: VikingURI,
    uris: Sequence[str],
) -> list[str]:
    """Re-index the ``uris`` that :func:`mismatched` finds; returns them. Raises
    ``UNAVAILABLE`` (transient: a task is retried) if the index still disagrees."""
    if not uris or not store.indexing_enabled:
        return []
    stale = await mismatched(store, ctx, root, uris)
    if stale:
        await indexing.refresh_now(ctx, stale, recursive=False)
        still = await mismatched(store, ctx, root, stale)
        if still:
            raise UnavailableError(
                f"Index rows still missing for {', '.join(still[:5])}",
                {"missing": still[:20]},
            )
    return stale
