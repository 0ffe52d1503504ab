"""`migrate`: move a deployment (or one account) between storage backends."""

from __future__ import annotations

from typing import Annotated

import typer

from openviking_mcp.cli._core import app, emit, err, fail, opts, run_async


@app.command()
def migrate(
    source: Annotated[
        str, typer.Option("--from", help="Workspace folder or PostgreSQL DSN to copy from.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="Workspace folder or PostgreSQL DSN to copy into.")
    ],
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account (default: all).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Copy even while the source has queued tasks.")
    ] = False,
) -> None:
    """Copy accounts with their users, keys, files, vectors and metadata to another backend,
    then verify the copy; exits 1 when the verification finds a difference.

    A value starting with postgres:// or postgresql:// (or libpq words with host= or
    dbname=) is a PostgreSQL database, anything else a workspace folder. Models and limits
    come from ov.conf (--config). The target accounts must not exist yet; the source should
    be idle (no server or worker running on it).
    """
    from openviking_mcp.contract.errors import OpenVikingError
    from openviking_mcp.contract.migrate import MigrateRequest
    from openviking_mcp.migrate import MigrateService

    try:
        migration = MigrateService(opts.load(), progress=_say)
        request = MigrateRequest(source=source, target=target, account_id=account, force=force)
    except OpenVikingError as exc:
        raise fail(exc) from None
    result = run_async(lambda: migration.migrate(request))
    if opts.output == "json":
        emit(result.wire())
    else:
        rows = [
            {
                "account": a.account_id,
                "files": a.files,
                "bytes": a.bytes,
                "index_rows": a.index_rows,
                "metadata_rows": sum(a.metadata_rows.values()),
                "vectors": a.vectors,
                "verified": a.verified,
            }
            for a in result.accounts
        ]
        emit(rows)
        for a in result.accounts:
            for problem in a.problems:
                err.print(f"{a.account_id}: {problem}", markup=False, highlight=False)
    if not result.verified:
        raise typer.Exit(1)


def _say(line: str) -> None:
    err.print(f"migrate: {line}", markup=False, highlight=False)
