"""`events`: the event log (docs/events.md). Without ``--follow``, one page of stored events
(``list_events``) with the id to pass as ``--after`` next; with ``--follow``, every new event
as one JSON line until Ctrl-C (remote: the server's stream, which resumes on its own after a
dropped connection; local: the store's log)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, opts, run, run_async

__all__ = ["events"]


def _print_line(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def _follow_remote(
    after: int | None, types: list[str] | None, account_id: str | None, limit: int | None
) -> None:
    from openviking_mcp.client.http import AsyncHTTPClient

    async with AsyncHTTPClient(opts.url, opts.api_key, account=opts.account, user=opts.user) as c:
        await _print_all(c.events(after=after, types=types, account_id=account_id), limit)


async def _follow_local(
    after: int | None, types: list[str] | None, account_id: str | None, limit: int | None
) -> None:
    from openviking_mcp.eventlog.service import parse_types
    from openviking_mcp.service import ContextService

    service = ContextService(opts.load(), background_tasks=False)
    await service.initialize()
    try:
        ctx = await service.local_context(opts.account, opts.user)
        log = service.eventlog
        start = await log.start_after(ctx, after)
        stream = log.follow(ctx, start, parse_types(",".join(types or [])), account_id=account_id)
        await _print_all((log.item(e).wire() async for e in stream if e is not None), limit)
    finally:
        await service.close()


async def _print_all(stream: AsyncIterator[dict[str, Any]], limit: int | None) -> None:
    count = 0
    async for event in stream:
        _print_line(event)
        count += 1
        if limit is not None and count >= limit:
            return


@app.command("events")
def events(
    follow: Annotated[
        bool, typer.Option("--follow", help="Print new events as they come (Ctrl-C ends).")
    ] = False,
    after: Annotated[
        int | None, typer.Option(help="Events after this id (follow without it: only new).")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only this event type (repeatable), e.g. memory.changed."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="Events per page (1..1000, 100); with --follow: stop after N."),
    ] = None,
    account_id: Annotated[
        str | None, typer.Option("--account-id", help="ROOT only: another account.")
    ] = None,
) -> None:
    """The event log: a page of stored events, or with --follow the live stream."""
    if follow:
        go = _follow_remote if opts.remote() else _follow_local
        try:
            run_async(lambda: go(after, types, account_id, limit))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        return
    fields: dict[str, Any] = {"after": after or 0, "limit": limit or 100}
    if types:
        fields["types"] = ",".join(types)
    if account_id:
        fields["account_id"] = account_id
    emit(run(lambda s, c: s.list_events(c, **fields), reader=True))
