"""Which key scope each operation and each HTTP request needs: ``read``, ``write`` or ``admin``.

Derived from the operation catalog: an operation served by ``GET`` reads, any other method
writes, except the operations listed in :data:`READ_OPERATIONS` (searches and checks sent as
``POST`` because of their bodies); the ADMIN role's operations and the webhooks' (which see
every event of the account) need ``admin``. HTTP requests
that are not an operation (WebDAV verbs, uploads, chat, console forms) follow their method:
``GET``, ``HEAD``, ``OPTIONS`` and ``PROPFIND`` read, everything else writes, except the
paths in :data:`READ_PATHS`. The checks themselves are :func:`check_operation_scope` and
:func:`check_request_scope`, built on :func:`openviking_mcp.contract.access.check_scope`.
"""

from __future__ import annotations

import re
from functools import cache

from openviking_mcp.contract.access import check_scope
from openviking_mcp.contract.catalog import BY_NAME, OPERATIONS
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.keys import KEY_OPERATIONS
from openviking_mcp.contract.operations import Operation

__all__ = [
    "READ_OPERATIONS",
    "READ_PATHS",
    "SAFE_METHODS",
    "check_operation_scope",
    "check_request_scope",
    "operation_scope",
    "request_scope",
]

#: Operations that change nothing although they are not served by ``GET`` (or not served).
READ_OPERATIONS = frozenset(
    {
        "find",
        "search",
        "assemble_context",
        "grep",
        "glob",
        "find_skills",
        "validate_skill",
        "read_skill",
        "export_pack",
        "consistency",
        "wait_processing",
    }
)
#: HTTP methods that never change anything.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})
#: Non-operation paths that read although their method is not safe.
READ_PATHS = frozenset({"/api/v1/search/recall", "/console/login", "/console/logout"})


def operation_scope(op: Operation) -> str:
    """The scope ``op`` needs."""
    if op.feature in ("admin", "webhooks") and op.name not in KEY_OPERATIONS:
        return "admin"
    if op.name in READ_OPERATIONS:
        return "read"
    if op.http is not None and op.http.method == "GET":
        return "read"
    return "write"


def check_operation_scope(ctx: RequestContext, name: str) -> None:
    """:class:`PermissionDeniedError` unless the caller's key may run operation ``name``."""
    if ctx.scopes is None:
        return
    op = BY_NAME.get(name)
    if op is not None:
        check_scope(ctx, operation_scope(op), f"'{name}'")


@cache
def _routes() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    rows = []
    for op in OPERATIONS:
        if op.http is None:
            continue
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.http.path.rstrip("/")))
        rows.append((op.http.method, re.compile(f"^{pattern}/?$"), operation_scope(op)))
    return tuple(rows)


def request_scope(method: str, path: str) -> str:
    """The scope an HTTP request needs, from the operation its route serves or its method."""
    method = method.upper()
    for route_method, pattern, scope in _routes():
        if route_method == method and pattern.match(path):
            return scope
    if method in SAFE_METHODS or path.rstrip("/") in READ_PATHS:
        return "read"
    return "write"


def check_request_scope(ctx: RequestContext, method: str, path: str) -> None:
    """:class:`PermissionDeniedError` unless the caller's key may send ``method path``."""
    if ctx.scopes is None:
        return
    check_scope(ctx, request_scope(method, path), f"{method.upper()} {path}")
