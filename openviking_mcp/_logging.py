"""Logging that never stalls the event loop.

* :func:`configure_logging` (the servers' set-up): the root logger gets one handler that
  writes plain lines to stderr with :class:`PlainFormatter` and queues records that carry a
  traceback for a listener thread, which formats them. No traceback is formatted on the
  event loop.
* :class:`PlainFormatter`: one line per record, tracebacks cut to their innermost
  :data:`MAX_TRACEBACK_FRAMES` frames per exception, messages cut to :data:`MAX_MESSAGE_CHARS`.
* :func:`log_failure`: logs an exception with its traceback capped in place and handed to a
  background thread, so even an unconfigured process (an embedding app, a test) never formats
  a deep traceback on the loop.
* :func:`keep_root_logger`: a library's ``logging.basicConfig`` inside the block (the MCP SDK
  installs a rich handler on the root logger) is undone on exit.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener
from types import TracebackType
from typing import IO

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_TRACEBACK_FRAMES",
    "PlainFormatter",
    "cap_traceback",
    "configure_logging",
    "keep_root_logger",
    "log_failure",
]

#: Frames kept per exception of a logged traceback (the innermost ones).
MAX_TRACEBACK_FRAMES = 30
#: Characters kept of a log message (and of a formatted traceback).
MAX_MESSAGE_CHARS = 8000
_MAX_CHAIN = 5
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _cut(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[:MAX_MESSAGE_CHARS] + f"... [{len(text) - MAX_MESSAGE_CHARS} chars cut]"


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger: message``, with bounded messages and tracebacks."""

    def __init__(self) -> None:
        super().__init__(_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return _cut(super().formatMessage(record))

    def formatException(self, ei: _ExcInfo) -> str:
        _, exc, tb = ei
        if exc is None:
            return ""
        lines = traceback.format_exception(type(exc), exc, tb, limit=-MAX_TRACEBACK_FRAMES)
        return _cut("".join(lines).rstrip("\n"))


def _last_frames(tb: TracebackType | None, keep: int) -> TracebackType | None:
    """The innermost ``keep`` entries of a traceback chain."""
    length = 0
    node = tb
    while node is not None:
        length += 1
        node = node.tb_next
    for _ in range(max(0, length - keep)):
        assert tb is not None
        tb = tb.tb_next
    return tb


def cap_traceback(exc: BaseException, keep: int = MAX_TRACEBACK_FRAMES) -> BaseException:
    """Cut the tracebacks of ``exc`` and of the exceptions it chains to their innermost
    ``keep`` frames, in place (any handler, even a rich one, then has little to format)."""
    seen: set[int] = set()
    node: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if node is None or id(node) in seen:
            break
        seen.add(id(node))
        node.__traceback__ = _last_frames(node.__traceback__, keep)
        node = node.__cause__ or node.__context__
    return exc


class _DeferredHandler(QueueHandler):
    """Writes a plain record (a short line) at once, and queues one with a traceback for the
    listener thread, which does its formatting. (Queuing every record would lose the last
    lines of a server that ends by re-raising SIGTERM, as uvicorn does.)"""

    def __init__(self, records: queue.SimpleQueue[logging.LogRecord], direct: logging.Handler):
        super().__init__(records)
        self.direct = direct

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.stack_info:
            super().emit(record)
        else:
            self.direct.handle(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            record.exc_info = (exc_type, exc, _last_frames(tb, MAX_TRACEBACK_FRAMES))
        return record


_listener: QueueListener | None = None


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> None:
    """Route every record through a queue to a plain stderr handler on a thread (replaces the
    root logger's handlers; calling it again reconfigures). ``level`` applies to this
    project's loggers; others log from WARNING up, or everything at DEBUG."""
    global _listener
    if _listener is not None:
        _listener.stop()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    output = logging.StreamHandler(stream or sys.stderr)
    output.setFormatter(PlainFormatter())
    _listener = QueueListener(records, output, respect_handler_level=False)
    _listener.start()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_DeferredHandler(records, output))
    number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    number = number if isinstance(number, int) else logging.INFO
    # Libraries (httpx, the MCP SDK) log every request at INFO: only this project's loggers
    # (and uvicorn's, which it sets itself) follow ``level`` unless it is DEBUG.
    root.setLevel(number if number <= logging.DEBUG else max(number, logging.WARNING))
    logging.getLogger("openviking_mcp").setLevel(number)
    logging.captureWarnings(True)


def _stop_listener() -> None:
    if _listener is not None:
        _listener.stop()  # flushes what is queued


atexit.register(_stop_listener)


# -- failures logged from the event loop -------------------------------------------------------

_failures: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def _drain() -> None:
    while (record := _failures.get()) is not None:
        try:
            logging.getLogger(record.name).handle(record)
        except Exception:  # a broken handler must not end the thread
            continue


def _ensure_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_drain, name="openviking-log", daemon=True)
            _worker.start()


def _flush_failures() -> None:
    if _worker is not None and _worker.is_alive():
        _failures.put(None)
        _worker.join(timeout=2)


atexit.register(_flush_failures)


def log_failure(logger: logging.Logger, message: str, *args: object, exc: BaseException) -> None:
    """``logger.error(message, *args, exc_info=exc)``, with the traceback capped and handed to a
    background thread: nothing is formatted on the calling thread."""
    if not logger.isEnabledFor(logging.ERROR):
        return
    cap_traceback(exc)
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        "(unknown file)",
        0,
        message,
        args,
        (type(exc), exc, exc.__traceback__),
    )
    _ensure_worker()
    _failures.put(record)


@contextmanager
def keep_root_logger() -> Iterator[None]:
    """Undo, on exit, any change to the root logger's handlers and level made in the block."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
