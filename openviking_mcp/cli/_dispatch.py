"""Running ``openviking-mcp`` with only the invoked command built.

Typer turns every registered command into a click command (reading each function's
signature and type hints) before it parses the arguments; for one command out of ~30 (and
their sub-commands) that is most of the CLI's own start-up. :func:`app_for` finds the command
the arguments name (the first word after the global options) and answers an app with the same
global options and only that command (or sub-group); ``--version`` gets none. Anything else
(no command, ``--help`` of the whole CLI, an unknown word) gets the whole app, so help and
error messages list every command.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import typer
from typer.main import get_command_name
from typer.models import CommandInfo, TyperInfo

__all__ = ["GLOBAL_VALUE_OPTIONS", "app_for", "invoked_name"]

GLOBAL_VALUE_OPTIONS = frozenset(
    {"--config", "--path", "--output", "-o", "--account", "--user", "--url", "--api-key"}
)
"""The global options that take a value (the next argument, or ``--name=value``)."""


def invoked_name(args: Sequence[str]) -> str | None:
    """The command the arguments name: the first word after the global options (``None``
    when there is none, or when a global option's value is missing)."""
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            return next(rest, None)
        if arg in GLOBAL_VALUE_OPTIONS:
            if next(rest, None) is None:
                return None
            continue
        if not arg.startswith("-"):
            return arg
    return None


def app_for(app: typer.Typer, args: Sequence[str]) -> typer.Typer:
    """``app`` with only the command ``args`` invoke (see the module docs)."""
    name = invoked_name(args)
    if name is None:
        # ``--version`` answers before any command runs: none needs building
        return _with(app, [], []) if "--version" in args and "--help" not in args else app
    commands = [
        command
        for command in app.registered_commands
        if command.callback is not None
        and (command.name or get_command_name(command.callback.__name__)) == name
    ]
    groups = [group for group in app.registered_groups if group.name == name]
    if not commands and not groups:
        return app
    return _with(app, commands, groups)


def _with(app: typer.Typer, commands: list[CommandInfo], groups: list[TyperInfo]) -> typer.Typer:
    """``app`` (the same settings and global options) with only these commands and groups."""
    slim = copy.copy(app)
    slim.registered_commands = commands
    slim.registered_groups = groups
    return slim
