"""Import, search, reindex and task commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openviking_mcp.cli._core import IdempotencyKeyOpt, app, emit, opts, run
from openviking_mcp.contract.errors import ProcessingError
from openviking_mcp.contract.progress import TaskProgress, task_progress

if TYPE_CHECKING:
    from openviking_mcp.contract.identity import RequestContext
    from openviking_mcp.contract.resources import ProcessingMode
    from openviking_mcp.service import ContextService

# -- resources and search ----------------------------------------------------------------


class _ProgressLine:
    """Task progress on stderr (stdout stays clean for piping): one line rewritten in place on
    a terminal, a plain line per change otherwise."""

    def __init__(self, enabled: bool | None) -> None:
        self.tty = sys.stderr.isatty()
        self.enabled = self.tty if enabled is None else enabled
        self._width = 0

    def show(self, reading: TaskProgress) -> None:
        if not self.enabled:
            return
        text = reading.message
        if self.tty:
            sys.stderr.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.enabled and self.tty and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


async def _follow(
    service: ContextService, ctx: RequestContext, task_id: str, line: _ProgressLine
) -> dict[str, Any]:
    """Show a task's stage and counters until it ends; returns its final record."""
    import asyncio  # loaded already: this runs on the loop (not imported by --version/--help)

    last: TaskProgress | None = None
    try:
        while True:
            record: dict[str, Any] = await service.get_task(ctx, task_id)
            reading = task_progress(record)
            if reading != last:
                line.show(reading)
                last = reading
            if reading.finished:
                return record
            await asyncio.sleep(0.3)
    finally:
        line.end()


@app.command("add-resource")
def add_resource(
    source: Annotated[str, typer.Argument(help="URL, local file, folder or .zip.")],
    to: Annotated[str | None, typer.Option(help="Exact target URI.")] = None,
    parent: Annotated[str | None, typer.Option(help="Parent folder URI.")] = None,
    create_parent: Annotated[bool, typer.Option("--create-parent")] = False,
    include: Annotated[list[str] | None, typer.Option(help="Glob of files to include.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip.")] = None,
    vectors_only: Annotated[
        bool, typer.Option("--vectors-only", help="Skip L0/L1 generation.")
    ] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return the task id at once.")] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Show progress on stderr (default: when stderr is a terminal).",
        ),
    ] = None,
    idempotency_key: IdempotencyKeyOpt = None,
) -> None:
    """Import a resource; waits and shows progress unless --no-wait."""
    opts.idempotency_key = idempotency_key

    async def go(service: ContextService, ctx: RequestContext) -> dict[str, Any]:
        planned: dict[str, Any] = await service.add_resource(
            ctx,
            source,
            to=to,
            parent=parent,
            create_parent=create_parent,
            include=include,
            exclude=exclude,
            processing_mode="vectors_only" if vectors_only else "semantic_and_vectors",
        )
        if no_wait:
            return planned
        record = await _follow(service, ctx, planned["task_id"], _ProgressLine(progress))
        if record["status"] == "failed":
            raise ProcessingError(
                record["error"] or "import failed", {"task_id": planned["task_id"]}
            )
        return dict(record["result"] or {"status": record["status"]})

    emit(run(go))


def _hits_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [*result.get("memories", []), *result.get("resources", []), *result.get("skills", [])]
    rows.sort(key=lambda h: -h["score"])
    return [
        {
            "score": f"{h['score'] * 100:.0f}%",
            "type": h["context_type"],
            "uri": h["uri"],
            "abstract": (h.get("abstract") or "")[:120],
        }
        for h in rows
    ]


@app.command()
def find(
    query: str,
    target: Annotated[
        list[str] | None, typer.Option("--target", "-t", help="Limit to these URIs.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 10,
    context_type: Annotated[
        str | None, typer.Option("--type", help="memory, resource or skill.")
    ] = None,
) -> None:
    """Semantic + keyword search."""
    result = run(
        lambda s, c: s.find(c, query, target_uri=target, limit=limit, context_type=context_type)
    )
    emit(_hits_table(result) if opts.output == "table" else result)


@app.command()
def search(
    query: str,
    session: Annotated[str | None, typer.Option("--session", help="Session id.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 10,
) -> None:
    """Find, expanded with a session's recent messages."""
    result = run(lambda s, c: s.search(c, query, session_id=session, limit=limit))
    emit(_hits_table(result) if opts.output == "table" else result)


@app.command()
def grep(
    pattern: str,
    uri: Annotated[str, typer.Argument(help="Where to search.")] = "viking://resources",
    ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 256,
) -> None:
    """Regex search over file lines."""
    result = run(
        lambda s, c: s.grep(c, uri, pattern, case_insensitive=ignore_case, node_limit=limit)
    )
    emit(result["matches"] if opts.output == "table" else result)


@app.command("glob")
def glob_(
    pattern: str,
    uri: Annotated[str, typer.Argument(help="Base URI.")] = "viking://",
    limit: Annotated[int, typer.Option("--limit", "-n")] = 256,
) -> None:
    """Find files by path pattern (*, ?, **, [])."""
    result = run(lambda s, c: s.glob(c, pattern, uri=uri, node_limit=limit))
    emit(result["matches"] if opts.output == "table" else result)


@app.command()
def reindex(
    uri: Annotated[str, typer.Argument(help="What to re-embed.")] = "viking://",
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Drop the whole index and rebuild it "
            "with the configured embedder (after a model change).",
        ),
    ] = False,
    semantic: Annotated[bool, typer.Option("--semantic", help="Also regenerate L0/L1.")] = False,
) -> None:
    """Rebuild index rows from the content tree."""
    if all_:
        emit(run(lambda s, c: s.rebuild_index(c), as_root=True))
        return
    mode: ProcessingMode = "semantic_and_vectors" if semantic else "vectors_only"
    emit(run(lambda s, c: s.reindex(c, uri, mode=mode)))


@app.command()
def consistency(uri: Annotated[str, typer.Argument()] = "viking://") -> None:
    """Report content that has no index rows."""
    emit(run(lambda s, c: s.consistency(c, uri)))


@app.command()
def tasks(
    task_id: Annotated[str | None, typer.Argument(help="Show one task.")] = None,
    status: Annotated[str | None, typer.Option(help="Filter by status.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    retry: Annotated[
        bool,
        typer.Option("--retry", help="Queue the failed or cancelled task again; show the new one."),
    ] = False,
) -> None:
    """List background tasks, show one, or retry one (``tasks ID --retry``)."""
    if retry and not task_id:
        raise typer.BadParameter("--retry needs a task id", param_hint="TASK_ID")
    if task_id:
        emit(run(lambda s, c: s.retry_task(c, task_id) if retry else s.get_task(c, task_id)))
        return
    rows = run(lambda s, c: s.list_tasks(c, status=status, limit=limit))
    emit(
        [
            {
                k: r[k]
                for k in (
                    "task_id",
                    "task_type",
                    "status",
                    "stage",
                    "updated_at_iso",
                    "resource_id",
                )
            }
            for r in rows
        ]
        if opts.output == "table"
        else rows
    )


@app.command("wait")
def wait(
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait at most (default: no limit).")
    ] = None,
) -> None:
    """Wait until no background task is pending or running (locally: run them now)."""
    emit(run(lambda s, c: s.wait_processing(c, timeout=timeout)))
