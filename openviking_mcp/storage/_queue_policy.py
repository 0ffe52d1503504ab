"""Retry and lease policy of the durable task queue.

Which handler errors are worth retrying, how long to back off before the next attempt, how a
failure is worded in the task record, and how a lease owner id is formed and judged dead.
"""

from __future__ import annotations

import os
import socket
import uuid

import httpx

from openviking_mcp._aio import wait_event
from openviking_mcp.contract.errors import (
    DeadlineExceededError,
    EmbeddingFailedError,
    OpenVikingError,
    UnavailableError,
    VLMFailedError,
    storage_error,
)

__all__ = [
    "TRANSIENT_ERRORS",
    "TaskCancelled",
    "TransientError",
    "failure_message",
    "is_transient",
    "new_owner_id",
    "owner_dead",
    "retry_delay",
    "wait_event",
]


class TransientError(Exception):
    """Raise from a handler for a failure worth retrying later; ``retry_after`` (seconds)
    replaces the queue's own backoff for the next attempt."""

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


class TaskCancelled(Exception):
    """Raised inside a handler at a checkpoint when its task was cancelled."""


TRANSIENT_ERRORS = (
    TransientError,
    EmbeddingFailedError,
    VLMFailedError,
    UnavailableError,
    DeadlineExceededError,
    TimeoutError,
    ConnectionError,
    httpx.TransportError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether the queue retries a task that raised ``exc`` (while attempts remain)."""
    return isinstance(exc, TRANSIENT_ERRORS)


def retry_delay(attempts: int, maximum: float) -> float:
    """Seconds to wait before the next attempt: exponential in ``attempts``, capped."""
    return min(2.0**attempts, maximum)


def failure_message(exc: Exception) -> str:
    """The error text stored in a task record for ``exc``."""
    if isinstance(exc, OpenVikingError):
        return exc.message
    if isinstance(exc, OSError):  # its text names server paths: keep the typed message only
        return f"{type(exc).__name__}: {storage_error(exc).message}"
    return f"{type(exc).__name__}: {exc}"


def new_owner_id() -> str:
    """A lease owner id unique to this queue instance: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_dead(owner: str | None, host: str) -> bool:
    """True when ``owner`` is a process on this host that no longer exists."""
    if not owner:
        return True
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != host:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
