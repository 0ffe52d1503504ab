"""Content: reading a file (or a tier of a directory), writing and editing text files.

A write answers with the indexing status of the change: ``semantic_status`` and
``vector_status`` are ``queued`` (with the refresh's ``task_id``), ``complete`` (the writer
waited), ``skipped`` (the path is never indexed, or nothing changed) or the waited task's
status.

``write`` creates a missing file in every mode (its parents are made). ``replace`` and
``append`` create only files named with one of :data:`NEW_FILE_EXTENSIONS` and never a
directory's ``.abstract.md``/``.overview.md``; ``create`` takes any name but refuses an
existing file (409), so it never replaces data.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.tasks import QueueCounters

__all__ = [
    "NEW_FILE_EXTENSIONS",
    "OPERATIONS",
    "BatchMode",
    "BatchWriteOperation",
    "BatchWriteRequest",
    "BatchWriteResult",
    "EditRequest",
    "EditResult",
    "IndexStatus",
    "Level",
    "ReadLevelRequest",
    "ReadLevelResult",
    "ReadRequest",
    "UriRequest",
    "WriteMode",
    "WriteRequest",
    "WriteResult",
]

WriteMode = Literal["replace", "append", "create"]
BatchMode = Literal["replace", "append", "create", "upsert"]
Level = Literal["abstract", "overview", "full"]

#: The extensions ``replace``/``append`` may create a missing file with.
NEW_FILE_EXTENSIONS = frozenset(
    {".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".py", ".js", ".ts"}
)


def _uri() -> Any:
    return Field(description="A viking:// URI.")


class UriRequest(Request):
    """An operation on one URI."""

    uri: str = _uri()


class ReadRequest(Request):
    """Text of a file (L2); ``offset``/``limit`` select lines (``limit=-1``: to the end).
    ``raw`` keeps what readers normally do not see: a memory's hidden fields block, a skill's
    secret placeholders."""

    uri: str = _uri()
    offset: int = Field(default=0, description="First line (0-based).")
    limit: int = Field(default=-1, description="Lines to read; -1: to the end.")
    raw: bool = False


class ReadLevelRequest(Request):
    """A file or directory at one tier: ``abstract`` (L0), ``overview`` (L1) or ``full``."""

    uri: str = _uri()
    level: Level = "full"


class ReadLevelResult(Result):
    uri: str
    level: str
    is_dir: bool
    context_type: str
    text: str


class IndexStatus(Result):
    """How the index follows a change (see the module docs)."""

    semantic_status: str = "skipped"
    vector_status: str = "skipped"
    task_id: str | None = omitted()


class WriteRequest(Request):
    """Write a text file atomically, then refresh its tiers and vectors. A missing file is
    created (its parents are made): by ``replace``/``append`` only with a text extension
    (``.md .txt .json .yaml .yml .toml .py .js .ts``, else 400); ``create`` takes any name
    but refuses an existing file (409)."""

    uri: str = _uri()
    content: str = Field(description="The text to write.")
    mode: WriteMode = Field(
        default="replace",
        description=(
            "replace/append: set or extend the file, creating a missing one with a text "
            "extension; create: a new file only (409 if it exists)."
        ),
    )
    wait: bool = Field(default=False, description="Return once the change is indexed.")
    timeout: float | None = Field(default=None, description="Seconds to wait at most.")


class WriteResult(Result):
    """``root_uri``: the file's directory; ``queue_status``: the per-queue counters once the
    writer waited (as ``wait_processing`` reports them), else ``None``."""

    uri: str
    root_uri: str
    context_type: str
    mode: str
    written_bytes: int
    content_updated: bool = True
    semantic_status: str = "skipped"
    vector_status: str = "skipped"
    queue_status: dict[str, QueueCounters] | None = None
    task_id: str | None = omitted()


class EditRequest(Request):
    """Replace an exact substring of a UTF-8 text file: ``old_string`` must occur exactly
    once, or ``replace_all`` must be set."""

    uri: str = _uri()
    old_string: str
    new_string: str
    replace_all: bool = False
    wait: bool = False
    timeout: float | None = None


class EditResult(Result):
    uri: str
    context_type: str
    replacements: int
    written_bytes: int
    changed: bool
    semantic_status: str = "skipped"
    vector_status: str = "skipped"
    task_id: str | None = omitted()


class BatchWriteOperation(Request):
    """One file of a batch write: exactly one of ``content`` (text) and ``content_base64``
    (bytes). ``replace``, ``create`` and ``upsert`` set the file's whole content (creating it
    when missing); ``append`` adds text to an existing file (creating a missing one).
    ``expected_sha256``: the file's current bytes must have this digest (409 otherwise).
    ``tags``/``tag_mode``: set the file's ``k=v`` retrieval tags as ``set_tags`` does."""

    uri: str = _uri()
    content: str | None = None
    content_base64: str | None = None
    mode: BatchMode = "replace"
    expected_sha256: str | None = Field(default=None, pattern=r"^[a-f0-9]{64}$")
    tags: list[str] | None = None
    tag_mode: Literal["replace", "append", "clear"] = "replace"


class BatchWriteRequest(Request):
    """Write many files below ``root_uri``, then refresh them in one task.

    At most 256 files, 8 MiB each and 16 MiB in all. Every operation is checked before the first
    file is written; a bad one is refused (400 naming its index) and nothing is written."""

    root_uri: str = Field(description="The directory every operation's URI is below.")
    operations: list[BatchWriteOperation]
    wait: bool = Field(default=True, description="Return once the changes are indexed.")
    timeout: float | None = Field(default=None, description="Seconds to wait at most.")


class BatchWriteResult(Result):
    """``created``/``updated``: the files written; ``unchanged``: files that already held
    the given content (not written)."""

    root_uri: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    semantic_status: str = "skipped"
    vector_status: str = "skipped"
    task_id: str | None = omitted()


_CONTENT = "/api/v1/content"

OPERATIONS = (
    Operation("read", "content.read", ReadRequest, str, ("uri",), Route("GET", f"{_CONTENT}/read")),
    Operation(
        "read_bytes",
        "content.read_bytes",
        UriRequest,
        bytes,
        ("uri",),
        Route("GET", f"{_CONTENT}/download", raw=True),
        doc="Raw bytes of a file.",
    ),
    Operation(
        "read_level",
        "content.read_level",
        ReadLevelRequest,
        ReadLevelResult,
        ("uri", "level"),
        Route("GET", f"{_CONTENT}/level"),
    ),
    Operation(
        "abstract",
        "content.abstract",
        UriRequest,
        str,
        ("uri",),
        Route("GET", f"{_CONTENT}/abstract"),
        doc="L0 of a directory (a file's parent directory), body only.",
    ),
    Operation(
        "overview",
        "content.overview",
        UriRequest,
        str,
        ("uri",),
        Route("GET", f"{_CONTENT}/overview"),
        doc="L1 of a directory (a file's parent directory), body only.",
    ),
    Operation(
        "write",
        "content.write",
        WriteRequest,
        WriteResult,
        ("uri", "content"),
        Route("POST", f"{_CONTENT}/write", waits="wait"),
    ),
    Operation(
        "batch_write",
        "content.batch_write",
        BatchWriteRequest,
        BatchWriteResult,
        ("root_uri", "operations", "wait"),
        Route("POST", f"{_CONTENT}/batch-write", waits="wait"),
    ),
    Operation(
        "edit",
        "content.edit",
        EditRequest,
        EditResult,
        ("uri", "old_string", "new_string"),
        Route("POST", f"{_CONTENT}/edit", waits="wait"),
    ),
)
