"""The console's Retry button on a failed task (``POST /console/tasks/{id}/retry``).

The failed task is a real import of a URL on a loopback port nobody listens on: a server-side
failure (502), so it may be retried; the retry is a new task, whose row or card replaces the
old one.
"""

from __future__ import annotations

from pathlib import Path

from tests.console._console import create_user, sign_in
from tests.console.test_tasks_page import _failing_import, _htmx, private_network_client
from tests.http_api._routes import result_of


def test_retry_a_failed_import(workspace: Path) -> None:
    with private_network_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        failed = _failing_import(client, ann)
        assert client.post(f"/console/tasks/{failed}/retry").status_code == 403  # no CSRF
        token = sign_in(client, ann)
        page = client.get("/console/tasks").text
        assert f'hx-post="/console/tasks/{failed}/retry"' in page
        assert 'data-action="retry"' in page
        card = client.get(f"/console/tasks/{failed}/card").text
        assert 'data-action="retry"' in card

        retry = f"/console/tasks/{failed}/retry"
        forged = client.post(retry, headers={"X-CSRF-Token": "x" * 43, "HX-Request": "true"})
        assert forged.status_code == 403
        answer = client.post(retry, headers=_htmx(token, f"task-row-{failed}"))
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith('<tr id="task-row-')
        assert f'id="task-row-{failed}"' not in answer.text  # the new task's row
        new = answer.text.split('data-task="', 1)[1].split('"', 1)[0]
        api = result_of(client.get(f"/api/v1/tasks/{new}", headers={"X-API-Key": ann}))
        assert (api["task_type"], api["resource_id"]) == (
            "add_resource",
            "viking://resources/guide",
        )
        old = result_of(client.get(f"/api/v1/tasks/{failed}", headers={"X-API-Key": ann}))
        assert old["status"] == "failed"

        # the old task has a newer import of its target now: the API's precondition error
        again = client.post(retry, headers=_htmx(token, f"task-card-{failed}"))
        assert again.status_code in (409, 412)
        assert "import of viking://resources/guide" in again.text

        ben_token = sign_in(client, ben)  # another user cannot retry ann's task
        assert client.post(retry, headers=_htmx(ben_token)).status_code == 404


def test_retry_without_htmx_goes_to_the_new_task(workspace: Path) -> None:
    with private_network_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        failed = _failing_import(client, ann)
        token = sign_in(client, ann)
        answer = client.post(
            f"/console/tasks/{failed}/retry", data={"csrf_token": token}, follow_redirects=False
        )
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/console/tasks/")
        assert location != f"/console/tasks/{failed}"
        page = client.get(location)
        assert page.status_code == 200
        assert "viking://resources/guide" in page.text
