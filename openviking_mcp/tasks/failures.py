"""What the task queue reports about itself: failed tasks and per-queue counters.

Failed tasks are *reported* (``/health``, ``/api/v1/system/status``, the observer, ``/wait``),
never a reason to call the server unhealthy: a failed import is the import's problem, the
server still serves. Counts describe the whole server; a failure's task id and message are
shown only to a caller who may see that task (its owner, or ROOT of its account), and a
message never carries a path of the server's filesystem.

Queue names follow the original server's (``AddResource``, ``Semantic``, ``Embedding``,
``SessionCommit``): one ``refresh`` task does both the semantic and the embedding step of a
change, so ``Semantic`` and ``Embedding`` report the same ``refresh`` tasks.
"""

from __future__ import annotations

import re
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.tasks import QueueCounters, QueueError, TaskFailure, TaskFailures
from openviking_mcp.storage.metadata import MetadataBackend
from openviking_mcp.store import Store, iso_time

__all__ = ["QUEUE_NAMES", "failure_summary", "queue_counters", "queue_name", "scrub_paths"]

#: The original's queue name of each task type (others: the type in CamelCase).
QUEUE_NAMES: dict[str, tuple[str, ...]] = {
    "add_resource": ("AddResource",),
    "refresh": ("Semantic", "Embedding"),
    "session_commit": ("SessionCommit",),
}
#: Queues the answer always names, even when they hold no task.
_ALWAYS = ("Embedding", "Semantic")
_MAX_ERRORS = 10
# An absolute path: "/" not preceded by a word character, ":", "/", "." or "~" (so URLs and
# relative paths keep theirs) or by "<workspace>", followed by at least one more segment.
_PATH = re.compile(r"(?<![\w:/.~>-])/(?:[^\s/'\"`]+/)+[^\s'\"`,;)]*")


def queue_name(task_type: str) -> tuple[str, ...]:
    """The queue name(s) a task type is reported under."""
    named = QUEUE_NAMES.get(task_type)
    if named is not None:
        return named
    return ("".join(part.capitalize() for part in task_type.split("_")) or task_type,)


def scrub_paths(message: str, workspace: str | None = None) -> str:
    """``message`` without the workspace's path or any other absolute filesystem path."""
    if workspace:
        message = message.replace(workspace.rstrip("/"), "<workspace>")
    return _PATH.sub("<path>", message)


def _visible(ctx: RequestContext | None, row: Any) -> bool:
    if ctx is None or row["account_id"] != ctx.account_id:
        return False
    return ctx.is_root or row["user_id"] == ctx.user_id


async def _newest_failures(
    db: MetadataBackend, ctx: RequestContext | None, limit: int
) -> list[Any]:
    """The newest failed tasks: the caller's visible ones, or any (anonymous callers)."""
    columns = "task_id, task_type, error, updated_at, account_id, user_id"
    if ctx is None:
        sql = f"SELECT {columns} FROM tasks WHERE status='failed' ORDER BY updated_at DESC LIMIT ?"
        return list(await db.fetchall(sql, (limit,)))
    where = "status='failed' AND account_id=?"
    params: tuple[Any, ...] = (ctx.account_id,)
    if not ctx.is_root:
        where += " AND user_id=?"
        params += (ctx.user_id,)
    sql = f"SELECT {columns} FROM tasks WHERE {where} ORDER BY updated_at DESC LIMIT ?"
    return list(await db.fetchall(sql, (*params, limit)))


async def failure_summary(store: Store, ctx: RequestContext | None) -> TaskFailures:
    """How many tasks failed, and the newest failure (see the module docs for who sees what)."""
    row = await store.db.fetchone("SELECT COUNT(*) AS n FROM tasks WHERE status='failed'")
    failed = int(row["n"]) if row is not None else 0
    since_start = int(store.tasks.stats.get("failed", 0))
    last: TaskFailure | None = None
    if failed:
        newest = await _newest_failures(store.db, ctx, 1)
        if not newest and ctx is not None:
            newest = await _newest_failures(store.db, None, 1)  # someone else's: no details
        if newest:
            last = _failure(store, ctx, newest[0])
    return TaskFailures(failed=failed, failed_since_start=since_start, last_error=last)


def _failure(store: Store, ctx: RequestContext | None, row: Any) -> TaskFailure:
    failure = TaskFailure(
        task_type=row["task_type"],
        failed_at=row["updated_at"],
        failed_at_iso=iso_time(row["updated_at"]),
    )
    if _visible(ctx, row):
        failure.task_id = row["task_id"]
        failure.message = scrub_paths(row["error"] or "", str(store.config.workspace))
    return failure


async def queue_counters(store: Store, ctx: RequestContext) -> dict[str, QueueCounters]:
    """Per queue: pending, in progress, processed, retries, failures and the newest failure
    messages the caller may see."""
    rows = await store.db.fetchall(
        "SELECT task_type, status, COUNT(*) AS n, "
        "SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END) AS retries "
        "FROM tasks GROUP BY task_type, status"
    )
    queues: dict[str, QueueCounters] = {name: QueueCounters() for name in _ALWAYS}
    for row in rows:
        for name in queue_name(row["task_type"]):
            _add(queues.setdefault(name, QueueCounters()), row["status"], int(row["n"]))
            queues[name].requeue_count += int(row["retries"] or 0)
    workspace = str(store.config.workspace)
    for row in await _newest_failures(store.db, ctx, 200):
        for name in queue_name(row["task_type"]):
            errors = queues.setdefault(name, QueueCounters()).errors
            if len(errors) < _MAX_ERRORS:
                errors.append(QueueError(message=scrub_paths(row["error"] or "", workspace)))
    return dict(sorted(queues.items()))


def _add(counters: QueueCounters, status: str, count: int) -> None:
    if status == "pending":
        counters.pending += count
    elif status in ("running", "cancelling"):
        counters.in_progress += count
    elif status == "completed":
        counters.processed += count
    elif status == "failed":
        counters.error_count += count
