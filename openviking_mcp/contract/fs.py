"""Filesystem: listing, tree, stat, mkdir, rm and mv.

Listings have two forms: ``original`` entries ``{name, size, mode, modTime, isDir, uri}`` and
``agent`` entries ``{uri, size, isDir, modTime, abstract}`` (a directory's L0 abstract); tree
entries add ``rel_path`` (directories end with ``/``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AgentEntry",
    "FileEntry",
    "ListOutput",
    "LsRequest",
    "MkdirRequest",
    "MkdirResult",
    "MvRequest",
    "MvResult",
    "RmRequest",
    "RmResult",
    "SortBy",
    "SortOrder",
    "StatRequest",
    "StatResult",
    "TreeRequest",
]

ListOutput = Literal["original", "agent"]
SortBy = Literal["name", "mtime"]
SortOrder = Literal["asc", "desc"]


def _uri() -> Any:
    return Field(description="A viking:// URI.")


class LsRequest(Request):
    """Children of a directory (``recursive``: the whole tree, as ``tree``)."""

    uri: str = "viking://"
    simple: bool = Field(default=False, description="URIs only.")
    recursive: bool = False
    output: ListOutput = "original"
    abs_limit: int = Field(default=256, description="Longest abstract in agent output.")
    show_all_hidden: bool = Field(default=False, description="List dot-files too.")
    node_limit: int = Field(default=1000, description="Most entries returned.")
    sort_by: SortBy = "name"
    sort_order: SortOrder = "asc"


class TreeRequest(Request):
    """Descendants of a directory, depth-first."""

    uri: str = "viking://"
    output: ListOutput = "original"
    abs_limit: int = 256
    show_all_hidden: bool = False
    node_limit: int = 1000
    level_limit: int = Field(default=3, description="Depth limit.")


class FileEntry(Result):
    """A listed file or directory (``original`` form); tree entries carry ``rel_path``."""

    name: str
    size: int
    mode: int
    mod_time: str = Field(alias="modTime")
    is_dir: bool = Field(alias="isDir")
    uri: str
    rel_path: str | None = omitted()


class AgentEntry(Result):
    """A listed file or directory (``agent`` form); tree entries carry ``rel_path``."""

    uri: str
    size: int
    is_dir: bool = Field(alias="isDir")
    mod_time: str = Field(alias="modTime")
    abstract: str
    rel_path: str | None = omitted()


class StatRequest(Request):
    uri: str = _uri()


class StatResult(Result):
    name: str
    size: int
    mode: int
    mod_time: str = Field(alias="modTime")
    is_dir: bool = Field(alias="isDir")
    is_locked: bool = Field(alias="isLocked")
    uri: str
    context_type: str


class MkdirRequest(Request):
    """Create a directory and its parents; ``description`` becomes its L0 abstract."""

    uri: str = _uri()
    description: str | None = None


class MkdirResult(Result):
    uri: str


class RmRequest(Request):
    """Remove a file or directory (a directory with content needs ``recursive``)."""

    uri: str = _uri()
    recursive: bool = False


class RmResult(Result):
    uri: str
    is_dir: bool = Field(alias="isDir")


class MvRequest(Request):
    """Move or rename; the destination must not exist (its parents are created)."""

    from_uri: str
    to_uri: str


class MvResult(Result):
    from_: str = Field(alias="from")
    to: str


Listing = list[str] | list[FileEntry] | list[AgentEntry]
TreeListing = list[FileEntry] | list[AgentEntry]

_FS = "/api/v1/fs"

OPERATIONS = (
    Operation("ls", "fs.ls", LsRequest, Listing, ("uri",), Route("GET", f"{_FS}/ls")),
    Operation("tree", "fs.tree", TreeRequest, TreeListing, ("uri",), Route("GET", f"{_FS}/tree")),
    Operation("stat", "fs.stat", StatRequest, StatResult, ("uri",), Route("GET", f"{_FS}/stat")),
    Operation(
        "mkdir",
        "fs.mkdir",
        MkdirRequest,
        MkdirResult,
        ("uri", "description"),
        Route("POST", f"{_FS}/mkdir"),
    ),
    Operation("rm", "fs.rm", RmRequest, RmResult, ("uri",), Route("DELETE", _FS)),
    Operation(
        "mv", "fs.mv", MvRequest, MvResult, ("from_uri", "to_uri"), Route("POST", f"{_FS}/mv")
    ),
)
