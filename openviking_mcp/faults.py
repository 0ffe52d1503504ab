"""Crash points for fault-injection tests: kill the process at a named stage.

Durable work (imports, commits, indexing) calls :func:`point` at its stage boundaries. When the
environment variable ``OPENVIKING_FAULT_STAGE`` names that stage when the process starts, the
process sends itself ``SIGKILL`` there, exactly as ``kill -9`` would: no ``finally`` block,
no flush, no shutdown. ``OPENVIKING_FAULT_STAGE=name#3`` kills at the third time ``name`` is
reached. The tests in ``tests/adversarial/test_faults.py`` use it to check that a restart on
the same data folder finishes every interrupted piece of work.

Unset (always, outside those tests), :func:`point` is one comparison with ``None``. The
stage names are listed in ``docs/durability.md``; tasks also pass through the generic points
``{task_type}:{stage}`` (when a handler enters a new stage) and ``{task_type}:finish`` (the
handler returned, the task is not yet recorded as completed).
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV", "point"]

ENV = "OPENVIKING_FAULT_STAGE"


def _parse(raw: str | None) -> tuple[str, int] | None:
    if not raw:
        return None
    name, _, nth = raw.partition("#")
    return name, int(nth) if nth.isdigit() and int(nth) > 0 else 1


_TARGET = _parse(os.environ.get(ENV))
_hits = 0


def point(stage: str) -> None:
    """Kill this process with ``SIGKILL`` if ``stage`` is the configured crash point."""
    if _TARGET is None or stage != _TARGET[0]:
        return
    global _hits
    _hits += 1
    if _hits >= _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
