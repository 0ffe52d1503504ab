"""`session` commands: conversation sessions of the local store (``openviking-mcp session ...``).

``commit`` archives a session's messages and queues memory extraction (phase 2); ``--wait``
runs it to the end before the command returns (the queue works only while the store is open).
``retry`` queues phase 2 again for an archive that failed.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import IdempotencyKeyOpt, app, emit, opts, run

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


def _config_changes(
    auto_commit: str | None, no_auto_commit: bool, event_tags: list[str] | None
) -> dict[str, Any]:
    """The settings a ``session config`` command changes (only those it names)."""
    changes: dict[str, Any] = {}
    if auto_commit is not None and no_auto_commit:
        raise typer.BadParameter("give --auto-commit or --no-auto-commit, not both")
    if no_auto_commit:
        changes["auto_commit_policy"] = None
    elif auto_commit is not None:
        try:
            changes["auto_commit_policy"] = json.loads(auto_commit)
        except ValueError:
            raise typer.BadParameter("must be a JSON object", param_hint="--auto-commit") from None
    if event_tags is not None:
        tags = [t for t in event_tags if t]  # --event-tag '' clears them
        changes["memory_extraction_config"] = {"events": {"tags": tags}}
    return changes


@session_app.command("config")
def config(
    session_id: SessionArg,
    auto_commit: Annotated[
        str | None,
        typer.Option(
            "--auto-commit",
            help="Policy fields to change, as JSON: message_count_threshold, "
            "pending_token_threshold, idle_timeout_seconds, keep_recent_count, "
            "min_commit_interval_seconds ('{}' turns it on with the defaults).",
        ),
    ] = None,
    no_auto_commit: Annotated[
        bool, typer.Option("--no-auto-commit", help="Turn automatic commits off.")
    ] = False,
    event_tags: Annotated[
        list[str] | None,
        typer.Option(
            "--event-tag", help="A key=value default tag of event memories (repeat; '' clears)."
        ),
    ] = None,
) -> None:
    """Change a session's auto-commit policy or event tags; prints the settings."""
    changes = _config_changes(auto_commit, no_auto_commit, event_tags)
    emit(run(lambda s, c: s.update_session_config(c, session_id, options=changes)))


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
    idempotency_key: IdempotencyKeyOpt = None,
) -> None:
    """Archive the session's messages and extract memories from them."""
    opts.idempotency_key = idempotency_key
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
