"""The relations service: ``link``, ``unlink``, ``get`` and the ``relations`` field of find
hits.

A relation belongs to its source and is stored in a hidden ledger, ``.relations.json``, in the
source's directory (for a file: its parent directory). The ledger is a JSON object mapping each
source URI to its links::

    {"viking://resources/docs/a.md": [{"uri": "...", "reason": "...", "created_at": "..."}]}

Linking needs read access to both ends and write access to the source. Reads leave out links
whose target no longer exists or that the reader may not see (another user's space), so a
deleted target simply disappears. Find hits carry up to five relations each; one find reads
each hit's ledger once, and ledgers read for find hits are reused for a couple of seconds
(this process's own link and unlink changes show at once; another process's within that time).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from openviking_mcp.contract.access import can_read
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.relations import (
    LinkRequest,
    LinkResult,
    Relation,
    RelationsRequest,
    UnlinkRequest,
    UnlinkResult,
)
from openviking_mcp.contract.uri import VikingURI, parse_uri
from openviking_mcp.store import Store, iso_time

__all__ = ["RELATIONS_FILE", "RelationService", "rebase_ledger"]

logger = logging.getLogger("openviking_mcp.relations")

RELATIONS_FILE = ".relations.json"
_HIT_RELATIONS = 5  # per find hit
_FIND_LEDGERS = 64  # ledgers read per find at most
_MAX_LINKS = 1000  # per source
_MAX_REASON = 4000
_HIT_LEDGER_SECONDS = 2.0  # how long a ledger read for find hits is reused
_HIT_LEDGER_CACHE = 4096

Ledger = dict[str, list[dict[str, Any]]]


def _parse_ledger(raw: bytes | str) -> Ledger:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: Ledger = {}
    for source, links in data.items():
        if isinstance(source, str) and isinstance(links, list):
            out[source] = [
                link
                for link in links
                if isinstance(link, dict) and isinstance(link.get("uri"), str)
            ]
    return out


def _dump_ledger(ledger: Ledger) -> bytes:
    return json.dumps(ledger, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def rebase_ledger(data: bytes, old_root: str, new_root: str) -> bytes:
    """A ledger with every URI at or below ``old_root`` moved below ``new_root`` (pack import);
    unreadable ledgers are returned unchanged."""
    ledger = _parse_ledger(data)
    if not ledger:
        return data

    def move(uri: str) -> str:
        if uri == old_root or uri.startswith(old_root + "/"):
            return new_root + uri[len(old_root) :]
        return uri

    return _dump_ledger(
        {
            move(src): [{**link, "uri": move(link["uri"])} for link in links]
            for src, links in ledger.items()
        }
    )


class RelationService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._hit_ledgers: dict[str, tuple[float, Ledger]] = {}

    # -- the ledger ------------------------------------------------------------------------

    async def _relations_dir(self, ctx: RequestContext, source: VikingURI) -> VikingURI:
        """The directory whose ledger holds ``source``'s links (404 if ``source`` is missing)."""
        with self._store.fs_errors(source):
            entry = await self._store.content.stat(self._store.key(ctx, source))
        if entry.is_dir or source.parent is None:
            return source
        return source.parent

    def _relations_key(self, ctx: RequestContext, folder: VikingURI) -> str:
        return f"{self._store.key(ctx, folder)}/{RELATIONS_FILE}"

    async def _read_relations(self, key: str) -> Ledger:
        try:
            raw = await self._store.content.read_bytes(key)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return {}
        ledger = _parse_ledger(raw)
        if not ledger and raw.strip() not in (b"", b"{}"):
            logger.warning("ignoring unreadable relations ledger %s", key)
        return ledger

    async def _hit_relations(self, keys: list[str]) -> dict[str, Ledger]:
        """The ledgers at ``keys`` for find hits: the ones not read in the last couple of
        seconds are read together, in one round trip to the content store."""
        now = time.monotonic()
        out: dict[str, Ledger] = {}
        for key in keys:
            cached = self._hit_ledgers.get(key)
            if cached is not None and cached[0] > now:
                out[key] = cached[1]
        missing = [k for k in keys if k not in out]
        if missing:
            if len(self._hit_ledgers) + len(missing) >= _HIT_LEDGER_CACHE:
                self._hit_ledgers.clear()
            for key, raw in (await self._store.content.read_many(missing)).items():
                ledger = _parse_ledger(raw) if raw is not None else {}
                self._hit_ledgers[key] = (now + _HIT_LEDGER_SECONDS, ledger)
                out[key] = ledger
        return out

    async def _write_relations(self, key: str, ledger: Ledger) -> None:
        self._hit_ledgers.pop(key, None)
        kept = {source: links for source, links in ledger.items() if links}
        if kept:
            await self._store.content.write_bytes(key, _dump_ledger(kept))
        elif await self._store.content.exists(key):
            await self._store.content.remove(key)

    async def _visible_links(
        self, ctx: RequestContext, links: list[dict[str, Any]], cap: int | None = None
    ) -> list[dict[str, str]]:
        """``[{uri, reason}]`` of the links whose target exists and ``ctx`` may read."""
        out: list[dict[str, str]] = []
        for link in links:
            try:
                target = parse_uri(str(link["uri"]))
            except OpenVikingError:
                continue
            if target.scope == "~" or not can_read(ctx, target):
                continue
            if not await self._store.content.exists(self._store.key(ctx, target)):
                continue  # the target was deleted
            out.append({"uri": target.uri, "reason": str(link.get("reason") or "")})
            if cap is not None and len(out) >= cap:
                break
        return out

    # -- operations ------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, req: RelationsRequest) -> list[Relation]:
        """The links of ``uri`` (deleted or unreadable targets left out)."""
        source = self._store.resolve(ctx, req.uri)
        folder = await self._relations_dir(ctx, source)
        ledger = await self._read_relations(self._relations_key(ctx, folder))
        return [Relation(**r) for r in await self._visible_links(ctx, ledger.get(source.uri, []))]

    async def link(self, ctx: RequestContext, req: LinkRequest) -> LinkResult:
        """Link ``from_uri`` to each of ``to_uris`` (an existing link gets the new reason)."""
        from_uri, to_uris, reason = req.from_uri, req.to_uris, req.reason
        source = self._store.resolve(ctx, from_uri, field="from_uri", mutate=True)
        raw = [to_uris] if isinstance(to_uris, str) else list(to_uris)
        if not raw:
            raise InvalidArgumentError("to_uris must name at least one URI", {"field": "to_uris"})
        if len(reason) > _MAX_REASON:
            raise InvalidArgumentError(
                f"reason is longer than {_MAX_REASON} characters", {"field": "reason"}
            )
        targets: list[VikingURI] = []
        for item in raw:
            target = self._store.resolve(ctx, item, field="to_uris")
            if target == source:
                raise InvalidArgumentError("A context cannot be linked to itself", {"uri": item})
            if not await self._store.content.exists(self._store.key(ctx, target)):
                raise NotFoundError(target.uri)
            if target not in targets:
                targets.append(target)
        folder = await self._relations_dir(ctx, source)
        key = self._relations_key(ctx, folder)
        async with self._store.locks.lock((*self._store.lock_path(ctx, folder), RELATIONS_FILE)):
            ledger = await self._read_relations(key)
            links = ledger.setdefault(source.uri, [])
            now = iso_time(time.time())
            for target in targets:
                known = next((link for link in links if link["uri"] == target.uri), None)
                if known is not None:
                    known["reason"] = reason
                else:
                    links.append({"uri": target.uri, "reason": reason, "created_at": now})
            if len(links) > _MAX_LINKS:
                raise InvalidArgumentError(
                    f"A context can have at most {_MAX_LINKS} relations", {"uri": source.uri}
                )
            await self._write_relations(key, ledger)
        return LinkResult(from_=source.uri, to=[t.uri for t in targets])

    async def unlink(self, ctx: RequestContext, req: UnlinkRequest) -> UnlinkResult:
        """Remove the link ``from_uri`` → ``to_uri`` (``removed`` is false if there was none)."""
        source = self._store.resolve(ctx, req.from_uri, field="from_uri", mutate=True)
        target = self._store.resolve(ctx, req.to_uri, field="to_uri")
        folder = await self._relations_dir(ctx, source)
        key = self._relations_key(ctx, folder)
        async with self._store.locks.lock((*self._store.lock_path(ctx, folder), RELATIONS_FILE)):
            ledger = await self._read_relations(key)
            links = ledger.get(source.uri, [])
            kept = [link for link in links if link["uri"] != target.uri]
            removed = len(kept) != len(links)
            if removed:
                ledger[source.uri] = kept
                await self._write_relations(key, ledger)
        return UnlinkResult(from_=source.uri, to=target.uri, removed=removed)

    # -- find hits -------------------------------------------------------------------------

    async def attach(self, ctx: RequestContext, result: dict[str, Any]) -> None:
        """Give every hit ``relations: [{uri, reason}]`` (at most five). A hit's ledger is in
        the parent of its URI (``dir/.abstract.md`` → ``dir``, ``dir/file`` → ``dir``)."""
        wanted: list[tuple[dict[str, Any], str, str]] = []  # hit, ledger key, source URI
        keys: dict[str, None] = {}
        for bucket in ("memories", "resources", "skills"):
            for hit in result.get(bucket, []):
                hit["relations"] = []
                try:
                    uri = parse_uri(str(hit["uri"]))
                except OpenVikingError:
                    continue
                folder = uri.parent
                if folder is None or folder.is_root:
                    continue
                key = self._relations_key(ctx, folder)
                if key not in keys and len(keys) >= _FIND_LEDGERS:
                    continue
                keys[key] = None
                source = uri if hit.get("level") == 2 else folder
                wanted.append((hit, key, source.uri))
        ledgers = await self._hit_relations(list(keys)) if keys else {}
        for hit, key, source_uri in wanted:
            links = ledgers[key].get(source_uri)
            if links:
                hit["relations"] = await self._visible_links(ctx, links, _HIT_RELATIONS)
