"""The ``openviking-mcp`` command.

``serve`` starts the HTTP server (``openviking-server`` is an alias); the store commands (ls,
tree, read, write, ...) and ``admin`` work directly on a local workspace (``--path`` or
``storage.workspace`` from ``ov.conf``).

Output follows the OpenViking CLI's conventions: ``-o table`` (default) renders lists as tables
and other results as JSON, strings are printed as they are, empty results print nothing;
``-o json`` prints JSON and ``--compact`` wraps it as ``{"ok": true, "result": ...}``. Exit
codes: 0 success, 1 error, 2 configuration error, 3 connection error.
"""

from __future__ import annotations

import sys

from openviking_mcp.cli import (  # noqa: F401  (register the commands)
    _admin,
    _analytics,
    _audit,
    _chat,
    _doctor,
    _events,
    _mcp_servers,
    _migrate,
    _search,
    _server,
    _sessions,
    _skills,
    _store,
    _webhooks,
)
from openviking_mcp.cli._core import app
from openviking_mcp.cli._dispatch import app_for

__all__ = ["app", "main", "server_main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``openviking-mcp``."""
    args = sys.argv[1:] if argv is None else list(argv)
    app_for(app, args)(args=args, prog_name="openviking-mcp")


def server_main() -> None:
    """Entry point of ``openviking-server``: the same as ``openviking-mcp serve``."""
    args = ["serve", *sys.argv[1:]]
    app_for(app, args)(args=args, prog_name="openviking-server")
