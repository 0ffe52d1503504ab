"""Who is calling through which surface: the audit log's view of the current request.

Each surface's entry point opens an :func:`audit_scope` (HTTP per request, WebDAV by path,
MCP per tool call, the bot per tool call); the CLI names itself process-wide with
:func:`set_default_surface`, since its calls run on a private loop thread. The composition root
marks the operation running (:func:`operation_scope`), and the store records what the scope
says with every audit entry. Nothing here holds content or secrets: a surface name, a request
id, a key id and an operation name.

:func:`audit_kind` says which operations the audit log records: every one that changes
something (any routed operation that is not a ``GET``, except the searches and checks sent
as ``POST``, plus the unrouted ones that change data) and every admin action.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from openviking_mcp.contract.operations import Operation

__all__ = [
    "SURFACES",
    "AuditKind",
    "AuditScope",
    "audit_kind",
    "audit_scope",
    "current_operation",
    "current_scope",
    "operation_scope",
    "set_default_surface",
]

#: The surfaces an entry names (``python``: the embedded Python clients).
SURFACES = ("http", "mcp", "cli", "webdav", "bot", "python")

AuditKind = Literal["mutation", "admin", "access"]

#: Operations sent as ``POST`` that change nothing (searches, checks, exports).
_READ_ONLY_POSTS = frozenset(
    {
        "find",
        "search",
        "assemble_context",
        "grep",
        "glob",
        "find_skills",
        "validate_skill",
        "wait_processing",
        "consistency",
        "export_pack",
    }
)
#: Operations without an HTTP route that change data.
_UNROUTED_MUTATIONS = frozenset(
    {
        "delete_privacy_config",
        "remember",
        "check_idle_sessions",
        "rebuild_index",
        "install_bundled_skills",
    }
)


@dataclass(slots=True)
class AuditScope:
    """One request as the audit log sees it. ``noted``: other users' paths whose access was
    already recorded in this request (each is recorded once)."""

    surface: str
    request_id: str
    key_id: str | None = None
    noted: set[str] = field(default_factory=set)


_SCOPE: ContextVar[AuditScope | None] = ContextVar("openviking_audit_scope", default=None)
_OPERATION: ContextVar[str | None] = ContextVar("openviking_audit_operation", default=None)
_default_surface = "python"


def set_default_surface(surface: str) -> None:
    """The surface of calls made outside any :func:`audit_scope` in this process."""
    global _default_surface
    _default_surface = surface


def current_scope() -> AuditScope:
    """The open scope, or a fresh one of the process's default surface."""
    scope = _SCOPE.get()
    return scope if scope is not None else AuditScope(_default_surface, uuid.uuid4().hex)


@contextmanager
def audit_scope(
    surface: str, request_id: str | None = None, key_id: str | None = None
) -> Iterator[AuditScope]:
    """Calls inside run as ``surface``; the request id and key id of an enclosing scope are
    kept when none is given (an MCP tool call inside an HTTP request)."""
    parent = _SCOPE.get()
    scope = AuditScope(
        surface,
        request_id or (parent.request_id if parent else None) or uuid.uuid4().hex,
        key_id or (parent.key_id if parent else None),
    )
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_operation() -> str | None:
    """The catalog operation running in this task, if any."""
    return _OPERATION.get()


@contextmanager
def operation_scope(name: str) -> Iterator[None]:
    token = _OPERATION.set(name)
    try:
        yield
    finally:
        _OPERATION.reset(token)


def audit_kind(op: Operation) -> AuditKind | None:
    """Whether the audit log records ``op``: ``admin`` actions, ``mutation`` s, or not."""
    if op.feature == "admin":
        return "admin"
    if op.name in _UNROUTED_MUTATIONS:
        return "mutation"
    if op.http is None or op.http.method == "GET" or op.name in _READ_ONLY_POSTS:
        return None
    return "mutation"
