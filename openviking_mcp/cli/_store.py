"""Filesystem and content commands on the local store."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, TypeVar, cast

import typer

from openviking_mcp.cli._core import UriArg, app, emit, opts, out
from openviking_mcp.cli._core import run as run_op

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from openviking_mcp.contract.content import WriteMode
    from openviking_mcp.contract.identity import RequestContext
    from openviking_mcp.contract.tags import TagMode
    from openviking_mcp.service import ContextService

T = TypeVar("T")


def run(fn: Callable[[ContextService, RequestContext], Awaitable[T]]) -> T:
    """Run a store command; a local store opens its search index only if the command uses it."""
    return run_op(fn, index_on_demand=True)


def run_reader(fn: Callable[[ContextService, RequestContext], Awaitable[T]]) -> T:
    """Run a command that only reads: a local store opens no index unless the command uses
    it, and runs no queued background work meanwhile."""
    return run_op(fn, index_on_demand=True, reader=True)


# -- store commands ----------------------------------------------------------------------


@app.command()
def ls(
    uri: Annotated[str, typer.Argument(help="Directory URI.")] = "viking://",
    simple: Annotated[bool, typer.Option("--simple", "-s", help="URIs only.")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r")] = False,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show hidden files.")] = False,
    agent: Annotated[bool, typer.Option("--agent", help="Agent output with abstracts.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 1000,
    offset: Annotated[int, typer.Option("--offset", help="Entries skipped first.")] = 0,
) -> None:
    """List a directory (one page: --offset entries skipped, at most --limit)."""
    emit(
        run_reader(
            lambda s, c: s.ls(
                c,
                uri,
                simple=simple,
                recursive=recursive,
                show_all_hidden=all_,
                node_limit=limit,
                offset=offset,
                output="agent" if agent else "original",
            )
        )
    )


@app.command()
def tree(
    uri: Annotated[str, typer.Argument(help="Directory URI.")] = "viking://",
    level: Annotated[int, typer.Option("--level", "-L", help="Depth limit.")] = 3,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show hidden files.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 1000,
    offset: Annotated[int, typer.Option("--offset", help="Entries skipped first.")] = 0,
    dirs_only: Annotated[bool, typer.Option("--dirs-only", "-d", help="Directories only.")] = False,
) -> None:
    """Show a directory tree (one page: --offset entries skipped, at most --limit)."""
    items = run_reader(
        lambda s, c: s.tree(
            c,
            uri,
            level_limit=level,
            show_all_hidden=all_,
            node_limit=limit,
            offset=offset,
            directories_only=dirs_only,
        )
    )
    if opts.output == "json":
        emit(items)
        return
    for item in items:
        depth = item["rel_path"].rstrip("/").count("/")
        out.print(
            "  " * depth
            + item["rel_path"].rstrip("/").split("/")[-1]
            + ("/" if item["isDir"] else ""),
            markup=False,
            highlight=False,
        )


@app.command()
def stat(uri: UriArg) -> None:
    """Show a file's or directory's status."""
    emit(run_reader(lambda s, c: s.stat(c, uri)))


@app.command()
def mkdir(
    uri: UriArg,
    description: Annotated[
        str | None, typer.Option("--description", help="Becomes the L0 abstract.")
    ] = None,
) -> None:
    """Create a directory and its parents."""
    run(lambda s, c: s.mkdir(c, uri, description))
    emit(None)


@app.command()
def rm(uri: UriArg, recursive: Annotated[bool, typer.Option("--recursive", "-r")] = False) -> None:
    """Remove a file or directory."""
    run(lambda s, c: s.rm(c, uri, recursive=recursive))
    emit(None)


@app.command()
def mv(from_uri: UriArg, to_uri: UriArg) -> None:
    """Move or rename a file or directory."""
    run(lambda s, c: s.mv(c, from_uri, to_uri))
    emit(None)


@app.command()
def cp(
    from_uri: UriArg,
    to_uri: UriArg,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Copy a directory.")] = False,
) -> None:
    """Copy a file (or a directory with --recursive) to a new path; the copy is indexed."""
    emit(run(lambda s, c: s.cp(c, from_uri, to_uri, recursive=recursive)))


@app.command()
def read(
    uri: UriArg,
    offset: Annotated[int, typer.Option(help="First line (0-based).")] = 0,
    limit: Annotated[int, typer.Option(help="Number of lines (-1: all).")] = -1,
) -> None:
    """Print a file's content (L2)."""
    emit(run_reader(lambda s, c: s.read(c, uri, offset=offset, limit=limit)))


@app.command()
def abstract(uri: UriArg) -> None:
    """Print a directory's L0 abstract."""
    emit(run_reader(lambda s, c: s.abstract(c, uri)))


@app.command()
def overview(uri: UriArg) -> None:
    """Print a directory's L1 overview."""
    emit(run_reader(lambda s, c: s.overview(c, uri)))


@app.command()
def write(
    uri: UriArg,
    content: Annotated[
        str | None, typer.Argument(help="Text; omit to read standard input.")
    ] = None,
    mode: Annotated[str, typer.Option(help="replace, append or create.")] = "replace",
    from_file: Annotated[
        str | None, typer.Option("--from-file", "-f", help="Read the text from this file.")
    ] = None,
) -> None:
    """Write a text file (replace, append or create)."""
    if from_file is not None:
        with open(from_file, encoding="utf-8") as handle:
            content = handle.read()
    elif content is None:
        content = sys.stdin.read()
    text = content
    write_mode = cast("WriteMode", mode)  # the service rejects anything else with a clear error
    emit(run(lambda s, c: s.write(c, uri, text, mode=write_mode, wait=True)))


@app.command()
def edit(
    uri: UriArg,
    old: Annotated[str, typer.Argument(help="Exact text to replace.")],
    new: Annotated[str, typer.Argument(help="Replacement text.")],
    replace_all: Annotated[
        bool, typer.Option("--replace-all", help="Replace every occurrence.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Return once the file is re-indexed.")
    ] = False,
) -> None:
    """Replace an exact substring of a text file (once, or everywhere with --replace-all)."""
    emit(run(lambda s, c: s.edit(c, uri, old, new, replace_all=replace_all, wait=wait)))


@app.command("set-tags")
def set_tags(
    uri: UriArg,
    tags: Annotated[list[str] | None, typer.Argument(help="k=v tags.")] = None,
    mode: Annotated[str, typer.Option(help="replace, append or clear.")] = "replace",
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also tag everything below a directory.")
    ] = False,
) -> None:
    """Set the k=v retrieval tags of a file or directory."""
    tag_mode = cast("TagMode", mode)  # the service rejects anything else with a clear error
    emit(run(lambda s, c: s.set_tags(c, uri, tags or [], tag_mode, recursive)))


@app.command()
def attrs(uri: UriArg) -> None:
    """Show a path's attributes: its tags (and a memory file's fields)."""
    emit(run_reader(lambda s, c: s.attrs(c, uri)))
