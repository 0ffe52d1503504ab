"""What an add with ``wait`` reports about its own indexing task, per queue."""

from __future__ import annotations

from openviking_mcp.skills.waiting import task_queue_status
from openviking_mcp.storage.queue import TaskRecord


def _record(status: str, *, attempts: int = 1, error: str | None = None) -> TaskRecord:
    return TaskRecord(
        task_id="t1",
        task_type="refresh",
        status=status,
        priority=0,
        account_id="default",
        user_id="default",
        role="user",
        resource_id=None,
        payload={},
        state={},
        stage="",
        progress={},
        result=None,
        error=error,
        attempts=attempts,
        max_attempts=3,
        created_at=0.0,
        updated_at=0.0,
    )


def test_a_completed_refresh_counts_once_in_both_queues() -> None:
    status = task_queue_status(_record("completed", attempts=2), "/srv/ws")
    assert list(status) == ["Embedding", "Semantic"]
    for counters in status.values():
        assert counters.wire() == {
            "pending": 0,
            "in_progress": 0,
            "processed": 1,
            "requeue_count": 1,
            "error_count": 0,
            "errors": [],
        }


def test_a_failed_refresh_is_an_error_without_server_paths() -> None:
    error = "cannot read /srv/ws/accounts/default/x.md and /etc/secret/file"
    status = task_queue_status(_record("failed", error=error), "/srv/ws")
    semantic = status["Semantic"]
    assert (semantic.processed, semantic.error_count) == (0, 1)
    [message] = [e.message for e in semantic.errors]
    assert "/srv/ws" not in message
    assert "/etc/secret" not in message
    assert message.startswith("cannot read <workspace>")
    status["Semantic"].errors.clear()
    assert status["Embedding"].error_count == 1
    assert len(status["Embedding"].errors) == 1  # each queue has its own counters


def test_a_cancelled_task_counts_as_neither() -> None:
    status = task_queue_status(_record("cancelled"), "/srv/ws")
    assert all((c.processed, c.error_count) == (0, 0) for c in status.values())
