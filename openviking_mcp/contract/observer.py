"""Observer: how the parts of a running service are doing, for operators and dashboards.

Each component is ``{name, is_healthy, has_errors, errors, status, details}`` (the original
server's shape): ``status`` is a pre-rendered text table, ``details`` the same facts as JSON.
``errors`` make a component unhealthy; warnings only set ``has_errors`` (failed tasks are a
warning: the queue is unhealthy only when its workers are not running). ``observe_system``
combines every component with facts about the host.

Nothing here reveals a secret: model API keys are reported only as ``api_key_set``, header
values and URL credentials are dropped. Callers below ROOT see the locks of their own account
only; the other figures describe the shared server.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SerializeAsAny

from openviking_mcp.contract.base import Empty, OpenResult, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.tasks import QueueCounters, TaskFailures

__all__ = [
    "OPERATIONS",
    "ActiveTasks",
    "BotModel",
    "Component",
    "CpuFacts",
    "EmbeddingModel",
    "FilesystemComponent",
    "FilesystemDetails",
    "HeldLock",
    "HostFacts",
    "IndexDetails",
    "IndexInfo",
    "IndexUnavailable",
    "LatencySummary",
    "LockComponent",
    "LockDetails",
    "MemoryFacts",
    "ModelInfo",
    "ModelsComponent",
    "ModelsDetails",
    "QueueComponent",
    "QueueDetails",
    "RerankModel",
    "RetrievalComponent",
    "RetrievalDetails",
    "SystemResult",
    "TreeSize",
    "VikingDBComponent",
    "Workers",
]


class Component(Result):
    """One observed part of the service."""

    name: str
    is_healthy: bool
    has_errors: bool
    errors: list[str]
    status: str = Field(description="The facts as a plain-text table.")
    details: Any = None


# -- queue -----------------------------------------------------------------------------------


class ActiveTasks(Result):
    status: str
    priority: int
    task_type: str
    count: int


class Workers(Result):
    configured: int
    running_here: int
    owner: str


class QueueDetails(Result):
    by_status: dict[str, int]
    pending: int
    running: int
    active: list[ActiveTasks]
    workers: Workers
    stats: dict[str, int] = Field(description="processed, failed, retried since start.")
    queues: dict[str, QueueCounters] = Field(
        default_factory=dict, description="Per queue, under the original's queue names."
    )
    failures: TaskFailures | None = Field(
        default=None,
        description="Failed tasks retained and the newest failure (never makes it unhealthy).",
    )


class QueueComponent(Component):
    details: QueueDetails


# -- vikingdb --------------------------------------------------------------------------------


class IndexInfo(OpenResult):
    name: str
    type: str
    columns: list[str]
    indexed_rows: int | None = None
    unindexed_rows: int | None = None


class IndexDetails(OpenResult):
    """The index's own statistics (passed through), ``account_rows`` for callers below ROOT."""

    open: bool = True
    rows: int
    fragments: int | None = None
    small_fragments: int | None = None
    version: int
    indexes: list[IndexInfo] = []
    model_id: str
    dimension: int
    path: str
    data_bytes: int | None = None
    size_bytes: int | None = None
    account_rows: int | None = omitted()


class IndexUnavailable(Result):
    open: bool = False
    error: str
    path: str


class VikingDBComponent(Component):
    details: IndexDetails | IndexUnavailable


# -- models ----------------------------------------------------------------------------------


class ModelInfo(Result):
    kind: str
    configured: bool
    provider: str | None
    model: str | None
    model_id: str | None
    api_base: str | None = Field(description="Without credentials, query or fragment.")
    api_key_set: bool
    extra_headers: list[str] = Field(description="Header names (values are never shown).")


class EmbeddingModel(ModelInfo):
    dimension: int | None
    index_model_id: str | None = Field(description="The model the index was built with.")


class RerankModel(ModelInfo):
    threshold: float | None


class BotModel(ModelInfo):
    enabled: bool


class ModelsDetails(Result):
    embedding: EmbeddingModel
    vlm: ModelInfo
    rerank: RerankModel
    bot: BotModel


class ModelsComponent(Component):
    details: ModelsDetails


# -- lock ------------------------------------------------------------------------------------


class HeldLock(Result):
    account_id: str
    uri: str


class LockDetails(Result):
    held: list[HeldLock]
    count: int


class LockComponent(Component):
    details: LockDetails


# -- retrieval -------------------------------------------------------------------------------


class LatencySummary(Result):
    """Recent ``find`` durations (ms, rounded; ``None`` before any call) and totals."""

    calls: int = 0
    errors: int = 0
    results: int = Field(default=0, description="Hits returned by all calls.")
    zero_results: int = Field(default=0, description="Successful calls that found nothing.")
    window: int = 0
    mean_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    last_at: float | None = Field(default=None, description="Epoch of the last call.")


class RetrievalDetails(Result):
    available: bool
    config: dict[str, Any] = Field(description="The retrieval settings.")
    rerank: bool
    find_latency: LatencySummary


class RetrievalComponent(Component):
    details: RetrievalDetails


# -- filesystem ------------------------------------------------------------------------------


class TreeSize(Result):
    bytes: int
    files: int
    partial: bool = Field(description="The walk stopped early (too many files).")


class FilesystemDetails(Result):
    workspace: str
    volume: dict[str, int] | None = Field(description="total, used, free bytes.")
    workspace_size: TreeSize


class FilesystemComponent(Component):
    details: FilesystemDetails


# -- system ----------------------------------------------------------------------------------


class CpuFacts(Result):
    count: int | None
    load_average: list[float] | None


class MemoryFacts(Result):
    total: int | None
    available: int | None
    process_rss: int | None


class HostFacts(Result):
    version: str
    python: str
    implementation: str
    platform: str
    machine: str
    pid: int
    cpu: CpuFacts
    memory: MemoryFacts
    disk: dict[str, int] | None
    workspace: str
    started_at: float
    uptime_seconds: float
    auth_mode: str


class SystemResult(Result):
    is_healthy: bool
    errors: list[str] = Field(description="Every component's errors as 'name: error'.")
    components: dict[str, SerializeAsAny[Component]]
    system: HostFacts


_O = "/api/v1/observer"


def _observe(name: str, result: type[Result], doc: str) -> Operation:
    return Operation(
        f"observe_{name}", f"observer.{name}", Empty, result, (), Route("GET", f"{_O}/{name}"), doc
    )


OPERATIONS = (
    _observe("queue", QueueComponent, "Task queue depth by status and priority, workers."),
    _observe("vikingdb", VikingDBComponent, "The search index: rows, fragments, indexes, size."),
    _observe("models", ModelsComponent, "Embedder, LLM, reranker and bot model (no secrets)."),
    _observe("lock", LockComponent, "Path locks held now."),
    _observe("retrieval", RetrievalComponent, "Retrieval settings and recent find latencies."),
    _observe("filesystem", FilesystemComponent, "Workspace size and free space."),
    _observe("system", SystemResult, "Every component plus host facts."),
)
