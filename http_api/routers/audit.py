"""The audit log: ``/api/v1/audit/logs`` (docs/audit.md).

* ``GET /logs?user&operation&uri_prefix&since&until&outcome&cursor&limit=100 (1..1000)`` →
  ``{entries, next_cursor}``, newest first; pass ``next_cursor`` as ``cursor`` for the next
  page;
* ``GET /logs/export`` (the same filters, ``limit`` up to 100000) → ``text/csv``.

ADMIN reads its account's entries, a USER only their own (naming another user is 403), ROOT
any account's (``account_id``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

_Text = Annotated[str | None, Query()]


def _filters(
    account_id: str | None,
    user: str | None,
    operation: str | None,
    uri_prefix: str | None,
    since: str | None,
    until: str | None,
    outcome: str | None,
) -> dict[str, Any]:
    given = {
        "account_id": account_id,
        "user": user,
        "operation": operation,
        "uri_prefix": uri_prefix,
        "since": since,
        "until": until,
        "outcome": outcome,
    }
    return {k: v for k, v in given.items() if v is not None}


@router.get("/logs", summary="Audit log entries, newest first")
async def audit_logs(
    request: Request,
    service: Service,
    caller: Caller,
    user: Annotated[str | None, Query(description="Entries of this user id.")] = None,
    operation: Annotated[str | None, Query(description="e.g. write, rm, create_user.")] = None,
    uri_prefix: Annotated[str | None, Query(description="Entries naming a URI under it.")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 time (inclusive).")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 time (exclusive).")] = None,
    outcome: Annotated[str | None, Query(description="ok, error, or an error code.")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the last page.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    account_id: Annotated[str | None, Query(description="ROOT only: another account.")] = None,
) -> JSONResponse:
    fields = _filters(account_id, user, operation, uri_prefix, since, until, outcome)
    fields.update(limit=limit, **({"cursor": cursor} if cursor else {}))
    return envelope.ok(request, await service.call(caller, "audit_logs", fields))


@router.get("/logs/export", summary="Audit log entries as CSV")
async def export_audit_logs(
    service: Service,
    caller: Caller,
    user: _Text = None,
    operation: _Text = None,
    uri_prefix: _Text = None,
    since: _Text = None,
    until: _Text = None,
    outcome: _Text = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    account_id: _Text = None,
) -> Response:
    fields = _filters(account_id, user, operation, uri_prefix, since, until, outcome)
    data = await service.call(caller, "export_audit_logs", {**fields, "limit": limit})
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
