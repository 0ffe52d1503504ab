"""`session` commands: conversation sessions of the local store (``openviking-mcp session ...``).

``commit`` archives a session's messages and queues memory extraction (phase 2); ``--wait``
runs it to the end before the command returns (the queue works only while the store is open).
``retry`` queues phase 2 again for an archive that failed.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from openviking_mcp.cli._core import app, emit, opts, run

__all__ = ["session_app"]

session_app = typer.Typer(
    help="Sessions: conversations under viking://~/sessions, committed into memories.",
    no_args_is_help=True,
)
app.add_typer(session_app, name="session")

SessionArg = Annotated[str, typer.Argument(help="The session's id.")]


@session_app.command("create")
def create(
    session_id: Annotated[
        str | None, typer.Argument(help="An id of your choice (default: generated).")
    ] = None,
) -> None:
    """Create a session."""
    emit(run(lambda s, c: s.create_session(c, session_id)))


@session_app.command("list")
def list_() -> None:
    """Your sessions, most recently changed first."""
    emit(run(lambda s, c: s.list_sessions(c)))


@session_app.command("get")
def get(session_id: SessionArg) -> None:
    """A session's metadata (counters, policy, pending tokens)."""
    emit(run(lambda s, c: s.get_session(c, session_id)))


@session_app.command("rm")
def remove(session_id: SessionArg) -> None:
    """Delete a session and its archives (extracted memories stay)."""
    emit(run(lambda s, c: s.delete_session(c, session_id)))


@session_app.command("add-message")
def add_message(
    session_id: SessionArg,
    role: Annotated[str, typer.Argument(help="user, assistant, system or tool.")],
    text: Annotated[str, typer.Argument(help="The message text; '-' reads stdin.")],
) -> None:
    """Add a message (the session is created if missing)."""
    content = sys.stdin.read() if text == "-" else text
    emit(run(lambda s, c: s.add_message(c, session_id, role, content)))


@session_app.command("commit")
def commit(
    session_id: SessionArg,
    keep: Annotated[
        int, typer.Option("--keep", min=0, max=500, help="Newest messages to keep live.")
    ] = 0,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until memories are extracted.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds to wait at most.")
    ] = None,
) -> None:
    """Archive the session's messages and extract memories from them."""
    emit(
        run(
            lambda s, c: s.commit_session(
                c, session_id, keep_recent_count=keep, wait=wait, timeout=timeout
            )
        )
    )


@session_app.command("archives")
def archives(session_id: SessionArg) -> None:
    """The session's archives with their status (done, pending or failed)."""
    rows = run(lambda s, c: s.list_archives(c, session_id))
    emit(
        rows
        if opts.output == "json"
        else [{k: r[k] for k in r if k != "archive_uri"} for r in rows]
    )


@session_app.command("retry")
def retry(
    session_id: SessionArg,
    archive: Annotated[str, typer.Argument(help="The archive: a number or archive_NNN.")],
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until memories are extracted.")
    ] = False,
) -> None:
    """Run memory extraction again for an archive that failed (or never finished)."""
    emit(run(lambda s, c: s.retry_archive(c, session_id, archive, wait=wait)))
