"""Resources: importing URLs, files, folders and zips; rebuilding and checking the index.

``add_resource`` answers at once with ``{status: success, task_id, root_uri}`` (the import runs
as an ``add_resource`` task), or, with ``wait``, with the import's result ``{status, root_uri,
temp_uri, source_path, meta: {files, source_kind}, errors, warnings, queue_status,
context_count}`` (``{status: cancelled}`` if the task was cancelled). ``reindex`` answers
``accepted`` with its task id, or ``completed`` with its figures once it waited;
``rebuild_index`` answers ``accepted`` or ``success``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.tasks import QueueCounters

__all__ = [
    "OPERATIONS",
    "AddResourceRequest",
    "ConsistencyRequest",
    "ConsistencyResult",
    "ImportAccepted",
    "ImportCancelled",
    "ImportMeta",
    "ImportResult",
    "ImportSummaries",
    "MissingRecord",
    "ProcessingMode",
    "RebuildAccepted",
    "RebuildIndexRequest",
    "RebuildResult",
    "ReindexAccepted",
    "ReindexObjectType",
    "ReindexRequest",
    "ReindexResult",
]

ProcessingMode = Literal["semantic_and_vectors", "vectors_only"]
#: What a reindex target is, in the original's words: the whole account, a user space (or
#: ``viking://user``), a memory path, the skills folder, one skill, or other content.
ReindexObjectType = Literal[
    "global_namespace", "user_namespace", "memory", "skill_namespace", "skill", "resource"
]


class AddResourceRequest(Request):
    """Import a URL, a local file or folder (embedded/CLI only), a temp upload or a zip.

    One of ``path`` and ``temp_file_id`` (``temp_file_id`` wins when both are given); ``to``
    (an exact target, replaced if it exists) and ``parent`` (the folder of an auto-named
    target) exclude each other. ``source_name`` names the source instead of its own name (an
    upload's file name, a URL's last segment): an auto-named target takes it, without a
    ``.zip`` or the upload's extension.
    """

    path: str | None = Field(default=None, description="A URL or a local path.")
    temp_file_id: str | None = Field(default=None, description="Id from temp_upload.")
    source_name: str | None = Field(
        default=None, description="The source's name (e.g. of a zipped folder)."
    )
    to: str | None = Field(default=None, description="Exact target URI (updated if it exists).")
    parent: str | None = Field(default=None, description="Parent folder of an auto-named target.")
    create_parent: bool = False
    reason: str = ""
    instruction: str = ""
    wait: bool = Field(default=False, description="Return once the import is indexed.")
    timeout: float | None = Field(default=None, description="Seconds to wait at most.")
    processing_mode: ProcessingMode = "semantic_and_vectors"
    include: list[str] | None = Field(default=None, description="Globs of files to import.")
    exclude: list[str] | None = Field(default=None, description="Globs of files to skip.")
    ignore_dirs: list[str] | None = Field(default=None, description="Folder names to skip.")
    no_split: bool = Field(default=False, description="Keep each document in one file.")


class ImportAccepted(Result):
    """The import is queued as task ``task_id`` and will land at ``root_uri``."""

    status: str = "success"
    task_id: str
    root_uri: str


class ImportCancelled(Result):
    status: str = "cancelled"


class ImportMeta(Result):
    files: int
    source_kind: str


class ImportSummaries(Result):
    """The model-written file summaries of an import (reported when a chat model is set):
    files the model described, files that kept their extractive summary (``files_skipped`` by
    reason: ``binary``, ``data``, ``lock_file``, ``minified``, ``empty``, ``budget``;
    ``files_failed``: the model call failed or its answer was unusable), the first of them in
    ``not_summarized`` (``{path, reason}``), the calls made and the approximate tokens
    (characters / 4) spent of ``semantic.import_summary_token_budget``."""

    files_summarized: int = 0
    files_failed: int = 0
    files_skipped: dict[str, int] = {}
    not_summarized: list[dict[str, str]] = []
    model_calls: int = 0
    tokens_used: int = 0
    token_budget: int = 0


class ImportResult(Result):
    """A finished import: what it stored and how many index rows it wrote. ``temp_uri`` is
    always ``None`` (nothing is left in a temporary place); ``queue_status``: the per-queue
    counters when the caller waited (as ``wait_processing`` reports them); ``summaries``: what
    the chat model wrote, present only when one is configured."""

    status: str = "success"
    root_uri: str
    temp_uri: str | None = None
    source_path: str
    meta: ImportMeta
    errors: list[str] = []
    warnings: list[str] = []
    queue_status: dict[str, QueueCounters] | None = None
    context_count: int = 0
    summaries: ImportSummaries | None = omitted()


class ReindexRequest(Request):
    """Rebuild index rows (and, with ``semantic_and_vectors``, the L0/L1) under ``uri``
    (``recursive=False``: of ``uri`` itself only). Sessions are not indexed: a session URI
    is refused (400)."""

    uri: str = "viking://"
    mode: ProcessingMode = "vectors_only"
    wait: bool = True
    timeout: float | None = None
    recursive: bool = True
    tags: list[str] | None = Field(
        default=None, description="k=v tags to set on the reindexed paths first (see set_tags)."
    )
    tag_mode: Literal["replace", "append", "clear"] = "replace"


class ReindexAccepted(Result):
    """The reindex is queued as task ``task_id``."""

    status: str = "accepted"
    task_id: str
    uri: str
    object_type: ReindexObjectType
    mode: ProcessingMode


class ReindexResult(Result):
    """A finished reindex. A record is a file or a directory: ``scanned_records`` the ones
    looked at, ``rebuilt_records`` the ones whose index rows were written again,
    ``unsupported_records`` files with nothing to index; ``rows_written`` counts index rows
    and ``files_indexed`` the files among the rebuilt records. Index rows of content that is
    gone are dropped when the content goes, so ``deleted_records`` and ``failed_records``
    (a failure fails the whole reindex) are 0."""

    status: str = "completed"
    uri: str
    object_type: ReindexObjectType
    mode: ProcessingMode
    scanned_records: int = 0
    rebuilt_records: int = 0
    deleted_records: int = 0
    unsupported_records: int = 0
    failed_records: int = 0
    duration_ms: int = 0
    warnings: list[str] = []
    rows_written: int = 0
    files_indexed: int = 0


class RebuildIndexRequest(Request):
    """Drop the whole index and rebuild it with the configured embedder (ROOT only)."""

    wait: bool = True
    timeout: float | None = None


class RebuildAccepted(Result):
    status: str = "accepted"
    task_ids: list[str]
    model_id: str


class RebuildResult(Result):
    status: str = "success"
    model_id: str
    dimension: int
    rows_written: int


class ConsistencyRequest(Request):
    """Compare the content tree under ``uri`` with the index."""

    uri: str = Field(default="viking://", description="Subtree to compare with the index.")


class MissingRecord(Result):
    uri: str
    level: int


class ConsistencyResult(Result):
    """Which tiers have no index rows (at most 20 listed)."""

    ok: bool
    expected_count: int
    missing_record_count: int
    missing_records: list[MissingRecord]
    missing_records_truncated: bool


OPERATIONS = (
    Operation(
        "add_resource",
        "resources.add_resource",
        AddResourceRequest,
        ImportAccepted | ImportResult | ImportCancelled,
        ("path",),
        Route("POST", "/api/v1/resources", waits="wait", upload="resource"),
        doc="Import a URL, a local file or folder, a temp upload or a zip.",
        embedded={"allow_local_paths": True},
    ),
    Operation(
        "reindex",
        "resources.reindex",
        ReindexRequest,
        ReindexAccepted | ReindexResult,
        ("uri",),
        Route("POST", "/api/v1/content/reindex", waits="wait"),
    ),
    Operation(
        "rebuild_index",
        "resources.rebuild_index",
        RebuildIndexRequest,
        RebuildAccepted | RebuildResult,
        doc="Drop the whole index and rebuild it with the configured embedder (ROOT only).",
    ),
    Operation(
        "consistency",
        "resources.consistency",
        ConsistencyRequest,
        ConsistencyResult,
        ("uri",),
        Route("POST", "/api/v1/system/consistency"),
    ),
)
