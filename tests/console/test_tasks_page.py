"""The console's tasks page: the live table, one task, the follow-one-task card, cancelling,
and who sees which tasks (as ``/api/v1/tasks``).

A failing task is a real import: ``add_resource`` of a URL on a loopback port nobody listens
on (the app allows private networks), which fails at its ``fetching`` stage. A task to cancel
is an import on a server whose task workers run elsewhere (``processing.worker: false``), so it
stays ``pending`` until cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.console._console import (
    BASE_URL,
    ROOT_KEY,
    console_client,
    create_user,
    sign_in,
)
from tests.http_api._routes import result_of
from tests.servers import free_port


@contextmanager
def private_network_client(workspace: Path, *, worker: bool = True) -> Iterator[TestClient]:
    """api_key mode where imports may reach loopback; ``worker=False``: tasks stay pending."""
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "allow_private_networks": True,
            "processing": {"worker": worker},
            "server": {"root_api_key": ROOT_KEY},
        }
    )
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        yield client


def _failing_import(client: TestClient, key: str) -> str:
    """Start an import of a URL that refuses connections; its task id once it has failed."""
    url = f"http://127.0.0.1:{free_port()}/guide.md"
    accepted = client.post("/api/v1/resources", json={"path": url}, headers={"X-API-Key": key})
    task_id: str = result_of(accepted)["task_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        task = result_of(client.get(f"/api/v1/tasks/{task_id}", headers={"X-API-Key": key}))
        if task["status"] == "failed":
            return task_id
        time.sleep(0.1)
    raise AssertionError(f"the import did not fail: {task}")


def _pending_import(client: TestClient, key: str) -> str:
    """An import that stays pending (no worker runs in this app)."""
    url = f"http://127.0.0.1:{free_port()}/held.md"
    accepted = client.post("/api/v1/resources", json={"path": url}, headers={"X-API-Key": key})
    task_id: str = result_of(accepted)["task_id"]
    return task_id


def _htmx(token: str, target: str | None = None) -> dict[str, str]:
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return headers


def test_pages_need_a_sign_in(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in ("/console/tasks", "/console/tasks/table", "/console/tasks/x/card"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")
        assert client.post("/console/tasks/x/cancel").status_code == 403  # no CSRF token


def test_a_failed_import_shows_its_stage_and_error(workspace: Path) -> None:
    with private_network_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        failed = _failing_import(client, ann)
        sign_in(client, ann)
        page = client.get("/console/tasks")
        assert page.status_code == 200
        assert 'id="task-table"' in page.text
        assert 'hx-trigger="every 2s"' in page.text
        assert 'hx-get="/console/tasks/table"' in page.text
        assert f'id="task-row-{failed}"' in page.text
        assert 'data-status="failed"' in page.text
        assert "fetching (failed)" in page.text
        assert "refused" in page.text
        assert 'class="progress"' in page.text
        table = client.get("/console/tasks/table", params={"status": "failed"})
        assert table.status_code == 200
        assert table.text.lstrip().startswith('<div id="task-table"')
        assert 'hx-get="/console/tasks/table?status=failed"' in table.text
        assert failed in table.text
        assert failed not in client.get("/console/tasks/table?status=completed").text
        assert client.get("/console/tasks?status=sleeping").status_code == 400
        detail = client.get(f"/console/tasks/{failed}")
        assert detail.status_code == 200
        assert 'id="task-error"' in detail.text
        assert "viking://resources/guide" in detail.text
        card = client.get(f"/console/tasks/{failed}/card")
        assert card.text.lstrip().startswith(
            f'<div class="task-card status-failed" id="task-card-{failed}"'
        )
        assert "hx-trigger" not in card.text  # a finished task is not polled


def test_a_user_sees_only_their_own_tasks(workspace: Path) -> None:
    with private_network_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        anns = _failing_import(client, ann)
        sign_in(client, ben)
        assert anns not in client.get("/console/tasks").text
        assert client.get(f"/console/tasks/{anns}").status_code == 404
        assert client.get(f"/console/tasks/{anns}/card").status_code == 404
        other = client.get("/console/tasks", params={"account_id": "default"})
        assert other.status_code == 403  # only ROOT looks into another account
        # ROOT sees every user's tasks of the account it names
        sign_in(client, ROOT_KEY)
        assert anns not in client.get("/console/tasks").text  # ROOT's own account: default
        in_acme = client.get("/console/tasks", params={"account_id": "acme"})
        assert in_acme.status_code == 200
        assert anns in in_acme.text
        assert 'data-action="cancel"' not in in_acme.text
        assert client.get(f"/console/tasks/{anns}?account_id=acme").status_code == 200


def test_cancel_a_running_task(workspace: Path) -> None:
    with private_network_client(workspace, worker=False) as client:
        ann = create_user(client, "acme", "ann")
        held = _pending_import(client, ann)
        token = sign_in(client, ann)
        row = client.get("/console/tasks").text
        assert 'data-status="pending"' in row
        assert f'hx-post="/console/tasks/{held}/cancel"' in row
        assert "hx-confirm=" in row
        cancel = f"/console/tasks/{held}/cancel"
        forged = client.post(cancel, headers={"X-CSRF-Token": "x" * 43, "HX-Request": "true"})
        assert forged.status_code == 403
        answer = client.post(cancel, headers=_htmx(token, f"task-row-{held}"))
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith(f'<tr id="task-row-{held}"')
        assert 'data-status="cancelled"' in answer.text
        assert 'data-action="cancel"' not in answer.text
        api = client.get(f"/api/v1/tasks/{held}", headers={"X-API-Key": ann})
        assert result_of(api)["status"] == "cancelled"
        again = client.post(cancel, headers=_htmx(token, f"task-card-{held}"))
        assert again.status_code == 412  # already cancelled: the API's precondition error
        assert "cannot be cancelled" in again.text


def test_cancel_without_htmx_goes_to_the_task(workspace: Path) -> None:
    with private_network_client(workspace, worker=False) as client:
        ann = create_user(client, "acme", "ann")
        held = _pending_import(client, ann)
        token = sign_in(client, ann)
        card = client.get(f"/console/tasks/{held}/card").text
        assert 'hx-trigger="every 2s"' in card  # an unfinished task's card follows it
        assert 'data-action="cancel"' in card
        answer = client.post(
            f"/console/tasks/{held}/cancel",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/tasks/{held}"
        page = client.get(f"/console/tasks/{held}")
        assert 'data-status="cancelled"' in page.text
        assert "hx-trigger" not in page.text


def _record(status: str, stage: str, progress: dict[str, Any]) -> Any:
    from openviking_mcp.contract.tasks import TaskInfo

    return TaskInfo(
        task_id="t",
        task_type="add_resource",
        status=status,
        stage=stage,
        progress=progress,
        resource_id=None,
        result=None,
        error=None,
        attempts=1,
        created_at=0,
        updated_at=0,
        created_at_iso="",
        updated_at_iso="",
    )


def test_progress_fraction() -> None:
    from http_api.console.tasks import progress_fraction

    assert progress_fraction(_record("completed", "done", {})) == 1.0
    assert progress_fraction(_record("pending", "", {})) == 0.0
    running = _record("running", "embedding", {"files_total": 4, "files_indexed": 1})
    assert progress_fraction(running) == 0.25
    assert progress_fraction(_record("running", "parsing", {})) == 0.3
