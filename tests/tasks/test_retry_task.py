"""Retrying a failed task (``TaskService.retry_task``): imports and session commits.

The embedder here fails as a model service that is down does (``EMBEDDING_FAILED``, which the
queue retries with backoff), until the test brings it back; the queue's backoff is shortened
so a task exhausts its attempts in a fraction of a second.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.errors import (
    ConflictError,
    EmbeddingFailedError,
    FailedPreconditionError,
    NotFoundError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.resources import AddResourceRequest, ImportAccepted
from openviking_mcp.contract.tasks import TaskInfo, TaskRequest
from openviking_mcp.models.base import Vector, Vectors
from openviking_mcp.models.hashing import HashingEmbedder
from openviking_mcp.resources.service import ADD_RESOURCE_TASK
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.queue import TaskRecord

pytestmark = pytest.mark.anyio

DIM = 64


class FlakyEmbedder(HashingEmbedder):
    """The hashing embedder, failing every document embedding while ``down`` is set."""

    def __init__(self) -> None:
        super().__init__(DIM)
        self.down = False
        self.refused = 0

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if self.down:
            self.refused += 1
            raise EmbeddingFailedError("embedding service unavailable (HTTP 503)")
        return await super().embed_documents(texts)

    async def embed_query(self, text: str) -> Vector:
        vectors = await super().embed_documents([text])
        return np.asarray(vectors[0], dtype=np.float32)


def _config(workspace: Path) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": DIM}},
        }
    )


@pytest.fixture
def embedder() -> FlakyEmbedder:
    return FlakyEmbedder()


@pytest.fixture
async def svc(
    workspace: Path, embedder: FlakyEmbedder, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ContextService]:
    monkeypatch.setattr("openviking_mcp.storage.queue._BACKOFF_MAX_SECONDS", 0.05)
    service = ContextService(_config(workspace), embedder=embedder)
    await service.initialize()
    try:
        yield service
    finally:
        await service.close()


def _book(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f"chapter{i}.md").write_text(
            f"# Chapter {i}\n\nChapter {i} tells of the lighthouse keeper number {i}.\n"
        )
    return folder


async def _import(svc: ContextService, ctx: RequestContext, req: AddResourceRequest) -> str:
    planned = await svc.resources.add_resource(ctx, req)
    assert isinstance(planned, ImportAccepted)
    return planned.task_id


async def _finished(svc: ContextService, task_id: str) -> TaskRecord:
    return await svc.store.tasks.wait(task_id, 60)


async def _rows(svc: ContextService, ctx: RequestContext, uri: str) -> tuple[int, int]:
    """Index rows below ``uri`` and how many distinct ``(uri, level, anchor)`` they hold."""
    flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(uri,))
    return await svc.store.index.count(flt), len(await svc.store.index.uris(flt))


async def test_a_server_side_failed_import_is_retried_once_the_cause_is_fixed(
    svc: ContextService, embedder: FlakyEmbedder, tmp_path: Path
) -> None:
    ctx = svc.dev_context()
    book = _book(tmp_path / "book")
    embedder.down = True
    failed_id = await _import(svc, ctx, AddResourceRequest(path=str(book)))
    failed = await _finished(svc, failed_id)
    assert failed.status == "failed", failed.error
    assert failed.attempts == failed.max_attempts  # the queue retried it first
    assert "embedding service unavailable" in (failed.error or "")
    assert failed.state.get("finalized")  # its tree was stored before the embedder failed
    assert "failure" not in failed.state  # not the caller's mistake
    target = str(failed.resource_id)

    embedder.down = False
    root = RequestContext.root(ctx.account_id)  # ROOT of the account may retry it too
    retried = await svc.tasks.retry_task(root, TaskRequest(task_id=failed_id))
    assert isinstance(retried, TaskInfo)
    assert retried.task_id != failed_id
    assert (retried.task_type, retried.resource_id) == (ADD_RESOURCE_TASK, target)
    done = await _finished(svc, retried.task_id)
    assert done.status == "completed", done.error
    assert (done.user_id, done.priority) == (ctx.user_id, failed.priority)  # same owner
    assert done.result["root_uri"] == target
    assert (await svc.store.tasks.get(failed_id)).status == "failed"  # the old record stays

    # every file indexed once: as many rows as a clean import of the same folder, none twice
    clean = await _import(svc, ctx, AddResourceRequest(path=str(book), to="viking://resources/c"))
    assert (await _finished(svc, clean)).status == "completed"
    count, distinct = await _rows(svc, ctx, target)
    assert count == distinct == (await _rows(svc, ctx, "viking://resources/c"))[0] > 3
    found = await svc.find(ctx, "lighthouse keeper number 2", limit=3)
    assert found["resources"][0]["uri"].startswith(target)

    # the old task now has a newer import of its target: retrying it again is refused
    with pytest.raises(FailedPreconditionError) as again:
        await svc.tasks.retry_task(ctx, TaskRequest(task_id=failed_id))
    assert again.value.details["newer_task_id"] == retried.task_id


async def test_a_cancelled_import_is_retried_from_its_staged_source(
    workspace: Path, tmp_path: Path
) -> None:
    """An import stopped before it stored its tree keeps its staged source: the retry parses
    that copy (the caller's file is gone by then); without it the retry is refused."""
    svc = ContextService(_config(workspace), embedder=FlakyEmbedder(), background_tasks=False)
    await svc.initialize()  # no workers yet: the import stays pending until cancelled
    try:
        ctx = svc.dev_context()
        docs = []
        for name in ("otters", "herons"):
            doc = tmp_path / f"{name}.md"
            doc.write_text(f"# {name}\n\nThe {name} of the bay hold hands while they sleep.\n")
            docs.append(await _import(svc, ctx, AddResourceRequest(path=str(doc))))
            await svc.tasks.cancel_task(ctx, TaskRequest(task_id=docs[-1]))
            doc.unlink()
        staging = workspace / "tmp" / "staging"
        herons = await svc.store.tasks.get(docs[1])
        shutil.rmtree(staging / herons.payload["staging_id"])
        with pytest.raises(FailedPreconditionError) as gone:
            await svc.tasks.retry_task(ctx, TaskRequest(task_id=docs[1]))
        assert "staged source" in gone.value.message

        retried = await svc.tasks.retry_task(ctx, TaskRequest(task_id=docs[0]))
        assert retried.status == "pending"
        await svc.store.tasks.start()
        done = await _finished(svc, retried.task_id)
        assert done.status == "completed", done.error
        text = await svc.read(ctx, "viking://resources/otters/otters.md")
        assert "hold hands" in str(text)
    finally:
        await svc.close()


async def test_an_import_that_failed_on_its_input_is_refused(
    svc: ContextService, tmp_path: Path
) -> None:
    ctx = svc.dev_context()
    broken = tmp_path / "bundle.zip"
    broken.write_bytes(b"PK\x03\x04 this is no zip at all")
    task_id = await _import(svc, ctx, AddResourceRequest(path=str(broken)))
    failed = await _finished(svc, task_id)
    assert failed.status == "failed"
    with pytest.raises(FailedPreconditionError) as refused:
        await svc.tasks.retry_task(ctx, TaskRequest(task_id=task_id))
    assert refused.value.http_status == 412
    assert "fix the input and import again" in refused.value.message
    assert refused.value.details["cause_status"] == 400
    imports = await svc.store.tasks.list(ctx, task_type=ADD_RESOURCE_TASK)
    assert [t.task_id for t in imports] == [task_id]  # nothing queued


async def test_completed_foreign_and_busy_tasks_are_refused(
    svc: ContextService, embedder: FlakyEmbedder, tmp_path: Path
) -> None:
    ctx = svc.dev_context()
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nThe ferry leaves at nine.\n")
    done_id = await _import(svc, ctx, AddResourceRequest(path=str(doc)))
    assert (await _finished(svc, done_id)).status == "completed"
    with pytest.raises(FailedPreconditionError) as completed:
        await svc.tasks.retry_task(ctx, TaskRequest(task_id=done_id))
    assert "is completed" in completed.value.message

    embedder.down = True
    failed_id = await _import(
        svc, ctx, AddResourceRequest(path=str(doc), to="viking://resources/n")
    )
    failed = await _finished(svc, failed_id)
    assert failed.status == "failed"
    embedder.down = False
    bob = RequestContext(ctx.account_id, "bob", Role.USER)
    with pytest.raises(NotFoundError):
        await svc.tasks.retry_task(bob, TaskRequest(task_id=failed_id))
    other_root = RequestContext.root("another-account")
    with pytest.raises(NotFoundError):
        await svc.tasks.retry_task(other_root, TaskRequest(task_id=failed_id))

    # another import of the same target, pending or running (held here): no second one
    submit = functools.partial(
        svc.store.tasks.submit,
        ADD_RESOURCE_TASK,
        ctx,
        failed.payload,
        resource_id=failed.resource_id,
        hold=True,
        state=failed.state,
    )
    busy = await submit()
    with pytest.raises(ConflictError) as conflict:
        await svc.tasks.retry_task(ctx, TaskRequest(task_id=failed_id))
    assert conflict.value.http_status == 409
    assert len(await svc.store.tasks.list(ctx, resource_id=failed.resource_id)) == 2
    await svc.store.tasks.release(busy)
    assert (await _finished(svc, busy)).status == "completed"


async def test_a_failed_session_commit_is_retried_through_its_archive(
    svc: ContextService, embedder: FlakyEmbedder
) -> None:
    ctx = svc.dev_context()
    await svc.add_message(ctx, "s", "user", content="I prefer green tea in the afternoon.")
    await svc.add_message(ctx, "s", "assistant", content="Noted.")
    embedder.down = True
    commit = await svc.commit_session(ctx, "s")
    failed = await _finished(svc, str(commit["task_id"]))
    assert failed.status == "failed", failed.result
    archive = await svc.get_archive(ctx, "s", failed.payload["archive"])
    assert archive["status"] == "failed"
    refused = embedder.refused

    embedder.down = False
    retried = await svc.tasks.retry_task(ctx, TaskRequest(task_id=failed.task_id))
    assert retried.task_type == "session_commit"
    assert retried.resource_id == failed.resource_id
    assert retried.task_id != failed.task_id
    done = await _finished(svc, retried.task_id)
    assert done.status == "completed", done.error
    assert embedder.refused == refused  # phase 2 ran again, with the embedder back
    archive = await svc.get_archive(ctx, "s", failed.payload["archive"])
    assert archive["status"] == "done"
    found = await svc.find(ctx, "green tea afternoon", context_type="memory")
    assert found["memories"], found
    with pytest.raises(FailedPreconditionError):  # its archive is done now
        await svc.tasks.retry_task(ctx, TaskRequest(task_id=failed.task_id))
