"""What the explorer shows, gathered from the feature services for the signed-in caller: tree
levels (one folder's children at a time) and a node's detail (its three tiers, relations and
search-index rows). The services check what the caller may see; this module only formats."""

from __future__ import annotations

from dataclasses import dataclass, field

from openviking_mcp.contract.content import Level, ReadLevelRequest
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.fs import AgentEntry, LsRequest, StatRequest, StatResult
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.relations import Relation, RelationsRequest
from openviking_mcp.debug.service import UriIndexState
from openviking_mcp.service import ContextService

__all__ = [
    "PAGE",
    "ROOT",
    "UPLOAD_ROOT",
    "NodeView",
    "Tier",
    "TreeLevel",
    "TreeNode",
    "children",
    "leaf",
    "node_view",
    "parent_of",
    "tree",
    "upload_parent",
]

ROOT = "viking://"
UPLOAD_ROOT = "viking://resources"
PAGE = 200
"""Children listed per tree request (a "more" item asks for the next page)."""
PREVIEW_MAX_BYTES = 4 * 1024 * 1024
"""Larger files are not read for the tiers (download them)."""
L2_MAX_CHARS = 100_000
"""The full text shown; longer files are cut with a note."""


@dataclass
class TreeNode:
    """One entry of the tree; ``children`` is set when the folder is shown open."""

    uri: str
    name: str
    is_dir: bool
    size: int
    children: TreeLevel | None = None


@dataclass
class TreeLevel:
    """One page of a folder's children; ``next_offset`` asks for the next page."""

    uri: str
    nodes: list[TreeNode]
    next_offset: int | None = None


@dataclass
class Tier:
    """One tier's text (``None``: not shown, ``note`` says why) and a note about it."""

    text: str | None
    note: str | None = None


@dataclass
class NodeView:
    """A node's detail panel."""

    stat: StatResult
    parent: str | None
    l0: Tier
    l1: Tier
    l2: Tier
    listing: list[AgentEntry] | None = None
    listing_more: bool = False
    relations: list[Relation] = field(default_factory=list)
    relations_error: str | None = None
    index: UriIndexState | None = None
    index_error: str | None = None


def leaf(uri: str) -> str:
    """The last segment of ``uri`` (``viking://`` for the root)."""
    rest = uri.removeprefix(ROOT).rstrip("/")
    return rest.rsplit("/", 1)[-1] if rest else ROOT


def parent_of(uri: str) -> str | None:
    """The folder holding ``uri`` (``None`` for the root)."""
    rest = uri.removeprefix(ROOT).rstrip("/")
    if not rest:
        return None
    return ROOT + rest.rsplit("/", 1)[0] if "/" in rest else ROOT


def normalize(uri: str | None) -> str | None:
    """``uri`` without a trailing slash (``None`` for an empty value)."""
    if not uri or not uri.strip():
        return None
    text = uri.strip()
    return text if text == ROOT else text.rstrip("/")


def upload_parent(uri: str | None, is_dir: bool) -> str:
    """Where an upload goes when ``uri`` is selected: the folder itself (a file's folder)
    when it is in ``viking://resources``, else ``viking://resources``."""
    folder = uri if is_dir else parent_of(uri or "")
    if folder and (folder == UPLOAD_ROOT or folder.startswith(UPLOAD_ROOT + "/")):
        return folder
    return UPLOAD_ROOT


async def children(
    service: ContextService, caller: RequestContext, uri: str, offset: int = 0
) -> TreeLevel:
    """One page of the children of the folder ``uri`` (folders first, dot-files hidden)."""
    request = LsRequest(
        uri=uri, output="agent", include_abstract=False, node_limit=PAGE, offset=offset
    )
    page = await service.fs.ls_page(caller, request)
    nodes = [
        TreeNode(uri=e.uri, name=leaf(e.uri), is_dir=e.is_dir, size=e.size)
        for e in page.result
        if isinstance(e, AgentEntry)
    ]
    return TreeLevel(uri=uri, nodes=nodes, next_offset=offset + PAGE if page.has_more else None)


def _on_path(node: TreeNode, targets: list[str]) -> bool:
    return node.is_dir and any(t == node.uri or t.startswith(node.uri + "/") for t in targets)


async def _open(
    service: ContextService, caller: RequestContext, level: TreeLevel, targets: list[str]
) -> None:
    """Load the children of the folders of ``level`` on the way to ``targets``; a folder the
    caller may not list stays closed."""
    for node in level.nodes:
        if not _on_path(node, targets):
            continue
        try:
            node.children = await children(service, caller, node.uri)
        except OpenVikingError:
            continue
        await _open(service, caller, node.children, targets)


async def tree(service: ContextService, caller: RequestContext, opened: list[str]) -> TreeLevel:
    """The roots (what ``viking://`` lists), with the folders leading to ``opened`` open."""
    roots = await children(service, caller, ROOT)
    targets = [t for t in (normalize(u) for u in opened) if t and t != ROOT]
    await _open(service, caller, roots, targets)
    return roots


async def _level(service: ContextService, caller: RequestContext, uri: str, level: Level) -> Tier:
    request = ReadLevelRequest(uri=uri, level=level)
    try:
        text = (await service.content.read_level(caller, request)).text
    except InvalidArgumentError as exc:
        if (exc.details or {}).get("reason") != "binary":
            raise
        return Tier(None, "Binary file: download it to see its content.")
    if len(text) > L2_MAX_CHARS:
        note = (
            f"Showing the first {L2_MAX_CHARS:,} of {len(text):,} characters: "
            "download the file for the rest."
        )
        return Tier(text[:L2_MAX_CHARS], note)
    return Tier(text)


async def _tiers(
    service: ContextService, caller: RequestContext, stat: StatResult
) -> tuple[Tier, Tier, Tier]:
    if not stat.is_dir and stat.size > PREVIEW_MAX_BYTES:
        note = "Too large to preview: download the file."
        return Tier(None, note), Tier(None, note), Tier(None, note)
    l0 = await _level(service, caller, stat.uri, "abstract")
    l1 = await _level(service, caller, stat.uri, "overview")
    if stat.is_dir:
        return l0, l1, Tier(None)
    return l0, l1, await _level(service, caller, stat.uri, "full")


async def _extras(service: ContextService, caller: RequestContext, view: NodeView) -> None:
    """Relations and index rows: shown with their error when the service refuses them."""
    try:
        view.relations = await service.relations.get(caller, RelationsRequest(uri=view.stat.uri))
    except OpenVikingError as exc:
        view.relations_error = str(exc)
    try:
        view.index = await service.debug.uri_state(caller, view.stat.uri)
    except OpenVikingError as exc:
        view.index_error = str(exc)


async def node_view(service: ContextService, caller: RequestContext, uri: str) -> NodeView:
    """The detail of ``uri``: stat, tiers (a folder's L2 is its listing), relations, index."""
    stat = await service.fs.stat(caller, StatRequest(uri=uri))
    l0, l1, l2 = await _tiers(service, caller, stat)
    view = NodeView(stat=stat, parent=parent_of(stat.uri), l0=l0, l1=l1, l2=l2)
    if stat.is_dir:
        listed = await service.fs.ls_page(
            caller, LsRequest(uri=stat.uri, output="agent", node_limit=PAGE, abs_limit=160)
        )
        view.listing = [e for e in listed.result if isinstance(e, AgentEntry)]
        view.listing_more = listed.has_more
    await _extras(service, caller, view)
    return view
