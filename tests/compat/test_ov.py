"""The upstream ``ov`` CLI (the Rust binary of the ``openviking`` 0.5.2 wheel) against a live
server, with ``-o json`` so that each step's result can be checked.

``ov`` reads ``~/.openviking/ovcli.conf`` (``url``, ``api_key``: ``ben``, a USER) from a private
HOME; ADMIN steps use a second config file through ``OPENVIKING_CLI_CONFIG_FILE``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat._clients import Live, run_ov
from tests.compat._inputs import make_inputs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("inputs"))


def test_fs(live: Live) -> None:
    assert run_ov(live, "mkdir", "viking://resources/cli").result["uri"] == (
        "viking://resources/cli"
    )
    wrote = run_ov(
        live,
        "write",
        "viking://resources/cli/a.md",
        "--content",
        "hello walrus",
        "--mode",
        "create",
        "--wait",
    ).result
    assert wrote["written_bytes"] == len("hello walrus")
    assert run_ov(live, "read", "viking://resources/cli/a.md").result == "hello walrus"
    stat = run_ov(live, "stat", "viking://resources/cli/a.md").result
    assert stat["size"] == len("hello walrus")
    assert stat["isDir"] is False
    moved = run_ov(live, "mv", "viking://resources/cli/a.md", "viking://resources/cli/b.md")
    assert moved.result["to"] == "viking://resources/cli/b.md"
    listed = run_ov(live, "ls", "viking://resources/cli").result
    assert [e["uri"] for e in listed] == ["viking://resources/cli/b.md"]
    tree = run_ov(live, "tree", "viking://resources").result
    assert "cli/b.md" in [e["rel_path"] for e in tree]
    run_ov(live, "rm", "viking://resources/cli/b.md").check()
    assert run_ov(live, "ls", "viking://resources/cli").result == []
    missing = run_ov(live, "stat", "viking://resources/cli/b.md")
    assert missing.returncode != 0
    assert missing.envelope["error"]["code"] == "NOT_FOUND"


def test_cp(live: Live) -> None:
    run_ov(
        live, "write", "viking://resources/cpy/a.md", "--content", "copied", "--mode", "create"
    ).check()
    run_ov(live, "cp", "viking://resources/cpy/a.md", "viking://resources/cpy/b.md").check()
    assert run_ov(live, "read", "viking://resources/cpy/b.md").result == "copied"


def test_mkdir_twice_is_a_conflict_as_in_the_original(live: Live) -> None:
    run_ov(live, "mkdir", "viking://resources/twice").check()
    again = run_ov(live, "mkdir", "viking://resources/twice")
    assert again.returncode != 0
    assert "CONFLICT" in again.stdout + again.stderr


def test_content_and_search(live: Live) -> None:
    run_ov(
        live,
        "write",
        "viking://resources/cafe/menu.md",
        "--content",
        "Espresso and cortado. Coffee at nine.",
        "--mode",
        "create",
        "--wait",
    ).check()
    assert run_ov(live, "abstract", "viking://resources/cafe").result
    assert "menu.md" in run_ov(live, "overview", "viking://resources/cafe").result
    grep = run_ov(live, "grep", "cortado", "--uri", "viking://resources").result
    assert [m["uri"] for m in grep["matches"]] == ["viking://resources/cafe/menu.md"]
    glob = run_ov(live, "glob", "**/menu.md", "--uri", "viking://resources").result
    assert glob["matches"] == ["viking://resources/cafe/menu.md"]
    for command in ("find", "search"):
        found = run_ov(live, command, "espresso cortado").result
        uris = [r["uri"] for r in found["resources"]]
        assert "viking://resources/cafe/menu.md" in uris[:2], (command, uris)


def test_add_resource_file_folder_zip(live: Live, inputs: Path) -> None:
    done = run_ov(
        live, "add-resource", str(inputs / "guide.md"), "--to", "viking://resources/guide", "--wait"
    ).result
    assert done["root_uri"] == "viking://resources/guide"
    assert not done["errors"]
    glob = run_ov(live, "glob", "**/*.md", "--uri", "viking://resources/guide").result
    (guide,) = glob["matches"]
    assert "walrus" in run_ov(live, "read", guide).result

    done = run_ov(
        live, "add-resource", str(inputs / "bench"), "--parent", "viking://resources", "--wait"
    ).result
    assert done["root_uri"] == "viking://resources/bench"
    glob = run_ov(live, "glob", "**/*.md", "--uri", "viking://resources/bench").result
    assert {u.rsplit("/", 1)[-1] for u in glob["matches"]} == {"note_00.md", "note_01.md"}

    done = run_ov(
        live,
        "add-resource",
        str(inputs / "archive.zip"),
        "--to",
        "viking://resources/zipped",
        "--wait",
    ).result
    assert done["root_uri"] == "viking://resources/zipped"
    grep = run_ov(live, "grep", "Puffins", "--uri", "viking://resources/zipped").result
    assert grep["count"] == 1


def test_add_resource_url_is_refused_offline(live: Live) -> None:
    refused = run_ov(
        live, "add-resource", "https://example.com/page", "--to", "viking://resources/web", "--wait"
    )
    assert refused.returncode != 0
    error = refused.envelope["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert "example.com" in error["message"]
    # a refused import leaves the server healthy, with the caller's identity
    health = run_ov(live, "health").result
    assert health["healthy"] is True
    assert (health["account_id"], health["user_id"], health["role"]) == ("acme", "ben", "user")


def test_skills(live: Live, inputs: Path) -> None:
    text = "---\nname: text-skill\ndescription: From text\n---\n# Text\nBody"
    added = [
        run_ov(live, "add-skill", "--wait", "-y", "--", text).result,
        run_ov(live, "add-skill", str(inputs / "folder-skill"), "--wait", "-y").result,
        run_ov(live, "add-skill", str(inputs / "file-skill.md"), "--wait", "-y").result,
    ]
    assert [a["name"] for a in added] == ["text-skill", "folder-skill", "file-skill"]
    listed = run_ov(live, "skills", "list").check()
    assert {s["name"] for s in listed["skills"]} == {"text-skill", "folder-skill", "file-skill"}
    shown = run_ov(live, "skills", "show", "folder-skill").result
    assert shown["description"] == "Skill from a folder"
    assert "Steps." in shown["body"]
    removed = run_ov(live, "skills", "remove", "file-skill", "-y").result
    assert removed["removed_names"] == ["file-skill"]
    listed = run_ov(live, "skills", "list").result
    assert {s["name"] for s in listed["skills"]} == {"text-skill", "folder-skill"}


def test_skills_find(live: Live) -> None:
    run_ov(
        live,
        "add-skill",
        "--wait",
        "-y",
        "--",
        "---\nname: kettle\ndescription: Boil water\n---\nFill it.",
    ).check()
    assert "kettle" in str(run_ov(live, "skills", "find", "boil water").result)


def test_sessions_and_tasks(live: Live) -> None:
    made = run_ov(live, "session", "new").result
    sid = made["session_id"]
    assert made["message_count"] == 0
    for role, text in (("user", "I like green tea"), ("assistant", "Noted")):
        run_ov(live, "session", "add-message", sid, "--role", role, "--content", text).check()
    detail = run_ov(live, "session", "get", sid).result
    assert detail["message_count"] == 2
    context = run_ov(live, "session", "get-session-context", sid).result
    assert [m["parts"][0]["text"] for m in context["messages"]] == ["I like green tea", "Noted"]
    commit = run_ov(live, "session", "commit", sid).result
    assert commit["archived"] is True
    run_ov(live, "wait").check()
    task = run_ov(live, "task", "status", commit["task_id"]).result
    assert task["status"] == "completed"
    assert task["task_type"] == "session_commit"
    tasks = run_ov(live, "task", "list").result
    assert commit["task_id"] in [t["task_id"] for t in tasks]
    assert sid in [s["session_id"] for s in run_ov(live, "session", "list").result]
    run_ov(live, "session", "delete", sid).check()
    assert sid not in [s["session_id"] for s in run_ov(live, "session", "list").result]


def test_session_delete_missing_is_not_found_as_in_the_original(live: Live) -> None:
    gone = run_ov(live, "session", "delete", "never-made")
    assert gone.returncode != 0
    assert "NOT_FOUND" in gone.stdout + gone.stderr


def test_pack_as_admin(live: Live, tmp_path: Path) -> None:
    pack = tmp_path / "packed.ovpack"
    admin = live.admin_key
    run_ov(
        live,
        "write",
        "viking://resources/packed/p.md",
        "--content",
        "Packed words",
        "--mode",
        "create",
        "--wait",
        key=admin,
    ).check()
    run_ov(live, "export", "viking://resources/packed", str(pack), key=admin).check()
    assert pack.stat().st_size > 0
    run_ov(live, "mkdir", "viking://resources/restored", key=admin).check()
    done = run_ov(live, "import", str(pack), "viking://resources/restored", key=admin).result
    assert done["uri"] == "viking://resources/restored/packed"
    assert run_ov(live, "read", "viking://resources/restored/packed/p.md").result == "Packed words"


def test_pack_as_user(live: Live, tmp_path: Path) -> None:
    run_ov(live, "export", "viking://resources", str(tmp_path / "user.ovpack")).check()


def test_admin(live: Live) -> None:
    made = run_ov(
        live, "admin", "register-user", "acme", "dan", "--role", "user", key=live.admin_key
    ).result
    assert made["user_id"] == "dan"
    assert made["user_key"]
    users = run_ov(live, "admin", "list-users", "acme", key=live.admin_key).result
    assert {"ann", "ben", "dan"} <= {u["user_id"] for u in users}
    denied = run_ov(live, "admin", "list-users", "acme")
    assert denied.returncode != 0
    assert denied.envelope["error"]["code"] == "PERMISSION_DENIED"


def test_admin_set_role_and_remove_user(live: Live) -> None:
    admin = live.admin_key
    run_ov(live, "admin", "register-user", "acme", "gus", key=admin).check()
    promoted = run_ov(live, "admin", "set-role", "acme", "gus", "admin", key=admin)
    assert promoted.result == {"account_id": "acme", "user_id": "gus", "role": "admin"}
    demoted = run_ov(live, "admin", "set-role", "acme", "gus", "user", key=admin)
    assert demoted.returncode != 0  # demotion is ROOT's
    assert demoted.envelope["error"]["code"] == "PERMISSION_DENIED"
    removed = run_ov(live, "admin", "remove-user", "acme", "gus", key=admin)
    assert removed.result["status"] == "deleted"
    users = run_ov(live, "admin", "list-users", "acme", key=admin).result
    assert "gus" not in {u["user_id"] for u in users}


def test_admin_delete_account(live: Live) -> None:
    root = live.root_key
    run_ov(live, "admin", "create-account", "gone", "--admin", "gil", key=root).check()
    deleted = run_ov(live, "admin", "delete-account", "gone", key=root)
    assert deleted.result == {"account_id": "gone", "status": "deleted", "deleted": True}
    accounts = run_ov(live, "admin", "list-accounts", key=root).result
    assert "gone" not in {a["account_id"] for a in accounts}


def test_status(live: Live) -> None:
    health = run_ov(live, "health", json_output=False)
    assert health.returncode == 0, health.stderr
    assert "Connected (Healthy)" in health.stdout
    for label, value in (("Account", "acme"), ("User", "ben"), ("Role", "user")):
        assert any(line.split() == [label, value] for line in health.stdout.splitlines()), (
            health.stdout
        )
    status = run_ov(live, "status", json_output=False)
    assert status.returncode == 0
    assert "Connected (Healthy)" in status.stdout
    # ov summarises each component from its status text; none may be left "unknown"
    lines = {line.split()[0]: line.split()[1:] for line in status.stdout.splitlines() if line}
    assert lines["Embedding"] == ["hashing:v1-64"], status.stdout
    for name in ("queue", "vikingdb", "models", "lock", "retrieval", "filesystem"):
        assert lines[name][0] == "healthy", status.stdout
        assert "unknown" not in lines[name], status.stdout
    queue = run_ov(live, "observer", "queue").result
    assert queue["is_healthy"] is True


def test_more_commands(live: Live, tmp_path: Path) -> None:
    run_ov(
        live,
        "write",
        "viking://resources/more/a.md",
        "--content",
        "alpha beta",
        "--mode",
        "create",
        "--wait",
    ).check()
    local = tmp_path / "got.md"
    got = run_ov(live, "get", "viking://resources/more/a.md", str(local), json_output=False)
    assert got.returncode == 0, got.stderr
    assert local.read_text() == "alpha beta"
    sid = run_ov(live, "session", "new").check()["session_id"]
    messages = '[{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}]'
    added = run_ov(live, "session", "add-messages", sid, messages).check()
    assert added["added"] == 2
    version = run_ov(live, "version", json_output=False)
    assert "0.5.2" in version.stdout
    backup = tmp_path / "backup.ovpack"
    run_ov(live, "backup", str(backup), key=live.admin_key).check()
    assert backup.stat().st_size > 0
    run_ov(live, "admin", "register-user", "acme", "fay", key=live.admin_key).check()
    key = run_ov(live, "admin", "regenerate-key", "acme", "fay", key=live.admin_key).check()
    assert key["user_key"].startswith("YWNtZQ.")  # the account's name, base64
