"""Progress of long work, as the Python clients report it to a ``progress=`` callback.

A task record carries its ``stage`` and a ``progress`` mapping of counters; an import reports
``files_parsed`` while parsing, ``files_total`` once it knows how many files it indexes,
``passages_embedded`` while embedding and ``files_indexed`` when done. :class:`TaskProgress` is
one reading of that record (or, while waiting for every queue, of the caller's outstanding
tasks), with ``done``/``total`` when the counters tell them. Plain data, no pydantic: the HTTP
client imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TERMINAL_STATUSES", "ProgressCallback", "TaskProgress", "task_progress"]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class TaskProgress:
    """One reading of long work: its ``status`` and ``stage``, ``done`` of ``total`` units
    (``None`` while unknown), the raw ``counters`` and a one-line ``message``."""

    task_id: str | None
    """The task followed; ``None`` while waiting for every queue."""
    task_type: str
    status: str
    stage: str
    done: int | None = None
    total: int | None = None
    counters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the work ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    @property
    def message(self) -> str:
        """``stage  done/total  counter value, ...`` (``status`` once finished)."""
        parts = [self.stage if not self.finished else f"{self.stage} ({self.status})"]
        if self.total is not None:
            parts.append(f"{self.done or 0}/{self.total}")
        counters = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.counters.items())
        return "  ".join(p for p in (*parts, counters) if p)


ProgressCallback = Callable[[TaskProgress], object]
"""What a ``progress=`` argument takes: called with each new reading while the client waits."""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def task_progress(record: Mapping[str, Any]) -> TaskProgress:
    """The reading of a task record (a ``get_task`` answer). ``done`` counts the files indexed
    (parsed, before that); ``total`` is ``files_total`` when the task reported it."""
    counters = dict(record.get("progress") or {})
    total = _count(counters.get("files_total"))
    done = _count(counters.get("files_indexed"))
    if done is None:
        done = _count(counters.get("files_parsed"))
    if record.get("status") == "completed" and total is not None:
        done = total
    return TaskProgress(
        task_id=record.get("task_id"),
        task_type=str(record.get("task_type", "")),
        status=str(record.get("status", "")),
        stage=str(record.get("stage", "")),
        done=done,
        total=total,
        counters=counters,
    )
