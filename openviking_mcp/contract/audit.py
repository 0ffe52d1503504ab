"""The audit log: who changed what, when, through which surface, and how it ended.

An entry is ``{seq, time, account_id, user_id, role, key_id, surface, operation, kind, uris,
outcome, request_id, duration_ms}``: ``kind`` is ``mutation``, ``admin`` or ``access`` (a
privileged caller in another user's space), ``outcome`` ``ok`` or the error code. Entries hold
no content and no secrets. ADMIN reads its account's entries, a USER only their own, ROOT any
account's (``account_id``). Lists are newest first with an opaque ``cursor`` for the next page;
the export answers the same filters as CSV.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "CSV_COLUMNS",
    "OPERATIONS",
    "AuditEntry",
    "AuditExportRequest",
    "AuditLogsRequest",
    "AuditLogsResult",
]

_AUDIT = "/api/v1/audit/logs"

#: The export's columns, in order (``uris`` joined with spaces).
CSV_COLUMNS = (
    "seq",
    "time",
    "account_id",
    "user_id",
    "role",
    "key_id",
    "surface",
    "operation",
    "kind",
    "uris",
    "outcome",
    "request_id",
    "duration_ms",
)


class AuditExportRequest(Request):
    """Which entries: every filter is optional and they combine."""

    account_id: str | None = Field(default=None, description="ROOT only: another account.")
    user: str | None = Field(default=None, description="Entries of this user id.")
    operation: str | None = Field(default=None, description="e.g. write, rm, create_user.")
    uri_prefix: str | None = Field(default=None, description="Entries naming a URI under this.")
    since: str | None = Field(default=None, description="ISO 8601 time (inclusive).")
    until: str | None = Field(default=None, description="ISO 8601 time (exclusive).")
    outcome: str | None = Field(
        default=None, description="ok, error (any failure) or one error code."
    )
    limit: Integer = Field(default=10_000, description="Most entries (1..100000).")


class AuditLogsRequest(AuditExportRequest):
    """One page of entries, newest first."""

    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")
    limit: Integer = Field(default=100, description="Entries per page (1..1000).")


class AuditEntry(Result):
    seq: int
    time: str
    account_id: str
    user_id: str
    role: str
    key_id: str | None
    surface: str
    operation: str
    kind: str
    uris: list[str]
    outcome: str
    request_id: str | None
    duration_ms: float | None


class AuditLogsResult(Result):
    entries: list[AuditEntry]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: done.")


OPERATIONS = (
    Operation(
        "audit_logs",
        "audit.logs",
        AuditLogsRequest,
        AuditLogsResult,
        http=Route("GET", _AUDIT),
        doc="Audit log entries, newest first, filtered and paged.",
    ),
    Operation(
        "export_audit_logs",
        "audit.export",
        AuditExportRequest,
        bytes,
        http=Route("GET", f"{_AUDIT}/export", raw=True),
        doc="Audit log entries as CSV (UTF-8 bytes).",
    ),
)
