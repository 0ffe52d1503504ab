"""SyncHTTPClient against a real ``openviking-mcp serve`` on 127.0.0.1 (a free port)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from openviking_mcp import SyncHTTPClient
from openviking_mcp.contract.errors import NotFoundError, UnimplementedError
from tests.servers import free_port, start_server

pytestmark = pytest.mark.slow

SKILL_MD = (
    "---\nname: release-helper\ndescription: Helps cut a release\n---\n\nTag, then roll out.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    conf = root / "home" / ".openviking" / "ov.conf"  # the server's HOME (tests.servers)
    conf.parent.mkdir(parents=True)
    embedding = {"dense": {"provider": "hashing", "dimension": 256}}
    conf.write_text(json.dumps({"embedding": embedding}), encoding="utf-8")
    port = free_port()
    proc = start_server(root, ["openviking-mcp", "serve"], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def ov(server: str, tmp_path: Path) -> Iterator[SyncHTTPClient]:
    # The url comes from ovcli.conf in this test's HOME (conftest points $HOME there).
    conf = tmp_path / "home" / ".openviking" / "ovcli.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(json.dumps({"url": server, "timeout": 30}), encoding="utf-8")
    with SyncHTTPClient() as client:
        yield client


def test_health_through_ovcli_conf(ov: SyncHTTPClient) -> None:
    assert ov.settings.timeout == 30.0
    assert ov.health()["healthy"] is True


def test_write_read_ls_and_errors(ov: SyncHTTPClient) -> None:
    written = ov.write("viking://resources/e2e/todo.md", "- ship it\n", mode="create")
    assert written["written_bytes"] == len("- ship it\n")
    ov.write("viking://resources/e2e/todo.md", "- test it\n", mode="append")
    assert ov.read("viking://resources/e2e/todo.md") == "- ship it\n- test it\n"
    assert ov.read_bytes("viking://resources/e2e/todo.md") == b"- ship it\n- test it\n"
    names = [entry["name"] for entry in ov.ls("viking://resources/e2e")]
    assert "todo.md" in names
    assert ov.stat("viking://resources/e2e/todo.md")["isDir"] is False
    full = ov.read_level("viking://resources/e2e/todo.md")  # GET /api/v1/content/level
    assert (full["level"], full["text"]) == ("full", "- ship it\n- test it\n")
    with pytest.raises(UnimplementedError, match="not served over HTTP"):
        ov.delete_privacy_config("skill", "x")  # no route: refused before any request
    with pytest.raises(NotFoundError) as caught:
        ov.read("viking://resources/e2e/missing.md")
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.details.get("resource")


def test_add_a_local_folder_then_find_it(ov: SyncHTTPClient, tmp_path: Path) -> None:
    docs = tmp_path / "handbook"
    (docs / "ops").mkdir(parents=True)
    (docs / "ops" / "rollback.md").write_text(
        "# Rollback\n\nTo roll back a release, redeploy the previous tag.\n", encoding="utf-8"
    )
    (docs / "debug.log").write_text("ignored", encoding="utf-8")
    (docs / ".gitignore").write_text("*.log\n", encoding="utf-8")
    result = ov.add_resource(str(docs), wait=True, timeout=120)
    root = result["root_uri"]
    assert root == "viking://resources/handbook"
    assert ov.read(f"{root}/ops/rollback/rollback.md").startswith("# Rollback")
    files = ov.glob("**/*", uri=root)["matches"]
    assert f"{root}/ops/rollback/rollback.md" in files
    assert not any(uri.endswith("debug.log") for uri in files)
    hits = ov.find("how do I roll back a release", context_type="resource")
    assert any(hit["uri"].startswith(root) for hit in hits["resources"])
    grep = ov.grep(root, "previous tag")
    assert grep["matches"][0]["uri"] == f"{root}/ops/rollback/rollback.md"


def test_add_a_skill_folder(ov: SyncHTTPClient, tmp_path: Path) -> None:
    skill = tmp_path / "release-helper"
    skill.mkdir()
    (skill / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (skill / "checklist.md").write_text("1. tag\n2. roll out\n", encoding="utf-8")
    added = ov.add_skill(str(skill))
    assert added["name"] == "release-helper"
    assert added["auxiliary_files"] == 1
    assert "release-helper" in [s["name"] for s in ov.list_skills()]


def test_update_find_and_validate_a_skill(ov: SyncHTTPClient, tmp_path: Path) -> None:
    skill = tmp_path / "deploy-helper"
    skill.mkdir()
    text = "---\nname: deploy-helper\ndescription: Deploys the service\n---\n\nRun it.\n"
    (skill / "SKILL.md").write_text(text, encoding="utf-8")
    ov.add_skill(text, wait=True)
    (skill / "runbook.md").write_text("1. deploy\n", encoding="utf-8")
    updated = ov.update_skill("deploy-helper", str(skill), wait=True)  # uploaded as a zip
    assert (updated["action"], updated["auxiliary_files"]) == ("update", 1)
    shown = ov.get_skill("deploy-helper", include_integrity=True)
    assert {f["path"] for f in shown["files"]} >= {"SKILL.md", "runbook.md"}
    found = ov.find_skills("deploy the service", 3, None, None, False)
    assert found["skills"][0]["name"] == "deploy-helper"
    report = ov.validate_skill(text, True, None, "other-dir")
    assert report["errors"][0]["rule"] == "name_matches_directory"


def test_session_messages_and_commit(ov: SyncHTTPClient) -> None:
    ov.add_message("e2e-chat", "user", content="I prefer dark roast coffee. My name is Dana.")
    ov.add_message("e2e-chat", "assistant", content="Noted, Dana.")
    assert ov.get_session("e2e-chat")["session_id"] == "e2e-chat"
    committed = ov.commit_session("e2e-chat", wait=True, timeout=120)
    assert committed["archive_uri"]
    assert ov.list_archives("e2e-chat")
    assert any(s["session_id"] == "e2e-chat" for s in ov.list_sessions())


def test_edit(ov: SyncHTTPClient) -> None:
    ov.write("viking://resources/e2e/edit.md", "hello\n", mode="create")
    ov.edit("viking://resources/e2e/edit.md", "hello", "hello world")
    assert ov.read("viking://resources/e2e/edit.md") == "hello world\n"


def test_openviking_sdk_names(ov: SyncHTTPClient, tmp_path: Path) -> None:
    """A few of openviking-sdk's method names, served by our operations."""
    uri = "viking://resources/sdk-names/note.md"
    ov.write(uri, "# Note\n\nhello\n", "create", True)  # the SDK's positional order
    assert ov.read_raw(uri).endswith("hello\n")
    assert ov.download_bytes(uri) == b"# Note\n\nhello\n"
    assert ov.attrs(uri) == {"uri": uri, "context_type": "resource", "attrs": {"tags": []}}
    session_id = ov.create_session()["session_id"]
    assert ov.session_exists(session_id) is True
    assert ov.session_exists("no-such-session") is False
    ov.batch_add_messages(session_id, [{"role": "user", "content": "hi"}])
    assert isinstance(ov.get_session_context(session_id), dict)
    assert isinstance(ov.wait_processed(), dict)
    assert ov.is_healthy() is True
    assert ov.observer.system["is_healthy"] is True
    pack = ov.export_ovpack("viking://resources/sdk-names", str(tmp_path))
    assert pack == str(tmp_path / "sdk-names.ovpack")
    ov.mkdir("viking://resources/sdk-copy")
    imported = ov.import_ovpack(pack, "viking://resources/sdk-copy")
    assert imported.startswith("viking://resources/sdk-copy")
    assert ov.read(f"{imported}/note.md").endswith("hello\n")


def test_paged_listings_and_cp(ov: SyncHTTPClient) -> None:
    for name in ("a", "b", "c"):
        ov.write(f"viking://resources/pages/{name}.md", name, mode="create")
    first = ov.ls_page("viking://resources/pages", limit=2)
    assert [e["name"] for e in first["result"]] == ["a.md", "b.md"]
    assert first["has_more"] is True
    rest = ov.ls_page("viking://resources/pages", offset=2, limit=2)
    assert ([e["name"] for e in rest["result"]], rest["has_more"]) == (["c.md"], False)
    tree = ov.tree_page("viking://resources/pages", node_limit=3)
    assert (len(tree["result"]), tree["has_more"]) == (3, False)
    copied = ov.cp("viking://resources/pages", "viking://resources/pages2", recursive=True)
    assert copied["to"] == "viking://resources/pages2"
    assert ov.read("viking://resources/pages2/c.md") == "c"


def test_sdk_session_objects_and_search_context(ov: SyncHTTPClient) -> None:
    ov.write(
        "viking://resources/e2e-ctx/tea.md", "Green tea steeps for two minutes.", mode="create"
    )
    ov.wait_processed()
    session = ov.session("e2e-handle")
    assert session.session_id == "e2e-handle"
    assert session.add_message("user", "How long does green tea steep?")["message_count"] == 1
    session.batch_add_messages([{"role": "assistant", "content": "Two minutes."}])
    assert session.load()["message_count"] == 2
    assert [m["role"] for m in session.get_session_context()["messages"]] == ["user", "assistant"]
    committed = session.commit()
    assert committed["archived"] is True
    ov.wait_processed()
    assert session.get_archive(committed["archive_id"])["archive_id"] == committed["archive_id"]
    block = ov.search_context("green tea steeping", session_id="e2e-handle")
    assert "viking://resources/e2e-ctx/tea.md" in json.dumps(block)
    with pytest.raises(NotFoundError):
        ov.session("never-made-here", must_exist=True)
    session.delete()
    assert ov.session_exists("e2e-handle") is False
