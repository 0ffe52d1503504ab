"""`audit` commands: the audit log's entries (`audit logs`) and its CSV export (`audit export`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, run

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="The audit log: who changed what, when and through which surface.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

_User = Annotated[str | None, typer.Option("--user", help="Entries of this user id.")]
_Operation = Annotated[str | None, typer.Option(help="e.g. write, rm, create_user.")]
_Prefix = Annotated[str | None, typer.Option("--uri-prefix", help="Entries naming a URI under it.")]
_Since = Annotated[str | None, typer.Option(help="ISO 8601 time (inclusive).")]
_Until = Annotated[str | None, typer.Option(help="ISO 8601 time (exclusive).")]
_Outcome = Annotated[str | None, typer.Option(help="ok, error, or an error code.")]
_Account = Annotated[str | None, typer.Option("--account-id", help="ROOT only: another account.")]


def _filters(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


@audit_app.command("logs")
def logs(
    user: _User = None,
    operation: _Operation = None,
    uri_prefix: _Prefix = None,
    since: _Since = None,
    until: _Until = None,
    outcome: _Outcome = None,
    account_id: _Account = None,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the last page.")] = None,
    limit: Annotated[int, typer.Option(help="Entries per page (1..1000).")] = 100,
) -> None:
    """Audit log entries, newest first, with the cursor of the next page."""
    fields = _filters(
        user=user,
        operation=operation,
        uri_prefix=uri_prefix,
        since=since,
        until=until,
        outcome=outcome,
        account_id=account_id,
        cursor=cursor,
    )
    emit(run(lambda s, c: s.audit_logs(c, limit=limit, **fields), reader=True))


@audit_app.command("export")
def export(
    user: _User = None,
    operation: _Operation = None,
    uri_prefix: _Prefix = None,
    since: _Since = None,
    until: _Until = None,
    outcome: _Outcome = None,
    account_id: _Account = None,
    limit: Annotated[int, typer.Option(help="Most entries (1..100000).")] = 10_000,
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """The matching entries as CSV."""
    fields = _filters(
        user=user,
        operation=operation,
        uri_prefix=uri_prefix,
        since=since,
        until=until,
        outcome=outcome,
        account_id=account_id,
    )
    data: bytes = run(lambda s, c: s.export_audit_logs(c, limit=limit, **fields), reader=True)
    if out is not None:
        out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
