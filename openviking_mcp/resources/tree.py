"""Where an import may land, and turning its staged source into the tree it stores.

:func:`build_tree` parses a staged file, folder or zip into ``tree_root/resource`` (each
document through :func:`~openviking_mcp.parsers.parse_document`) and describes every
stored file (kind, title, summary) for the indexer. It does blocking file work: run it in a
thread.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError, storage_error
from openviking_mcp.contract.uri import MAX_URI_BYTES, MAX_URI_SEGMENTS, VikingURI
from openviking_mcp.parsers import parse_document, sanitize_name
from openviking_mcp.resources.placement import folder_per_file
from openviking_mcp.resources.sources import SourceFilter, extract_zip, walk_source

__all__ = ["build_tree", "import_os_error", "is_resource_root", "under_resources", "unique_path"]


def is_resource_root(uri: VikingURI) -> bool:
    """``viking://resources`` or a user's ``viking://user/{uid}/resources``."""
    parts = uri.parts
    return parts == ("resources",) or (
        len(parts) == 3 and parts[0] == "user" and parts[2] == "resources"
    )


def under_resources(uri: VikingURI) -> bool:
    """Whether ``uri`` lies strictly inside a resources folder."""
    parts = uri.parts
    return (len(parts) >= 2 and parts[0] == "resources") or (
        len(parts) >= 4 and parts[0] == "user" and parts[2] == "resources"
    )


def import_os_error(exc: OSError, stage: str, target: str) -> OpenVikingError:
    """The typed error of an import's ``OSError`` (its message names no server path): while
    parsing, a name clash means two entries of the source (a zip) claim one name."""
    clash = isinstance(exc, FileExistsError | NotADirectoryError | IsADirectoryError)
    if stage == "parsing" and clash:
        return InvalidArgumentError(
            "The source holds conflicting entries (a file and a folder of one name, or one "
            "name twice)",
            {"reason": "conflicting_entries"},
        )
    return storage_error(exc, target)


def unique_path(rel: str, taken: dict[str, Any]) -> str:
    """``rel``, or ``stem_1.ext``, ``stem_2.ext``... if another source file already became it
    (``a.md`` and ``a.html`` both convert to ``a.md``)."""
    if rel not in taken:
        return rel
    folder, _, name = rel.rpartition("/")
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n = 1
    while True:
        candidate = f"{folder}/{stem}_{n}{dot}{ext}" if folder else f"{stem}_{n}{dot}{ext}"
        if candidate not in taken:
            return candidate
        n += 1


def build_tree(
    source: Path, tree_root: Path, payload: dict[str, Any], warnings: list[str]
) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Parse the staged source into ``tree_root/resource``; returns it and the file infos
    (relative path to ``{kind, title, summary, text}``). Parser warnings go to ``warnings``."""
    if tree_root.exists():
        shutil.rmtree(tree_root)
    if source.is_file() and source.suffix.lower() == ".zip":
        source = extract_zip(source, source.parent / "unzipped")
    flt = SourceFilter(**{k: tuple(v) for k, v in payload["filter"].items()})
    no_split = bool(payload.get("no_split"))
    infos: dict[str, dict[str, Any]] = {}
    out = tree_root / "resource"
    out.mkdir(parents=True)
    if source.is_file():
        _parse_into(source.name, source.read_bytes(), out, "", no_split, infos, warnings)
        return out, infos
    target = str(payload.get("target") or "viking://resources/x")
    for rel in walk_source(source, flt):
        if not _fits(target, rel):
            warnings.append(f"{rel[:120]}: skipped, its URI would break the URI size limits")
            continue
        parent = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        name = rel.rsplit("/", 1)[-1]
        data = (source / rel).read_bytes()
        _parse_into(name, data, out, parent, no_split, infos, warnings, nested=True)
    return out, infos


def _fits(target: str, rel: str) -> bool:
    """Whether a source file's URI below ``target`` stays within the URI limits (with room
    for the folder a split document gets and for a ``_n`` suffix)."""
    segments = len(target[len("viking://") :].split("/")) + rel.count("/") + 2
    size = len(target.encode("utf-8")) + len(rel.encode("utf-8", "replace")) + 64
    return segments <= MAX_URI_SEGMENTS and size <= MAX_URI_BYTES


def _parse_into(
    name: str,
    data: bytes,
    out: Path,
    prefix: str,
    no_split: bool,
    infos: dict[str, dict[str, Any]],
    warnings: list[str],
    nested: bool = False,
) -> None:
    """Write the files one document parses into below ``out/prefix``; inside a folder, a
    document that splits into several files, and every document (:func:`folder_per_file`),
    gets a folder of its own."""
    parsed = parse_document(name, data, no_split=no_split)
    warnings.extend(parsed.warnings)
    own_folder = len(parsed.files) > 1 or folder_per_file(name)
    base = f"{prefix}{sanitize_name(parsed.name)}/" if nested and own_folder else prefix
    for item in parsed.files:
        rel = unique_path(base + item.path, infos)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content)
        # The text is re-read from the stored file; the task state stays small.
        infos[rel] = {
            "kind": item.kind,
            "title": item.title,
            "summary": item.summary,
            "text": None,
        }
