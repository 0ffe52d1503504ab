"""Filesystem: listing, tree, stat, mkdir, rm, mv and cp.

Listings have two forms: ``original`` entries ``{name, size, mode, modTime, isDir, uri}`` and
``agent`` entries ``{uri, size, isDir, modTime, abstract}`` (a directory's L0 abstract); tree
entries add ``rel_path`` (directories end with ``/``). Listings are paged: ``offset`` visible
entries are skipped, then at most ``limit`` (or ``node_limit``) are returned, and a
:class:`ListingPage` tells whether more follow (``has_more``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AgentEntry",
    "CpRequest",
    "CpResult",
    "FileEntry",
    "ListOutput",
    "ListingPage",
    "ListingRequest",
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


class ListingRequest(Request):
    """What ``ls`` and ``tree`` share: the page and what each entry carries."""

    uri: str = "viking://"
    output: ListOutput = "original"
    abs_limit: int = Field(default=256, description="Longest abstract in agent output.")
    show_all_hidden: bool = Field(default=False, description="List dot-files too.")
    node_limit: int = Field(default=1000, description="Most entries returned.")
    offset: Integer = Field(default=0, ge=0, description="Visible entries skipped first.")
    limit: Integer | None = Field(
        default=None, ge=1, description="Most entries returned; overrides node_limit."
    )
    include_abstract: bool | None = Field(
        default=None,
        description="Add directories' L0 abstracts (default: in agent output only).",
    )
    include_overview: bool | None = Field(
        default=None, description="Add directories' L1 overviews (``overview``)."
    )
    overview_limit: Integer = Field(default=4000, ge=1, description="Longest overview.")
    extra_fields: list[str] | None = Field(
        default=None,
        description="Original output only: locked (isLocked), id, count (index rows), tags.",
    )
    tags: list[str] | None = Field(
        default=None,
        description="Only entries carrying all these k=v tags (set with set_tags).",
    )
    include_tags: bool = Field(
        default=False, description="Add each entry's tags (also extra_fields=tags)."
    )

    @property
    def page_size(self) -> int:
        """``limit`` when given, else ``node_limit``."""
        return self.limit if self.limit is not None else self.node_limit


class LsRequest(ListingRequest):
    """Children of a directory (``recursive``: the whole tree, as ``tree``)."""

    simple: bool = Field(default=False, description="URIs only.")
    recursive: bool = False
    sort_by: SortBy = "name"
    sort_order: SortOrder = "asc"


class TreeRequest(ListingRequest):
    """Descendants of a directory, depth-first."""

    level_limit: int = Field(default=3, description="Depth limit.")
    directories_only: bool = Field(default=False, description="Directories only.")


class FileEntry(Result):
    """A listed file or directory (``original`` form); tree entries carry ``rel_path``,
    the other optional fields come with ``include_*`` and ``extra_fields``."""

    name: str
    size: int
    mode: int
    mod_time: str = Field(alias="modTime")
    is_dir: bool = Field(alias="isDir")
    uri: str
    rel_path: str | None = omitted()
    abstract: str | None = omitted()
    overview: str | None = omitted()
    is_locked: bool | None = omitted(alias="isLocked")
    id: str | None = omitted()
    count: int | None = omitted()
    tags: list[str] | None = omitted()


class AgentEntry(Result):
    """A listed file or directory (``agent`` form); tree entries carry ``rel_path``;
    ``abstract`` leaves with ``include_abstract=false``, ``overview`` comes with
    ``include_overview``."""

    uri: str
    size: int
    is_dir: bool = Field(alias="isDir")
    mod_time: str = Field(alias="modTime")
    abstract: str | None = omitted()
    rel_path: str | None = omitted()
    overview: str | None = omitted()
    tags: list[str] | None = omitted()


class ListingPage(Result):
    """One page of a listing: the entries and whether more follow the page."""

    result: list[str] | list[FileEntry | AgentEntry]
    has_more: bool


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
    count: int | None = omitted(description="Directories: the index rows under it you may read.")
    id: str | None = omitted(description="Files: the index record id.")


class MkdirRequest(Request):
    """Create a directory and its parents; ``description`` becomes its L0 abstract."""

    uri: str = _uri()
    description: str | None = None
    acl: dict[str, Any] | None = Field(
        default=None, description="Access control lists are not supported: only null is taken."
    )


class MkdirResult(Result):
    uri: str


class RmRequest(Request):
    """Remove a file or directory (any directory needs ``recursive``); a missing path is
    removed already."""

    uri: str = _uri()
    recursive: bool = False
    wait: bool = Field(default=False, description="Accepted; removal is synchronous.")


class RmResult(Result):
    uri: str
    is_dir: bool = Field(alias="isDir")
    estimated_deleted_count: int | None = omitted(description="0 when the path did not exist.")


class MvRequest(Request):
    """Move or rename; the destination must not exist (its parents are created)."""

    from_uri: str
    to_uri: str


class MvResult(Result):
    from_: str = Field(alias="from")
    to: str


class CpRequest(Request):
    """Copy a file, or a directory with ``recursive``, to a new path.

    The destination must not exist (its parents are created); the copy is indexed as new
    content."""

    from_uri: str
    to_uri: str
    recursive: bool = Field(default=False, description="Needed to copy a directory.")


class CpResult(Result):
    """``recursive`` tells whether a directory was copied; ``files_created`` counts the
    files written (sidecars included)."""

    from_: str = Field(alias="from")
    to: str
    recursive: bool
    operation: str = "copy"
    phase: str = "completed"
    files_created: int
    semantic_status: str | None = omitted()
    vector_status: str | None = omitted()
    task_id: str | None = omitted()


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
    Operation(
        "cp",
        "fs.cp",
        CpRequest,
        CpResult,
        ("from_uri", "to_uri", "recursive"),
        Route("POST", f"{_FS}/cp"),
    ),
)
