"""`doctor`: check the configuration, data folder, models, port and bundled skills."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, opts, out, run_async

if TYPE_CHECKING:
    from openviking_mcp.contract.doctor import DoctorReport

_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@app.command()
def doctor(
    config_file: Annotated[str | None, typer.Option("--config", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder.")] = None,
    host: Annotated[str | None, typer.Option(help="Check this bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Check this port.")] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds for loading the embedder and each model request.")
    ] = 30.0,
) -> None:
    """Check an installation without starting a server; exits 1 when a check fails.

    Reads ov.conf as `serve` does (--config, $OPENVIKING_CONFIG_FILE, ~/.openviking/ov.conf),
    then checks the data folder, disk space, the embedder against the search index, the LLM,
    the server's auth and port, and the bundled skills. Each problem comes with a fix.
    """
    from openviking_mcp.doctor import DoctorService

    overrides: dict[str, Any] = {}
    workspace = path or opts.path
    if workspace:
        overrides["storage"] = {"workspace": workspace}
    server = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if server:
        overrides["server"] = server
    service = DoctorService(
        config_file=config_file or opts.config, overrides=overrides, model_timeout=timeout
    )
    report = run_async(service.run)
    if opts.output == "json":
        emit(report.wire())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: DoctorReport) -> None:
    width = max(len(check.name) for check in report.checks)
    for check in report.checks:
        line = f"{_MARKS[check.status]}  {check.name.ljust(width)}  {check.detail}"
        out.print(line, markup=False, highlight=False)
        if check.fix:
            out.print(f"      {' ' * width}  fix: {check.fix}", markup=False, highlight=False)
    counts = {s: sum(c.status == s for c in report.checks) for s in ("ok", "warn", "fail")}
    summary = f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed"
    out.print(summary, markup=False, highlight=False)
