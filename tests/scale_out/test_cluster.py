"""The scale-out deployment, proven with real processes: three ``serve --no-worker`` front
ends (A, B, C, each also serving the bot) and two ``worker`` processes on one PostgreSQL
database, each with its own ``--path``, all behind one root API key. A fake OpenAI-compatible
model in the test process answers summaries, memory extraction and the bot.

One cluster serves the whole module; each test works in an account of its own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests._zips import zip_bytes
from tests.bot.conftest import sse_events
from tests.fakes import FakeOpenAIServer, chat_reply
from tests.pg import fresh_database
from tests.scale_out.cluster import Cluster, Node, result_of, wait_task

pytestmark = pytest.mark.slow

MEMORY = "Prefers teal umbrellas at the quokka festival."
ANSWER = "The lighthouse keeper logs the tides every evening at nine o'clock sharp."
#: Seconds the fake model waits before the bot's answer (a test turns it up).
SLOWNESS = {"answer": 0.0}


def _model(body: dict[str, Any]) -> Any:
    """The fake model: a fixed memory for extraction, a fixed (slow) answer for the bot, a
    short description for everything else."""
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        fields = {"topic": "umbrellas", "content": MEMORY}
        op = {"op": "add", "memory_type": "preferences", "fields": fields}
        return json.dumps({"operations": [op]})
    if body.get("tools"):
        return chat_reply(ANSWER, delay=SLOWNESS["answer"] or None)
    return "# Summary\n\nA short note."


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(_model) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[Cluster]:
    with fresh_database() as dsn:
        group = Cluster(tmp_path_factory.mktemp("cluster"), dsn, llm.base_url)
        try:
            group.start(servers=3, workers=2)
            yield group
        finally:
            group.stop()


def _upload(client: httpx.Client, name: str, data: bytes) -> str:
    saved = client.post("/api/v1/resources/temp_upload", files={"file": (name, data)})
    return str(result_of(saved)["temp_file_id"])


def _zip_imported_through_a(
    cluster: Cluster, key: str, name: str, files: dict[str, str], **body: Any
) -> dict[str, Any]:
    """Upload ``files`` zipped as ``name`` to C, then submit their import to A (with ``body``
    fields besides the upload's id); A's answer."""
    with cluster.client(2, key) as c:
        temp_file_id = _upload(c, name, zip_bytes(files))
    with cluster.client(0, key) as a:
        accepted: dict[str, Any] = result_of(
            a.post("/api/v1/resources", json={"temp_file_id": temp_file_id, **body})
        )
    return accepted


def _find(client: httpx.Client, query: str, **fields: Any) -> dict[str, Any]:
    found: dict[str, Any] = result_of(
        client.post("/api/v1/search/find", json={"query": query, **fields})
    )
    return found


def _uris(found: dict[str, Any]) -> list[str]:
    return [hit["uri"] for bucket in ("resources", "memories", "skills") for hit in found[bucket]]


def test_a_write_through_a_is_found_through_b_and_c(cluster: Cluster) -> None:
    """Refresh bound: a write is visible to the first search any front end runs after the
    write's transaction committed. ``write(wait=true)`` returns once the file and its index
    rows are committed, and every search first applies the committed delta to the process's
    in-memory mirror, so the very next ``find``/``search`` on B and C sees it (no sleep, no
    retry)."""
    key = cluster.new_account("write", "wanda")["wanda"]
    uri = "viking://resources/notes/lease.md"
    with cluster.client(0, key) as a:
        written = result_of(
            a.post(
                "/api/v1/content/write",
                json={
                    "uri": uri,
                    "content": "quorum lease renewal",
                    "mode": "create",
                    "wait": True,
                },
            )
        )
    assert written["vector_status"] == "complete", written
    for index in (1, 2):
        with cluster.client(index, key) as other:
            assert uri in _uris(_find(other, "quorum lease renewal"))
            searched = result_of(
                other.post("/api/v1/search/search", json={"query": "quorum lease renewal"})
            )
            assert uri in _uris(searched)


def _owner_pids(cluster: Cluster, task_id: str) -> set[int]:
    rows = cluster.sql("SELECT lease_owner FROM tasks WHERE task_id = %s", task_id)
    return {int(str(owner).split(":")[1]) for (owner,) in rows if owner}


def test_an_ingest_sent_to_a_runs_on_the_workers_and_is_followed_through_b(
    cluster: Cluster,
) -> None:
    """A zipped folder uploaded to C and submitted to A (``wait: false``) is run by a worker
    (the task's lease names a worker process, never a front end) while B reports its
    progress."""
    key = cluster.new_account("ingest", "ivan")["ivan"]
    count = 40
    files = {
        f"guide/part{i:02d}.md": f"# Part {i}\n\nchapter {i} of the zebra manual"
        for i in range(count)
    }
    accepted = _zip_imported_through_a(cluster, key, "guide.zip", files, wait=False)
    task_id = accepted["task_id"]
    owners: set[int] = set()
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    with cluster.client(1, key) as b:
        while not seen or seen[-1]["status"] not in ("completed", "failed", "cancelled"):
            assert time.monotonic() < deadline, seen[-1]
            owners |= _owner_pids(cluster, task_id)
            seen.append(result_of(b.get(f"/api/v1/tasks/{task_id}")))
            time.sleep(0.05)
        listing = result_of(
            b.get("/api/v1/fs/ls", params={"uri": accepted["root_uri"], "recursive": True})
        )
        found = _find(b, "zebra manual chapter 7")
    final = seen[-1]
    assert final["status"] == "completed", final
    assert {t["status"] for t in seen[:-1]} & {"pending", "running"}, seen  # seen under way
    assert final["progress"]["files_total"] == final["progress"]["files_indexed"] == count
    assert len([e for e in listing if not e["isDir"]]) == count
    assert any(uri.endswith("part07.md") for uri in _uris(found))
    worker_pids = {node.pid for node in cluster.workers}
    assert owners, seen  # sampled while it ran
    assert owners <= worker_pids, (owners, worker_pids)


def _task_row(cluster: Cluster, task_id: str) -> tuple[str, str | None, dict[str, Any]]:
    """``(status, lease_owner, progress)`` of a task, straight from the database."""
    ((status, owner, progress),) = cluster.sql(
        "SELECT status, lease_owner, progress FROM tasks WHERE task_id = %s", task_id
    )
    return str(status), owner, json.loads(progress)


def _kill_owner_mid_ingest(cluster: Cluster, task_id: str) -> Node:
    """SIGKILL the worker running ``task_id`` once it has written index rows (the task still
    running); that worker."""
    deadline = time.monotonic() + 60
    while True:
        status, owner, progress = _task_row(cluster, task_id)
        assert status in ("pending", "running"), (status, progress)
        if owner and progress.get("passages_embedded", 0) > 0:
            pid = int(owner.split(":")[1])
            (victim,) = [node for node in cluster.workers if node.pid == pid]
            victim.kill()
            status, _, progress = _task_row(cluster, task_id)
            assert status == "running", (status, progress)  # killed mid-import
            return victim
        assert time.monotonic() < deadline, progress
        time.sleep(0.02)


def _new_owner(cluster: Cluster, task_id: str, victim: Node) -> int:
    """The pid of the worker that takes ``task_id`` over from the killed ``victim``; fails
    unless that happens well before the 30 s lease could run out."""
    killed_at = time.monotonic()
    while True:
        status, owner, _ = _task_row(cluster, task_id)
        pid = int(owner.split(":")[1]) if owner else None
        if (pid is not None and pid != victim.pid) or status == "completed":
            assert pid is not None, "the task ended before its new owner was seen"
            return pid
        assert time.monotonic() - killed_at < 20, "the dead worker's lease was not recovered"
        time.sleep(0.05)


def test_a_worker_killed_mid_ingest_is_taken_over_and_every_file_indexed_once(
    cluster: Cluster,
) -> None:
    """The dead worker's lease is recovered at once by the other worker (same host, the
    owner's pid is gone: no waiting for the 30 s lease to run out), the import resumes from
    its checkpoint, and every file ends with one set of rows."""
    key = cluster.new_account("crash", "cleo")["cleo"]
    count = 200
    files = {
        f"pile/doc{i:03d}.md": f"# Doc {i:03d}\n\nnote {i:03d} of the heron ledger"
        for i in range(count)
    }
    accepted = _zip_imported_through_a(cluster, key, "pile.zip", files)
    victim = _kill_owner_mid_ingest(cluster, accepted["task_id"])
    cluster.workers.remove(victim)
    try:
        (survivor,) = cluster.live_workers()
        assert _new_owner(cluster, accepted["task_id"], victim) == survivor.pid
    finally:
        replacement = cluster.launch_worker("worker3")  # the module's cluster keeps two
    with cluster.client(1, key) as b:
        final = wait_task(b, accepted["task_id"], timeout=60)[-1]
        listing = result_of(
            b.get("/api/v1/fs/ls", params={"uri": accepted["root_uri"], "recursive": True})
        )
    cluster.wait_ready([replacement])
    assert final["status"] == "completed", final
    assert final["attempts"] == 2, final  # run again, once
    assert final["progress"]["files_indexed"] == count, final
    duplicates = cluster.sql(
        "SELECT uri, level, anchor, count(*) FROM ov_index_rows WHERE account_id = 'crash' "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    assert duplicates == []
    passages = cluster.sql(
        "SELECT uri, array_agg(anchor ORDER BY anchor) FROM ov_index_rows "
        "WHERE account_id = 'crash' AND level = 2 GROUP BY uri"
    )
    documents = sorted(entry["uri"] for entry in listing if not entry["isDir"])
    assert len(documents) == count
    assert sorted(uri for uri, _ in passages) == documents  # every file has its passages
    assert len({tuple(anchors) for _, anchors in passages}) == 1, passages[:3]  # same-shape files


def _commit_at_once(cluster: Cluster, key: str, session: str) -> list[httpx.Response]:
    """``commit`` of ``session`` through A and B, released at the same moment."""
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def commit(index: int) -> None:
        with cluster.client(index, key) as client:
            barrier.wait()
            answers.append(client.post(f"/api/v1/sessions/{session}/commit", json={}))

    threads = [threading.Thread(target=commit, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_servers_committing_one_session_make_one_archive(
    cluster: Cluster, llm: FakeOpenAIServer
) -> None:
    """The session's lock, shared through PostgreSQL, serializes the two commits: one
    archives the messages, the other finds none left; a worker extracts the memory once."""
    key = cluster.new_account("commits", "sam")["sam"]
    session = "rainy-day"
    talk = [
        ("user", "I always carry a teal umbrella to the quokka festival."),
        ("assistant", "A teal umbrella, noted."),
        ("user", "It rains there every single year."),
    ]
    with cluster.client(0, key) as a:
        result_of(a.post("/api/v1/sessions", json={"session_id": session}))
        messages = [{"role": role, "content": text} for role, text in talk]
        body = {"messages": messages}
        result_of(a.post(f"/api/v1/sessions/{session}/messages/batch", json=body))
    answers = _commit_at_once(cluster, key, session)
    assert len(answers) == 2
    results = [result_of(answer) for answer in answers]
    accepted = [r for r in results if r["status"] == "accepted"]
    assert len(accepted) == 1, results  # the other found nothing left to commit
    assert [r.get("reason") for r in results if r is not accepted[0]] == ["no_messages"]
    with cluster.client(2, key) as c:
        assert wait_task(c, accepted[0]["task_id"])[-1]["status"] == "completed"
        archives = result_of(c.get(f"/api/v1/sessions/{session}/archives"))
        grep = {"uri": "viking://user/sam/memories", "pattern": "teal umbrellas"}
        matches = result_of(c.post("/api/v1/search/grep", json=grep))["matches"]
    assert [(a["archive_uri"], a["message_count"]) for a in archives] == [
        (accepted[0]["archive_uri"], len(talk))
    ]
    assert [m["content"] for m in matches] == [MEMORY]  # extracted once, stored once
    extractions = [
        body
        for body in llm.paths("/chat/completions")
        if "## Memory categories" in json.dumps(body) and "quokka festival" in json.dumps(body)
    ]
    assert len(extractions) == 1


def _events(response: httpx.Response, stop_after: int | None = None) -> list[tuple[int, Any]]:
    events = []
    for index, payload in sse_events(response.iter_lines()):
        events.append((index, payload))
        if stop_after is not None and len(events) >= stop_after:
            break
    return events


def test_a_chat_stream_started_on_a_resumes_on_b_without_duplicates(
    cluster: Cluster, llm: FakeOpenAIServer
) -> None:
    key = cluster.new_account("chat", "bea")["bea"]
    question = {"message": "When are the tides logged?", "session_id": "tides"}
    SLOWNESS["answer"] = 1.0  # the turn is still running when B picks it up
    try:
        with cluster.client(0, key) as a, a.stream("POST", "/chat/stream", json=question) as first:
            assert first.status_code == 200, first.read()
            head = _events(first, stop_after=1)  # then hang up on A
        last = head[-1][0]
        resumed_at = time.time()
        with (
            cluster.client(1, key) as b,
            b.stream(
                "POST", "/chat/stream", json=question, headers={"Last-Event-ID": str(last)}
            ) as rest_response,
        ):
            assert rest_response.status_code == 200, rest_response.read()
            rest = _events(rest_response)
    finally:
        SLOWNESS["answer"] = 0.0
    assert [index for index, _ in rest] == list(range(last + 1, last + 1 + len(rest)))
    deltas = [payload["data"] for _, payload in rest if payload["event"] == "content_delta"]
    assert "".join(deltas) == ANSWER  # every word once
    answered_at = datetime.fromisoformat(rest[0][1]["timestamp"]).timestamp()
    assert resumed_at < answered_at  # B joined while the turn was still running
    assert rest[-1][1]["event"] == "response"
    assert rest[-1][1]["data"]["content"] == ANSWER
    asked = [
        body
        for body in llm.paths("/chat/completions")
        if body.get("tools") and question["message"] in json.dumps(body["messages"])
    ]
    assert len(asked) == 1  # B followed A's turn; it did not run the turn again


def test_a_user_sees_neither_another_account_nor_another_users_memories(cluster: Cluster) -> None:
    x = cluster.new_account("iso-x", "ann", "bob")
    y = cluster.new_account("iso-y", "olga")
    secret = "viking://resources/vault/secret.md"
    memory = "viking://user/ann/memories/preferences/orchid.md"
    words = "marzipan cipher orchid"
    for who, uri in ((y["olga"], secret), (x["ann"], memory)):
        with cluster.client(0, who) as a:
            body = {"uri": uri, "content": f"{words} of {uri}", "mode": "create", "wait": True}
            result_of(a.post("/api/v1/content/write", json=body))
    with cluster.client(1, y["olga"]) as olga, cluster.client(1, x["ann"]) as ann:
        assert secret in _uris(_find(olga, words))  # indexed and visible to its owner
        assert memory in _uris(_find(ann, words, target_uri="viking://user/ann/memories"))
        assert secret not in _uris(_find(ann, words))
    with cluster.client(1, x["bob"]) as bob:
        for target in (None, "viking://resources", "viking://user"):
            fields = {"target_uri": target} if target else {}
            seen = _uris(_find(bob, words, **fields))
            assert secret not in seen, (target, seen)
            assert memory not in seen, (target, seen)
        denied = bob.post(
            "/api/v1/search/find", json={"query": words, "target_uri": "viking://user/ann/memories"}
        )
        assert denied.status_code == 403, denied.text
        assert bob.get("/api/v1/content/read", params={"uri": memory}).status_code == 403
        assert bob.get("/api/v1/content/read", params={"uri": secret}).status_code == 404
