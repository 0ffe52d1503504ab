"""Retrying a failed or cancelled ``add_resource`` task.

A retry is a new task of the same owner, with the old task's payload, target and priority and
its state minus the recorded failure, so it resumes where the old one stopped: an import that
failed after ``finalizing`` (e.g. its embedder failed past the queue's attempts) indexes the
stored tree again; one that failed earlier takes its staged source again, which a server-side
failure keeps. It is refused:

* ``FAILED_PRECONDITION`` when the import failed because of its input (a broken zip, a URL
  that answered 404...): that failure dropped the staged data, and the fix is a new import;
  also when the staged source is gone, or a newer import of the same target exists;
* ``CONFLICT`` when an import of the same target is pending or running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openviking_mcp.contract.errors import ConflictError, FailedPreconditionError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.resources.staging import is_published
from openviking_mcp.storage.queue import TaskRecord
from openviking_mcp.store import Store

__all__ = ["ImportRetry"]

#: State keys that record why an import failed; a retry starts without them.
_FAILURE_KEYS = ("failure", "fetch_error")


def _refuse_callers_mistake(record: TaskRecord) -> None:
    failure = record.state.get("failure")
    if not isinstance(failure, dict):
        return
    raise FailedPreconditionError(
        f"Import task {record.task_id} failed because of its input "
        f"({failure.get('message') or failure.get('code')}); fix the input and import again",
        {
            "task_id": record.task_id,
            "cause": failure.get("code"),
            "cause_status": failure.get("http_status"),
        },
    )


class ImportRetry:
    """The retry function of ``add_resource`` tasks (registered with their handler)."""

    def __init__(self, store: Store, task_type: str, staging: Callable[[str], Path]) -> None:
        self._store, self._type, self._staging = store, task_type, staging

    async def __call__(self, record: TaskRecord) -> str:
        """Queue ``record``'s import again; the new task's id."""
        _refuse_callers_mistake(record)
        store, ctx = self._store, record.context
        payload: dict[str, Any] = {"staging_id": record.task_id, **record.payload}
        await self._require_source(record, payload)
        target = store.resolve(ctx, str(payload["target"]), mutate=True)
        async with store.locks.lock(store.lock_path(ctx, target)):
            await self._refuse_others(record, target.uri)
            state = {k: v for k, v in record.state.items() if k not in _FAILURE_KEYS}
            return await store.tasks.submit(
                self._type,
                ctx,
                payload,
                priority=record.priority,
                resource_id=record.resource_id,
                max_attempts=record.max_attempts,
                state=state,
            )

    async def _require_source(self, record: TaskRecord, payload: dict[str, Any]) -> None:
        """``FAILED_PRECONDITION`` when the import still needs its staged source (it had not
        stored its tree) and that source is gone; a URL is fetched again."""
        if record.state.get("finalized") or payload.get("source_kind") == "url":
            return
        staging_id = str(payload["staging_id"])
        here = await asyncio.to_thread((self._staging(staging_id) / "source").is_dir)
        if here or await is_published(self._store, staging_id):
            return
        raise FailedPreconditionError(
            f"The staged source of import task {record.task_id} is gone; import it again",
            {"task_id": record.task_id},
        )

    async def _refuse_others(self, record: TaskRecord, target: str) -> None:
        """``CONFLICT`` while an import of ``target`` is pending or running (whoever owns it);
        ``FAILED_PRECONDITION`` when a newer import of ``target`` exists (retry that one)."""
        tasks = self._store.tasks
        if target in await tasks.active_resources(record.account_id, self._type):
            raise ConflictError(
                f"An import of {target} is already pending or running",
                {"task_id": record.task_id, "resource_id": target},
            )
        newest = await tasks.list(
            RequestContext.root(record.account_id),
            task_type=self._type,
            resource_id=target,
            limit=1,
        )
        if newest and newest[0].task_id != record.task_id:
            raise FailedPreconditionError(
                f"A newer import of {target} exists (task {newest[0].task_id}); "
                "retry or check that one",
                {"task_id": record.task_id, "newer_task_id": newest[0].task_id},
            )
