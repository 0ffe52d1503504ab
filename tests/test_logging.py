"""Logging that never stalls the event loop: plain, capped tracebacks formatted on a thread,
and no library taking over the root logger."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openviking_mcp import ContextService
from openviking_mcp._logging import (
    MAX_MESSAGE_CHARS,
    MAX_TRACEBACK_FRAMES,
    PlainFormatter,
    configure_logging,
    keep_root_logger,
    log_failure,
)
from openviking_mcp.mcp_server import build_mcp_server


def _deep_error(depth: int = 300) -> RuntimeError:
    """An exception raised ``depth`` distinct frames deep (distinct, so that the traceback
    module does not fold them into "Previous line repeated")."""
    source = "".join(f"def f{i}():\n    return f{i + 1}()\n" for i in range(depth))
    source += f"def f{depth}():\n    raise RuntimeError('deep failure')\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<chain>", "exec"), namespace)  # code made by the test itself
    try:
        namespace["f0"]()
    except RuntimeError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("openviking_mcp").setLevel(logging.NOTSET)


class _Recorder(logging.Handler):
    """Formats with :class:`PlainFormatter` and notes the thread it ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(PlainFormatter())
        self.lines: list[str] = []
        self.threads: list[str] = []
        self.done = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.threads.append(threading.current_thread().name)
        self.done.set()


def test_the_formatter_caps_tracebacks_and_messages() -> None:
    exc = _deep_error()
    record = logging.LogRecord("t", logging.ERROR, "f", 1, "x" * 20_000, None, None)
    record.exc_info = (type(exc), exc, exc.__traceback__)
    text = PlainFormatter().format(record)
    assert text.count('  File "') == MAX_TRACEBACK_FRAMES  # of 500+ frames
    assert "RuntimeError: deep failure" in text  # the innermost frames are the ones kept
    assert "chars cut]" in text
    assert len(text) < 2 * MAX_MESSAGE_CHARS


def test_log_failure_formats_on_a_thread_and_caps_the_traceback() -> None:
    logger = logging.getLogger("openviking_mcp.tests.failure")
    recorder = _Recorder()
    logger.addHandler(recorder)
    try:
        exc = _deep_error()
        log_failure(logger, "request failed: %s", "GET /x", exc=exc)
        assert recorder.done.wait(5)
    finally:
        logger.removeHandler(recorder)
    assert recorder.threads == ["openviking-log"]  # not the caller's thread
    assert "request failed: GET /x" in recorder.lines[0]
    assert recorder.lines[0].count('  File "') <= MAX_TRACEBACK_FRAMES


def test_configure_logging_queues_records_for_a_plain_thread(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging("info", stream)
    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert root.level == logging.WARNING  # libraries: warnings up
    assert logging.getLogger("openviking_mcp").level == logging.INFO
    exc = _deep_error()
    logging.getLogger("openviking_mcp.tests").error("boom", exc_info=exc)
    deadline = time.monotonic() + 5
    while "RuntimeError" not in stream.getvalue():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    text = stream.getvalue()
    assert "ERROR openviking_mcp.tests: boom" in text
    assert text.count('  File "') <= MAX_TRACEBACK_FRAMES
    assert exc.__traceback__ is not None
    frames = 0
    tb: Any = exc.__traceback__
    while tb is not None:
        frames += 1
        tb = tb.tb_next
    assert frames > MAX_TRACEBACK_FRAMES  # the exception itself is left whole


def test_keep_root_logger_undoes_basic_config(restore_root: None) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.ERROR)
    with keep_root_logger():
        logging.basicConfig(level=logging.DEBUG)
        assert root.handlers
    assert root.handlers == []
    assert root.level == logging.ERROR


@pytest.mark.anyio
async def test_the_mcp_server_leaves_the_root_logger_alone(
    service: ContextService, restore_root: None
) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    level = root.level
    build_mcp_server(service)  # the SDK calls basicConfig with a rich handler
    assert root.handlers == []
    assert root.level == level
