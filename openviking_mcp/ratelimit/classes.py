"""Which route class an operation, an HTTP request or an MCP tool call belongs to: one table,
derived from the operation catalog, so HTTP and MCP cannot classify a call differently.

* ``search``: the retrieval operations (:data:`SEARCH_OPERATIONS`);
* ``imports``: the operations that bring content in from outside (:data:`IMPORT_OPERATIONS`,
  plus the temp upload route);
* ``chat``: the bot's turns (:data:`CHAT_OPERATIONS`);
* ``writes``: every other operation served with ``POST``, ``PUT``, ``PATCH`` or ``DELETE``
  (except the few that only read, :data:`READING_POSTS`), the mutating operations without a
  route (:data:`UNROUTED_WRITES`) and WebDAV's mutating verbs.

Everything else (reads, listings, health, status) is not limited.
"""

from __future__ import annotations

import re
from enum import StrEnum

from openviking_mcp.contract import chat
from openviking_mcp.contract.catalog import OPERATIONS
from openviking_mcp.contract.operations import Operation

__all__ = [
    "CHAT_OPERATIONS",
    "IMPORT_OPERATIONS",
    "OPERATION_CLASSES",
    "READING_POSTS",
    "SEARCH_OPERATIONS",
    "TEMP_UPLOAD_PATH",
    "TOOL_OPERATIONS",
    "UNLIMITED_TOOLS",
    "UNROUTED_WRITES",
    "WEBDAV_PREFIX",
    "WEBDAV_WRITE_METHODS",
    "RouteClass",
    "class_of_operation",
    "class_of_request",
    "class_of_tool",
]


class RouteClass(StrEnum):
    """The classes a rate limit is configured for (``rate_limits.<class>``)."""

    SEARCH = "search"
    WRITES = "writes"
    IMPORTS = "imports"
    CHAT = "chat"


SEARCH_OPERATIONS = frozenset({"find", "search", "assemble_context", "grep", "glob", "find_skills"})
IMPORT_OPERATIONS = frozenset(
    {"add_resource", "import_pack", "restore", "import_mcp_server", "install_bundled_skills"}
)
CHAT_OPERATIONS = frozenset({"chat", "chat_start", "chat_feedback"})
"""The bot's turns and feedback; resuming a turn's stream starts no new work."""
READING_POSTS = frozenset({"validate_skill", "wait_processing", "export_pack", "consistency"})
"""Operations served with ``POST`` that change nothing."""
UNROUTED_WRITES = frozenset(
    {"delete_privacy_config", "remember", "rebuild_index", "create_upload_ticket"}
)
"""Mutating operations without an HTTP route (reached through MCP or the embedded client)."""

TEMP_UPLOAD_PATH = "/api/v1/resources/temp_upload"
"""The temp upload route (a file sent before an import), in the ``imports`` class."""
WEBDAV_PREFIX = "/webdav/"
WEBDAV_WRITE_METHODS = frozenset({"PUT", "DELETE", "MKCOL", "MOVE", "COPY", "PROPPATCH"})

TOOL_OPERATIONS: dict[str, str] = {"list": "ls", "forget": "rm", "copy": "cp"}
"""MCP tools named differently from the operation they call (the others share its name)."""
UNLIMITED_TOOLS = frozenset({"health"})
"""MCP tools that call no operation of the catalog."""


def _classify(op: Operation) -> RouteClass | None:
    if op.name in SEARCH_OPERATIONS:
        return RouteClass.SEARCH
    if op.name in IMPORT_OPERATIONS:
        return RouteClass.IMPORTS
    if op.name in CHAT_OPERATIONS:
        return RouteClass.CHAT
    if op.name in READING_POSTS:
        return None
    if op.http is None:
        return RouteClass.WRITES if op.name in UNROUTED_WRITES else None
    return None if op.http.method == "GET" else RouteClass.WRITES


_ALL_OPERATIONS: tuple[Operation, ...] = (*OPERATIONS, *chat.OPERATIONS)
OPERATION_CLASSES: dict[str, RouteClass | None] = {op.name: _classify(op) for op in _ALL_OPERATIONS}
"""Every operation of the catalog and of the bot with its class (``None``: not limited)."""


_Exact = dict[tuple[str, str], RouteClass]
_Templated = list[tuple[str, re.Pattern[str], RouteClass]]


def _route_table() -> tuple[_Exact, _Templated]:
    """The classified routes: ``(method, path)`` of the fixed ones, a pattern per templated one."""
    exact: _Exact = {("POST", TEMP_UPLOAD_PATH): RouteClass.IMPORTS}
    templated: _Templated = []
    for op in _ALL_OPERATIONS:
        route_class = OPERATION_CLASSES[op.name]
        if op.http is None or route_class is None:
            continue
        if "{" not in op.http.path:
            exact[(op.http.method, op.http.path)] = route_class
            continue
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(op.http.path))
        templated.append((op.http.method, re.compile(f"^{pattern}/?$"), route_class))
    return exact, templated


_EXACT, _TEMPLATED = _route_table()


def class_of_operation(name: str) -> RouteClass | None:
    """The class of the operation ``name`` (``None``: not limited, or no such operation)."""
    return OPERATION_CLASSES.get(name)


def class_of_tool(name: str) -> RouteClass | None:
    """The class of the MCP tool ``name``: that of the operation it calls."""
    return OPERATION_CLASSES.get(TOOL_OPERATIONS.get(name, name))


def class_of_request(method: str, path: str) -> RouteClass | None:
    """The class of an HTTP request: the operation its route serves, the temp upload, or a
    mutating WebDAV verb."""
    method = method.upper()
    if path.startswith(WEBDAV_PREFIX):
        return RouteClass.WRITES if method in WEBDAV_WRITE_METHODS else None
    found = _EXACT.get((method, path)) or _EXACT.get((method, path.rstrip("/")))
    if found is not None:
        return found
    for route_method, pattern, route_class in _TEMPLATED:
        if route_method == method and pattern.match(path):
            return route_class
    return None
