"""Filesystem and content operations: ls, tree, stat, mkdir, rm, mv, read, abstract, overview,
write, edit, read_bytes.

Listing rules follow the original: names starting with ``.`` are hidden unless they are
directories or ``show_all_hidden`` is set; directories come first. Entries in ``original`` form
are ``{name, size, mode, modTime, isDir, uri}``; ``agent`` form is
``{uri, size, isDir, modTime, abstract}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from openviking_mcp.contract.access import visible_user_ids
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.ops.base import ServiceCore, iso_time
from openviking_mcp.storage import Entry
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    SIDECAR_FILES,
    render_sidecar,
)

__all__ = ["FilesystemOps", "ListOutput", "SortBy", "SortOrder", "WriteMode"]

ListOutput = Literal["original", "agent"]
WriteMode = Literal["replace", "append", "create"]
SortBy = Literal["name", "mtime"]
SortOrder = Literal["asc", "desc"]
_WRITE_MODES = ("replace", "append", "create")
_MAX_NODE_LIMIT = 100_000

#: ``change(entry, current_bytes) -> (bytes, append) | None`` of :meth:`_write_locked`.
_Change = Callable[[Entry | None, bytes | None], tuple[bytes, bool] | None]


def _positive(name: str, value: int, maximum: int = _MAX_NODE_LIMIT) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > maximum:
        raise InvalidArgumentError(
            f"{name} must be an integer between 1 and {maximum}", {"field": name, "value": value}
        )
    return value


def _decode_text(uri: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgumentError(
            f"Not a UTF-8 text file: {uri}; use download (read_bytes) for binary content",
            {"uri": uri, "reason": "binary"},
        ) from None


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


class FilesystemOps(ServiceCore):
    # -- listing ---------------------------------------------------------------------------

    def _visible(
        self, ctx: RequestContext, parent: VikingURI, entries: list[Entry], show_all_hidden: bool
    ) -> list[Entry]:
        shown = [e for e in entries if show_all_hidden or e.is_dir or not e.name.startswith(".")]
        if parent.parts == ("user",):
            allowed = set(visible_user_ids(ctx, [e.name for e in shown]))
            shown = [e for e in shown if e.name in allowed]
        return shown

    async def _dir_abstract(self, ctx: RequestContext, uri: VikingURI, limit: int) -> str:
        body = await self._sidecar_body(self._key(ctx, uri), ABSTRACT_FILE)
        return f"[{ABSTRACT_FILE} is not ready]" if body is None else _truncate(body, limit)

    async def _render(
        self, ctx: RequestContext, uri: VikingURI, entry: Entry, output: ListOutput, abs_limit: int
    ) -> dict[str, Any]:
        if output == "agent":
            abstract = await self._dir_abstract(ctx, uri, abs_limit) if entry.is_dir else ""
            return {
                "uri": uri.uri,
                "size": entry.size,
                "isDir": entry.is_dir,
                "modTime": iso_time(entry.mtime),
                "abstract": abstract,
            }
        return {
            "name": entry.name,
            "size": entry.size,
            "mode": entry.mode,
            "modTime": iso_time(entry.mtime),
            "isDir": entry.is_dir,
            "uri": uri.uri,
        }

    async def ls(
        self,
        ctx: RequestContext,
        uri: str = "viking://",
        *,
        simple: bool = False,
        recursive: bool = False,
        output: ListOutput = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        sort_by: SortBy = "name",
        sort_order: SortOrder = "asc",
    ) -> list[Any]:
        """Children of a directory (``recursive``: the whole tree, like :meth:`tree`)."""
        if output not in ("original", "agent"):
            raise InvalidArgumentError("output must be 'original' or 'agent'", {"output": output})
        if sort_by not in ("name", "mtime") or sort_order not in ("asc", "desc"):
            raise InvalidArgumentError("sort_by must be name|mtime and sort_order asc|desc")
        _positive("node_limit", node_limit)
        if recursive:
            items = await self.tree(
                ctx,
                uri,
                output=output,
                abs_limit=abs_limit,
                show_all_hidden=show_all_hidden,
                node_limit=node_limit,
            )
            return [item["uri"] for item in items] if simple else items
        base = self._resolve(ctx, uri)
        await self._require_dir(ctx, base)
        with self._fs_errors(base, "directory"):
            entries = self._visible(
                ctx, base, await self.store.listdir(self._key(ctx, base)), show_all_hidden
            )

        def order(e: Entry) -> tuple[bool, Any]:
            return (not e.is_dir, e.mtime if sort_by == "mtime" else e.name)

        entries.sort(key=order, reverse=sort_order == "desc")
        if sort_order == "desc":  # directories stay first
            entries.sort(key=lambda e: not e.is_dir)
        entries = entries[:node_limit]
        if simple:
            return [base.join(e.name).uri for e in entries]
        return [await self._render(ctx, base.join(e.name), e, output, abs_limit) for e in entries]

    async def tree(
        self,
        ctx: RequestContext,
        uri: str = "viking://",
        *,
        output: ListOutput = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        level_limit: int = 3,
    ) -> list[dict[str, Any]]:
        """Descendants depth-first, each with ``rel_path`` (directories end with ``/``)."""
        _positive("node_limit", node_limit)
        _positive("level_limit", level_limit, 100)
        base = self._resolve(ctx, uri)
        await self._require_dir(ctx, base)
        base_key = self._key(ctx, base)
        with self._fs_errors(base, "directory"):
            walked = await self.store.walk(base_key, level_limit, _MAX_NODE_LIMIT)
        result: list[dict[str, Any]] = []
        hidden_prefixes: list[str] = []
        for entry in walked:
            rel = entry.key[len(base_key) + 1 :]
            if any(rel.startswith(p) for p in hidden_prefixes):
                continue
            child = base.join(rel)
            parent = child.parent or base
            if not self._visible(ctx, parent, [entry], show_all_hidden):
                if entry.is_dir:
                    hidden_prefixes.append(rel + "/")
                continue
            item = await self._render(ctx, child, entry, output, abs_limit)
            item["rel_path"] = rel + "/" if entry.is_dir else rel
            result.append(item)
            if len(result) >= node_limit:
                break
        return result

    async def stat(self, ctx: RequestContext, uri: str) -> dict[str, Any]:
        target = self._resolve(ctx, uri)
        with self._fs_errors(target):
            entry = await self.store.stat(self._key(ctx, target))
        return {
            "name": target.name,
            "size": entry.size,
            "mode": entry.mode,
            "modTime": iso_time(entry.mtime),
            "isDir": entry.is_dir,
            "isLocked": self.locks.is_locked(self._lock_path(ctx, target)),
            "uri": target.uri,
            "context_type": context_type_of(target),
        }

    # -- structure -------------------------------------------------------------------------

    async def mkdir(
        self, ctx: RequestContext, uri: str, description: str | None = None
    ) -> dict[str, Any]:
        """Create a directory (and its parents). ``description`` becomes its L0 abstract."""
        target = self._resolve(ctx, uri, mutate=True)
        key = self._key(ctx, target)
        async with self.locks.lock(self._lock_path(ctx, target)):
            if await self.store.exists(key):
                raise AlreadyExistsError(target.uri, "directory")
            with self._fs_errors(target, "directory"):
                await self.store.mkdir(key)
                if description and description.strip():
                    text = render_sidecar(
                        target.uri, description, component="user", trigger="mkdir"
                    )
                    await self.store.write_bytes(f"{key}/{ABSTRACT_FILE}", text.encode("utf-8"))
        if description and description.strip():
            await self._after_write(ctx, target, wait=False, timeout=None)
        return {"uri": target.uri}

    async def rm(self, ctx: RequestContext, uri: str, *, recursive: bool = False) -> dict[str, Any]:
        """Remove a file or directory. A directory with content needs ``recursive=True``."""
        target = self._resolve(ctx, uri, mutate=True)
        key = self._key(ctx, target)
        async with self.locks.lock(self._lock_path(ctx, target)):
            with self._fs_errors(target):
                entry = await self.store.stat(key)
                if entry.is_dir and not recursive:
                    children = await self.store.listdir(key)
                    if any(c.name not in SIDECAR_FILES for c in children):
                        raise FailedPreconditionError(
                            f"Cannot remove non-empty directory without recursive: {target.uri}",
                            {"uri": target.uri, "expected_flag": "recursive"},
                        )
                await self.store.remove(key, recursive=entry.is_dir)
        await self._after_remove(ctx, target)
        return {"uri": target.uri, "isDir": entry.is_dir}

    async def mv(self, ctx: RequestContext, from_uri: str, to_uri: str) -> dict[str, Any]:
        """Move or rename. The destination must not exist; its parents are created."""
        source = self._resolve(ctx, from_uri, field="from_uri", mutate=True)
        dest = self._resolve(ctx, to_uri, field="to_uri", mutate=True)
        if source.is_ancestor_of(dest):
            raise InvalidArgumentError(
                f"Cannot move {source.uri} into itself ({dest.uri})",
                {"from": source.uri, "to": dest.uri},
            )
        src_key, dst_key = self._key(ctx, source), self._key(ctx, dest)
        async with self.locks.lock(self._lock_path(ctx, source), self._lock_path(ctx, dest)):
            with self._fs_errors(source):
                entry = await self.store.stat(src_key)
            if not entry.is_dir and to_uri.strip().endswith("/"):
                raise InvalidArgumentError(
                    "Moving a file needs a destination that names the file (no trailing '/')",
                    {"from": source.uri, "to": to_uri},
                )
            if await self.store.exists(dst_key):
                raise AlreadyExistsError(dest.uri, "directory" if entry.is_dir else "file")
            with self._fs_errors(dest):
                await self.store.move(src_key, dst_key)
        await self._after_move(ctx, source, dest)
        return {"from": source.uri, "to": dest.uri}

    # -- content ---------------------------------------------------------------------------

    async def read_bytes(self, ctx: RequestContext, uri: str) -> bytes:
        """Raw bytes of a file (``download``)."""
        target = self._resolve(ctx, uri)
        with self._fs_errors(target):
            return await self.store.read_bytes(self._key(ctx, target))

    async def read(
        self, ctx: RequestContext, uri: str, *, offset: int = 0, limit: int = -1, raw: bool = False
    ) -> str:
        """Text of a file (L2). ``offset``/``limit`` select lines (``limit=-1``: to the end).

        ``raw`` returns the stored text as is: memory files keep their hidden fields block and
        skills their secret placeholders."""
        if offset < 0 or limit < -1:
            raise InvalidArgumentError(
                "offset must be >= 0 and limit >= -1", {"offset": offset, "limit": limit}
            )
        target = self._resolve(ctx, uri)
        text = _decode_text(uri, await self.read_bytes(ctx, uri))
        if not raw:
            text = await self._after_read(ctx, target, text)
        if offset == 0 and limit == -1:
            return text
        lines = text.splitlines(keepends=True)
        end = None if limit == -1 else offset + limit
        return "".join(lines[offset:end])

    async def _sidecar(self, ctx: RequestContext, uri: str, name: str, placeholder: str) -> str:
        target = self._resolve(ctx, uri)
        with self._fs_errors(target):
            entry = await self.store.stat(self._key(ctx, target))
        directory = target if entry.is_dir else (target.parent or target)
        body = await self._sidecar_body(self._key(ctx, directory), name)
        return placeholder.format(uri=directory.uri) if body is None else body

    async def abstract(self, ctx: RequestContext, uri: str) -> str:
        """L0 of a directory (a file's parent directory), body only."""
        return await self._sidecar(
            ctx, uri, ABSTRACT_FILE, "# {uri} [Directory abstract is not ready]"
        )

    async def overview(self, ctx: RequestContext, uri: str) -> str:
        """L1 of a directory (a file's parent directory), body only."""
        return await self._sidecar(
            ctx, uri, OVERVIEW_FILE, "# {uri}\n\n[Directory overview is not ready]"
        )

    async def _write_locked(
        self,
        ctx: RequestContext,
        target: VikingURI,
        change: _Change,
        *,
        read: bool = False,
    ) -> int | None:
        """Read-modify-write of one file under its path lock.

        ``change(entry, data)`` gets the file's entry (``None`` if missing) and, with ``read``,
        its current bytes; it returns ``(bytes, append)`` to write or ``None`` to leave the file
        alone, and raises to refuse. Returns the bytes written (``None``: nothing written).
        The lock covers the read and the write, so no concurrent write is lost in between.
        """
        key = self._key(ctx, target)
        async with self.locks.lock(self._lock_path(ctx, target)):
            try:
                entry: Entry | None = await self.store.stat(key)
            except FileNotFoundError:
                entry = None
            if entry is not None and entry.is_dir:
                raise InvalidArgumentError(
                    f"Cannot write to a directory: {target.uri}",
                    {"uri": target.uri, "reason": "is_directory"},
                )
            current: bytes | None = None
            if read and entry is not None:
                with self._fs_errors(target):
                    current = await self.store.read_bytes(key)
            planned = change(entry, current)
            if planned is None:
                return None
            data, append = planned
            with self._fs_errors(target):
                return await self.store.write_bytes(key, data, append=append)

    async def write(
        self,
        ctx: RequestContext,
        uri: str,
        content: str,
        *,
        mode: WriteMode = "replace",
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Write a text file atomically, then refresh its tiers and vectors.

        ``replace`` and ``append`` need an existing file; ``create`` needs a new path and makes
        its parent directories. With ``wait`` the call returns once the file is re-embedded and
        its directory's L0/L1 regenerated; otherwise that work is queued (``task_id``).
        """
        if mode not in _WRITE_MODES:
            raise InvalidArgumentError(
                f"mode must be one of {', '.join(_WRITE_MODES)}", {"mode": mode}
            )
        if not isinstance(content, str):
            raise InvalidArgumentError("content must be a string", {"field": "content"})
        target = self._resolve(ctx, uri, mutate=True)

        def change(entry: Entry | None, _: bytes | None) -> tuple[bytes, bool]:
            if mode == "create" and entry is not None:
                raise AlreadyExistsError(target.uri, "file")
            if mode != "create" and entry is None:
                raise NotFoundError(target.uri, "file")
            return content.encode("utf-8"), mode == "append"

        written = await self._write_locked(ctx, target, change)
        return {
            "uri": target.uri,
            "context_type": context_type_of(target),
            "mode": mode,
            "written_bytes": written or 0,
            "content_updated": True,
            **await self._after_write(ctx, target, wait=wait, timeout=timeout),
        }

    async def edit(
        self,
        ctx: RequestContext,
        uri: str,
        old_string: str,
        new_string: str,
        *,
        replace_all: bool = False,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Replace an exact substring of a UTF-8 text file, then refresh its tiers and vectors.

        ``old_string`` must occur exactly once, or ``replace_all`` must be set. The file is read
        and rewritten under the same path lock as :meth:`write`, so a concurrent append is never
        lost. ``old_string == new_string`` writes nothing (``changed: False``).
        """
        for name, value in (("old_string", old_string), ("new_string", new_string)):
            if not isinstance(value, str):
                raise InvalidArgumentError(f"{name} must be a string", {"field": name})
        if not old_string:
            raise InvalidArgumentError(
                "old_string must not be empty (use write to create or replace a whole file)",
                {"field": "old_string"},
            )
        target = self._resolve(ctx, uri, mutate=True)
        identical = old_string == new_string
        outcome = {"replacements": 0}

        def change(entry: Entry | None, data: bytes | None) -> tuple[bytes, bool] | None:
            if entry is None or data is None:
                raise NotFoundError(target.uri, "file")
            text = _decode_text(target.uri, data)
            matches = text.count(old_string)
            if matches == 0:
                raise InvalidArgumentError(
                    f"old_string not found in {target.uri}", {"uri": target.uri, "matches": 0}
                )
            if identical:
                return None
            if matches > 1 and not replace_all:
                raise InvalidArgumentError(
                    f"old_string occurs {matches} times in {target.uri}; pass replace_all=true "
                    "to replace every occurrence, or include more surrounding context to make "
                    "it unique",
                    {"uri": target.uri, "matches": matches},
                )
            outcome["replacements"] = matches if replace_all else 1
            return text.replace(old_string, new_string, -1 if replace_all else 1).encode(), False

        written = await self._write_locked(ctx, target, change, read=True)
        result: dict[str, Any] = {
            "uri": target.uri,
            "context_type": context_type_of(target),
            "replacements": outcome["replacements"],
            "written_bytes": written or 0,
            "changed": written is not None,
        }
        if written is None:
            result.update(semantic_status="skipped", vector_status="skipped")
            return result
        return {**result, **await self._after_write(ctx, target, wait=wait, timeout=timeout)}
