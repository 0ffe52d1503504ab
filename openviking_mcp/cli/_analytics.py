"""`analytics` commands: usage analytics of an account (`top`, `stale`, `queries`, `gaps`,
`channels`), on the local store or, with `--url`, on a server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, run

__all__ = ["analytics_app"]

analytics_app = typer.Typer(
    help="Usage analytics: what is read and found, unused, searched and missed.",
    no_args_is_help=True,
)
app.add_typer(analytics_app, name="analytics")

_Days = Annotated[float, typer.Option(help="Window: the last N days.")]
_Limit = Annotated[int, typer.Option(help="Most rows (1..1000).")]
_Account = Annotated[str | None, typer.Option("--account-id", help="ROOT only: another account.")]


def _fields(days: float, limit: int, account_id: str | None, **more: Any) -> dict[str, Any]:
    given = {"days": days, "limit": limit, "account_id": account_id, **more}
    return {k: v for k, v in given.items() if v is not None}


@analytics_app.command("top")
def top(
    days: _Days = 30.0,
    limit: _Limit = 20,
    by: Annotated[str, typer.Option(help="Order by total, reads or hits.")] = "total",
    account_id: _Account = None,
) -> None:
    """Contexts read or found most."""
    fields = _fields(days, limit, account_id, by=by)
    emit(run(lambda s, c: s.analytics_top_accessed(c, **fields), reader=True))


@analytics_app.command("stale")
def stale(days: _Days = 30.0, limit: _Limit = 20, account_id: _Account = None) -> None:
    """Resources not read or found in the last N days."""
    fields = _fields(days, limit, account_id)
    emit(run(lambda s, c: s.analytics_stale(c, **fields), reader=True))


@analytics_app.command("queries")
def queries(days: _Days = 30.0, limit: _Limit = 20, account_id: _Account = None) -> None:
    """Recent searches with their hit counts and best scores."""
    fields = _fields(days, limit, account_id)
    emit(run(lambda s, c: s.analytics_queries(c, **fields), reader=True))


@analytics_app.command("gaps")
def gaps(
    days: _Days = 30.0,
    limit: _Limit = 20,
    threshold: Annotated[float, typer.Option(help="Missed under this best score.")] = 0.3,
    account_id: _Account = None,
) -> None:
    """Missed searches grouped by topic: the knowledge the store lacks."""
    fields = _fields(days, limit, account_id, threshold=threshold)
    emit(run(lambda s, c: s.analytics_gaps(c, **fields), reader=True))


@analytics_app.command("channels")
def channels(days: _Days = 30.0, limit: _Limit = 20, account_id: _Account = None) -> None:
    """Reads, searches and changes per surface."""
    fields = _fields(days, limit, account_id)
    emit(run(lambda s, c: s.analytics_by_channel(c, **fields), reader=True))
