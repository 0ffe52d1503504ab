"""`/api/v1/tasks`: one task, filtered lists, cancel, retry, ownership and ROOT's view."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.queue import TaskHandle, TaskRecord
from tests.http_api._routes import config_for, error_of, result_of

BASE = "/api/v1/tasks"
ROOT_KEY = "root-secret-key-for-task-tests"
ROOT = {"X-API-Key": ROOT_KEY}


async def _probe(task: TaskHandle) -> dict[str, Any]:
    if task.payload.get("fail"):
        raise ValueError("probe failed on purpose")
    return {"echo": task.payload.get("n")}


def _service(client: TestClient) -> ContextService:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    return service


def _submit(client: TestClient, ctx: RequestContext, n: int, **payload: Any) -> str:
    service = _service(client)
    submit = functools.partial(
        service.store.tasks.submit,
        "probe",
        ctx,
        {"n": n, **payload},
        resource_id=f"r{n}",
        max_attempts=1,
    )
    task_id: str = client.portal.call(submit)  # type: ignore[union-attr]
    wait = functools.partial(service.store.tasks.wait, task_id, 10)
    client.portal.call(wait)  # type: ignore[union-attr]
    return task_id


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        _service(c).tasks.register("probe", _probe)
        yield c


DEFAULT = RequestContext("default", "default", Role.ADMIN)


def test_get_and_list_own_tasks(client: TestClient) -> None:
    done = _submit(client, DEFAULT, 1)
    failed = _submit(client, DEFAULT, 2, fail=True)
    record = result_of(client.get(f"{BASE}/{done}"))
    assert record["task_id"] == done
    assert record["task_type"] == "probe"
    assert record["status"] == "completed"
    assert record["result"] == {"echo": 1}
    assert record["resource_id"] == "r1"
    assert record["created_at_iso"].endswith("Z")
    assert {"stage", "progress", "error", "updated_at", "attempts"} <= set(record)
    assert record["meta"] == {}  # the original's record field, empty when a task has none
    failure = result_of(client.get(f"{BASE}/{failed}"))
    assert failure["status"] == "failed"
    assert "probe failed on purpose" in failure["error"]

    probes = result_of(client.get(BASE, params={"task_type": "probe"}))
    assert [t["task_id"] for t in probes] == [failed, done]  # newest first
    assert all(t["meta"] == {} for t in probes)
    assert [t["task_id"] for t in result_of(client.get(BASE, params={"status": "failed"}))] == [
        failed
    ]
    assert [
        t["task_id"]
        for t in result_of(client.get(BASE, params={"task_type": "probe", "resource_id": "r1"}))
    ] == [done]
    assert len(result_of(client.get(BASE, params={"task_type": "probe", "limit": 1}))) == 1


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"limit": "many"}, {"status": "sleeping"}],
)
def test_bad_list_parameters(client: TestClient, params: dict[str, Any]) -> None:
    assert error_of(client.get(BASE, params=params), 400)["code"] == "INVALID_ARGUMENT"


def test_unknown_and_foreign_tasks_are_404(client: TestClient) -> None:
    missing = error_of(client.get(f"{BASE}/nope"), 404)
    assert missing["message"] == "Task not found or expired"
    assert missing["details"]["type"] == "task"
    bob = RequestContext("default", "bob", Role.USER)
    bobs = _submit(client, bob, 7)
    error_of(client.get(f"{BASE}/{bobs}"), 404)  # the default user does not see bob's task
    assert bobs not in {t["task_id"] for t in result_of(client.get(BASE))}
    as_bob = {"X-OpenViking-User": "bob"}
    assert result_of(client.get(f"{BASE}/{bobs}", headers=as_bob))["result"] == {"echo": 7}
    # a non-ROOT caller cannot look into another account
    denied = error_of(client.get(BASE, params={"account_id": "other"}), 403)
    assert denied["code"] == "PERMISSION_DENIED"
    error_of(client.get(f"{BASE}/{bobs}", params={"account_id": "other"}), 403)


def test_cancel(client: TestClient) -> None:
    done = _submit(client, DEFAULT, 1)
    error = error_of(client.post(f"{BASE}/{done}/cancel"), 412)
    assert error["code"] == "FAILED_PRECONDITION"
    error_of(client.post(f"{BASE}/nope/cancel"), 404)


def test_root_sees_every_users_tasks(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        _service(client).tasks.register("probe", _probe)
        mine = _submit(client, DEFAULT, 1)
        bobs = _submit(client, RequestContext("default", "bob", Role.USER), 2)
        acme = _submit(client, RequestContext("acme", "ann", Role.ADMIN), 3)
        listed = {t["task_id"] for t in result_of(client.get(BASE, headers=ROOT))}
        assert {mine, bobs} <= listed
        assert acme not in listed
        assert result_of(client.get(f"{BASE}/{bobs}", headers=ROOT))["task_id"] == bobs
        in_acme = result_of(client.get(BASE, params={"account_id": "acme"}, headers=ROOT))
        assert [t["task_id"] for t in in_acme] == [acme]
        got = client.get(f"{BASE}/{acme}", params={"account_id": "acme"}, headers=ROOT)
        assert result_of(got)["task_id"] == acme
        error_of(client.get(f"{BASE}/{acme}", headers=ROOT), 404)
        error_of(client.get(BASE, params={"account_id": "bad/id"}, headers=ROOT), 400)
        error_of(client.get(BASE), 401)


def _retry_probe(client: TestClient) -> Any:
    """A retry for ``probe`` tasks: the same payload for the same owner, without ``fail``."""
    queue = _service(client).store.tasks

    async def retry(record: TaskRecord) -> str:
        payload = {k: v for k, v in record.payload.items() if k != "fail"}
        return await queue.submit("probe", record.context, payload, resource_id=record.resource_id)

    return retry


def _waited(client: TestClient, task_id: str) -> Any:
    wait = functools.partial(_service(client).store.tasks.wait, task_id, 10)
    return client.portal.call(wait)  # type: ignore[union-attr]


def test_retry(client: TestClient) -> None:
    _service(client).tasks.register("probe", _probe, retry=_retry_probe(client))
    bob = RequestContext("default", "bob", Role.USER)
    as_bob = {"X-OpenViking-User": "bob"}
    failed = _submit(client, bob, 4, fail=True)
    error_of(client.post(f"{BASE}/{failed}/retry"), 404)  # the default user does not see it
    retried = result_of(client.post(f"{BASE}/{failed}/retry", headers=as_bob))
    assert retried["task_id"] != failed
    assert (retried["task_type"], retried["resource_id"]) == ("probe", "r4")
    assert _waited(client, retried["task_id"]).result == {"echo": 4}
    assert result_of(client.get(f"{BASE}/{failed}", headers=as_bob))["status"] == "failed"

    done = retried["task_id"]
    completed = error_of(client.post(f"{BASE}/{done}/retry", headers=as_bob), 412)
    assert completed["code"] == "FAILED_PRECONDITION"
    assert completed["details"]["status"] == "completed"
    error_of(client.post(f"{BASE}/nope/retry"), 404)
    # a failed task of a type that registered no retry
    _service(client).tasks.register("plain", _probe)
    submit = functools.partial(
        _service(client).store.tasks.submit, "plain", DEFAULT, {"fail": True}, max_attempts=1
    )
    plain = client.portal.call(submit)  # type: ignore[union-attr]
    assert _waited(client, plain).status == "failed"
    no_retry = error_of(client.post(f"{BASE}/{plain}/retry"), 412)
    assert no_retry["details"]["task_type"] == "plain"


def test_root_retries_a_task_of_any_user_of_an_account(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        _service(client).tasks.register("probe", _probe, retry=_retry_probe(client))
        acme = _submit(client, RequestContext("acme", "ann", Role.ADMIN), 6, fail=True)
        error_of(client.post(f"{BASE}/{acme}/retry", headers=ROOT), 404)  # default account
        again = client.post(f"{BASE}/{acme}/retry", params={"account_id": "acme"}, headers=ROOT)
        retried = result_of(again)
        assert retried["resource_id"] == "r6"
        record = _waited(client, retried["task_id"])
        assert (record.account_id, record.user_id, record.status) == ("acme", "ann", "completed")
        error_of(client.post(f"{BASE}/{acme}/retry"), 401)
