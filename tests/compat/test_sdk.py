"""The upstream Python client ``openviking-sdk`` (``SyncHTTPClient``) against a live server.

A USER key (``ben`` of account ``acme``) drives every step unless the step needs an ADMIN
(``ann``). The SDK runs in a subprocess from the cached tool folder, never from our virtualenv.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.compat._clients import Live, run_sdk
from tests.compat._inputs import make_inputs
from tests.compat.conftest import ROOT_KEY

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _sdk(live: Live, body: str, *, key: str | None = None) -> Any:
    out = run_sdk(live, body, key=key)
    assert out["ok"], out
    return out["result"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("inputs"))


def test_fs(live: Live) -> None:
    listed = _sdk(
        live,
        """
        client.mkdir("viking://resources/sdk")
        client.write("viking://resources/sdk/a.md", "coffee at nine", mode="create", wait=True)
        client.mv("viking://resources/sdk/a.md", "viking://resources/sdk/b.md")
        result = {
            "ls": client.ls("viking://resources/sdk"),
            "tree": client.tree("viking://resources"),
            "stat": client.stat("viking://resources/sdk/b.md"),
            "read": client.read("viking://resources/sdk/b.md"),
        }
        """,
    )
    assert [e["name"] for e in listed["ls"]] == ["b.md"]
    assert "sdk/b.md" in [e["rel_path"] for e in listed["tree"]]
    assert listed["stat"]["size"] == len("coffee at nine")
    assert not listed["stat"]["isDir"]
    assert listed["read"] == "coffee at nine"
    gone = _sdk(
        live,
        """
        client.rm("viking://resources/sdk/b.md")
        result = client.ls("viking://resources/sdk")
        """,
    )
    assert gone == []


def test_mkdir_twice_is_a_conflict_as_in_the_original(live: Live) -> None:
    _sdk(live, 'result = client.mkdir("viking://resources/twice")')
    again = run_sdk(live, 'result = client.mkdir("viking://resources/twice")')
    assert again["ok"] is False
    assert again["error"] == "ConflictError", again


def test_content_and_search(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.write("viking://resources/cafe/menu.md", "Espresso and cortado. Coffee at nine.",
                     mode="create", wait=True)
        result = {
            "abstract": client.abstract("viking://resources/cafe"),
            "overview": client.overview("viking://resources/cafe"),
            "grep": client.grep("viking://resources", "cortado"),
            "glob": client.glob("**/menu.md", uri="viking://resources"),
            "find": client.find("espresso cortado", target_uri="viking://resources"),
            "search": client.search("espresso cortado", target_uri="viking://resources"),
        }
        """,
    )
    assert got["abstract"]
    assert "menu.md" in got["overview"]
    assert [m["uri"] for m in got["grep"]["matches"]] == ["viking://resources/cafe/menu.md"]
    assert got["glob"]["matches"] == ["viking://resources/cafe/menu.md"]
    for kind in ("find", "search"):
        uris = [r["uri"] for r in got[kind]["resources"]]
        assert "viking://resources/cafe/menu.md" in uris[:2], (kind, uris)


def test_find_with_filter(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.write("viking://resources/flt/f.md", "Lapsang souchong", mode="create", wait=True)
        result = client.find("lapsang", target_uri="viking://resources", options={
            "filter": {"op": "must", "field": "context_type", "conds": ["resource"]}})
        """,
    )
    assert "viking://resources/flt/f.md" in [r["uri"] for r in got["resources"]]


def test_add_resource_file(live: Live, inputs: Path) -> None:
    got = _sdk(
        live,
        f"""
        done = client.add_resource({str(inputs / "guide.md")!r}, to="viking://resources/guide",
                                   wait=True)
        result = {{"done": done, "text": client.read("viking://resources/guide/guide.md")}}
        """,
    )
    assert "walrus" in got["text"]


def test_add_resource_folder(live: Live, inputs: Path) -> None:
    got = _sdk(
        live,
        f"""
        client.add_resource({str(inputs / "bench")!r}, parent="viking://resources", wait=True)
        result = client.glob("**/*.md", uri="viking://resources/bench")
        """,
    )
    names = {uri.rsplit("/", 1)[-1] for uri in got["matches"]}
    assert {"note_00.md", "note_01.md"} <= names


def test_add_resource_zip(live: Live, inputs: Path) -> None:
    got = _sdk(
        live,
        f"""
        client.add_resource({str(inputs / "archive.zip")!r}, to="viking://resources/zipped",
                            wait=True)
        result = client.grep("viking://resources/zipped", "Puffins")
        """,
    )
    assert got["count"] == 1


def test_add_resource_url_is_refused_offline(live: Live) -> None:
    out = run_sdk(
        live,
        'result = client.add_resource("https://example.com/page", to="viking://resources/web", '
        "wait=True)",
    )
    assert not out["ok"]
    assert out["error"] == "InvalidArgumentError"
    assert "example.com" in out["message"]


def test_skills(live: Live, inputs: Path) -> None:
    got = _sdk(
        live,
        f"""
        added = [
            client.add_skill({{"name": "dict-skill", "description": "From a dict",
                              "content": "# Dict\\nDo dict things."}}, wait=True),
            client.add_skill({{"name": "tool-skill", "description": "An MCP tool",
                              "inputSchema": {{"type": "object",
                                              "properties": {{"q": {{"type": "string"}}}}}}}},
                             wait=True),
            client.add_skill("---\\nname: text-skill\\ndescription: From text\\n---\\n# Text",
                             wait=True),
            client.add_skill({str(inputs / "folder-skill")!r}, wait=True),
            client.add_skill({str(inputs / "file-skill.md")!r}, wait=True),
        ]
        result = {{
            "added": [a["name"] for a in added],
            "listed": sorted(s["name"] for s in client.list_skills()["skills"]),
            "dict": client.get_skill("dict-skill"),
            "deleted": client.delete_skill("text-skill"),
            "after": sorted(s["name"] for s in client.list_skills()["skills"]),
        }}
        """,
    )
    names = ["dict-skill", "tool-skill", "text-skill", "folder-skill", "file-skill"]
    assert got["added"] == names
    assert got["listed"] == sorted(names)
    assert got["dict"]["description"] == "From a dict"
    assert "Do dict things." in got["dict"]["body"]
    assert got["deleted"]["name"] == "text-skill"
    assert got["after"] == sorted(set(names) - {"text-skill"})


def test_skill_with_only_a_name(live: Live) -> None:
    got = _sdk(live, 'result = client.add_skill({"name": "bare-skill"}, wait=True)')
    assert got["name"] == "bare-skill"


def test_find_skills(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.add_skill({"name": "kettle", "description": "Boil water in a kettle",
                          "content": "Fill, switch on, wait."}, wait=True)
        result = client.find_skills("boil water")
        """,
    )
    assert "kettle" in str(got)


def test_update_and_show_skill(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.add_skill({"name": "mug", "description": "Hold tea", "content": "v1"}, wait=True)
        updated = client.update_skill("mug", {"name": "mug", "description": "Hold tea",
                                              "content": "v2"}, wait=True)
        shown = client.get_skill("mug", None, True, True, 2, include_integrity=True)
        listed = client.list_skills(1)
        result = {"updated": updated, "shown": shown, "listed": listed}
        """,
    )
    assert got["updated"]["action"] == "update"
    shown = got["shown"]
    assert shown["content"].rstrip().endswith("v2")
    assert len(shown["revision"]) == 64
    assert shown["source"]["tracked"] is False
    assert got["listed"]["total"] == 1


def test_sessions_and_tasks(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.create_session(session_id="s-sdk")
        s = client.session("s-sdk")
        s.add_message("user", "I like green tea")
        s.add_message("assistant", "Noted")
        detail = client.get_session("s-sdk")
        context = client.get_session_context("s-sdk")
        commit = client.commit_session("s-sdk")
        waited = client.wait_processed()
        result = {
            "detail": detail, "context": context, "commit": commit, "waited": waited,
            "listed": [x["session_id"] for x in client.list_sessions()],
            "task": client.get_task(commit["task_id"]),
            "tasks": [t["task_id"] for t in client.list_tasks()],
        }
        client.delete_session("s-sdk")
        result["after"] = [x["session_id"] for x in client.list_sessions()]
        """,
    )
    assert got["detail"]["message_count"] == 2
    assert got["context"]["latest_archive_overview"] == ""  # no archive yet: "" as upstream
    assert [m["parts"][0]["text"] for m in got["context"]["messages"]] == [
        "I like green tea",
        "Noted",
    ]
    assert got["commit"]["archived"]
    assert got["commit"]["message_count"] == 2
    assert got["task"]["status"] == "completed"
    assert got["task"]["task_type"] == "session_commit"
    assert got["commit"]["task_id"] in got["tasks"]
    assert got["waited"]["failed"] == 0
    assert "s-sdk" in got["listed"]
    assert "s-sdk" not in got["after"]


def test_session_detail_fields(live: Live) -> None:
    got = _sdk(live, 'result = client.create_session(session_id="s-fields")')
    assert "llm_token_usage" in got
    assert "last_commit_at" in got


def test_delete_missing_session_is_not_found_as_in_the_original(live: Live) -> None:
    gone = run_sdk(live, 'result = client.delete_session("never-made")')
    assert gone["ok"] is False
    assert gone["error"] == "NotFoundError", gone
    assert "never-made" in gone["message"]


def test_pack_as_admin(live: Live, tmp_path: Path) -> None:
    pack = tmp_path / "docs.ovpack"
    got = _sdk(
        live,
        f"""
        client.write("viking://resources/packed/p.md", "Packed words", mode="create", wait=True)
        client.mkdir("viking://resources/restored")
        exported = client.export_ovpack("viking://resources/packed", {str(pack)!r})
        imported = client.import_ovpack({str(pack)!r}, "viking://resources/restored")
        result = {{"exported": exported, "imported": imported,
                  "read": client.read("viking://resources/restored/packed/p.md")}}
        """,
        key=live.admin_key,
    )
    assert pack.stat().st_size > 0
    assert got["read"] == "Packed words"


def test_pack_as_user(live: Live, tmp_path: Path) -> None:
    pack = tmp_path / "user.ovpack"
    _sdk(live, f'result = client.export_ovpack("viking://resources", {str(pack)!r})')
    assert pack.stat().st_size > 0


def test_admin(live: Live) -> None:
    got = _sdk(
        live,
        """
        made = client.admin_register_user("acme", "cid", role="user")
        result = {"made": made, "users": client.admin_list_users("acme")}
        """,
        key=live.admin_key,
    )
    assert got["made"]["user_id"] == "cid"
    assert got["made"]["user_key"]
    users = got["users"]
    listed = users if isinstance(users, list) else users.get("users", [])
    assert {"ann", "ben", "cid"} <= {u["user_id"] for u in listed}
    denied = run_sdk(live, 'result = client.admin_list_users("acme")')
    assert denied["error"] == "PermissionDeniedError"


def test_status(live: Live) -> None:
    got = _sdk(
        live,
        "result = {'health': client.health(), 'healthy': client.is_healthy(), "
        "'status': client.get_status()}",
    )
    assert got["health"] is True
    assert got["healthy"] is True
    assert got["status"]["is_healthy"] is True
    assert {"queue", "vikingdb"} <= set(got["status"]["components"])


def test_more_fs_content_and_search(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.write("viking://resources/more/a.md", "alpha beta", mode="create", wait=True)
        result = {
            "raw": client.read_raw("viking://resources/more/a.md"),
            "bytes": client.download_bytes("viking://resources/more/a.md").decode(),
            "exists": [client.session_exists("nope")],
            "context": client.search_context("alpha beta"),
            "consistency": client.check_consistency("viking://resources/more"),
            "queue": client.queue_status(),
        }
        """,
    )
    assert got["raw"] == got["bytes"] == "alpha beta"
    assert got["exists"] == [False]
    assert "viking://resources/more/a.md" in [e["uri"] for e in got["context"]["entries"]]
    assert got["consistency"]["missing_record_count"] == 0
    assert got["queue"]["is_healthy"] is True


def test_attrs_and_tags(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.write("viking://resources/tagged/a.md", "tagged", mode="create", wait=True)
        client.set_tags("viking://resources/tagged/a.md", ["team=core"])
        result = client.attrs("viking://resources/tagged/a.md")
        """,
    )
    assert "core" in str(got)


def test_validate_skill(live: Live) -> None:
    got = _sdk(
        live, 'result = client.validate_skill("---\\nname: v\\ndescription: d\\n---\\nbody")'
    )
    assert "v" in str(got)


def test_more_sessions_and_tasks(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.create_session(session_id="s-batch")
        added = client.batch_add_messages("s-batch", [
            {"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello"}])
        commit = client.commit_session("s-batch")
        client.wait_processed()
        result = {
            "added": added,
            "archive": client.get_session_archive("s-batch", commit["archive_id"]),
            "done": client.list_tasks(status="completed"),
            "exists": client.session_exists("s-batch"),
        }
        """,
    )
    assert got["added"]["added"] == 2
    assert got["archive"]["status"] == "done"
    assert "hi there" in got["archive"]["abstract"]
    assert {t["status"] for t in got["done"]} == {"completed"}
    assert got["exists"] is True


def test_update_session_config(live: Live) -> None:
    body = """
        client.create_session(session_id="s-config")
        result = client.update_session_config("s-config", {"auto_commit_policy": None})
    """
    _sdk(live, body)


def test_more_admin_and_backup(live: Live, tmp_path: Path) -> None:
    backup = tmp_path / "backup.ovpack"
    got = _sdk(
        live,
        f"""
        client.admin_register_user("acme", "eve", role="user")
        result = {{
            "key": client.admin_regenerate_key("acme", "eve"),
            "backup": client.backup_ovpack({str(backup)!r}),
        }}
        """,
        key=live.admin_key,
    )
    assert got["key"]["user_key"].startswith("YWNtZQ.")  # the account's name, base64
    assert got["backup"] == str(backup)
    assert backup.stat().st_size > 0


def test_admin_promotes_and_removes_a_user(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.admin_register_user("acme", "dan", role="user")
        result = {
            "promoted": client.admin_set_role("acme", "dan", "admin"),
            "removed": client.admin_remove_user("acme", "dan"),
            "users": client.admin_list_users("acme"),
        }
        """,
        key=live.admin_key,
    )
    assert got["promoted"] == {"account_id": "acme", "user_id": "dan", "role": "admin"}
    assert got["removed"]["status"] == "deleted"
    assert (got["removed"]["account_id"], got["removed"]["user_id"]) == ("acme", "dan")
    users = got["users"]
    listed = users if isinstance(users, list) else users.get("users", [])
    assert "dan" not in {u["user_id"] for u in listed}


def test_root_deletes_an_account(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.admin_create_account("doomed", "dora")
        result = {"deleted": client.admin_delete_account("doomed"),
                  "accounts": [a["account_id"] for a in client.admin_list_accounts()]}
        """,
        key=ROOT_KEY,
    )
    assert got["deleted"] == {"account_id": "doomed", "status": "deleted", "deleted": True}
    assert "doomed" not in got["accounts"]


def test_admin_groups_and_user(live: Live) -> None:
    got = _sdk(
        live,
        """
        client.admin_create_group("acme", "eng")
        client.admin_add_group_member("acme", "eng", "ben")
        result = {"members": client.admin_list_group_members("acme", "eng"),
                  "user": client.admin_get_user("acme", "ben")}
        """,
        key=live.admin_key,
    )
    assert "ben" in str(got["members"])
    assert got["user"]["user_id"] == "ben"


def test_batch_write_pages_tags_and_removal(live: Live) -> None:
    got = _sdk(
        live,
        """
        written = client.batch_write("viking://resources/batch", [
            {"uri": "viking://resources/batch/a.md", "content": "alpha", "mode": "create"},
            {"uri": "viking://resources/batch/b.md", "content": "beta", "mode": "create"},
            {"uri": "viking://resources/batch/c.md", "content": "gamma", "mode": "create"},
        ], wait=True)
        client.set_tags("viking://resources/batch/b.md", ["team=core"])
        first = client.ls_page("viking://resources/batch", simple=True, limit=2)
        rest = client.ls_page("viking://resources/batch", simple=True, limit=2, offset=2)
        tagged = client.ls("viking://resources/batch", tags=["team=core"], simple=True)
        client.rm("viking://resources/batch", recursive=True)
        client.rm("viking://resources/batch", recursive=True)  # gone already: no error
        result = {"written": written, "first": first, "rest": rest, "tagged": tagged}
        """,
    )
    assert got["written"]["root_uri"] == "viking://resources/batch"
    assert got["first"]["has_more"] is True
    assert len(got["first"]["result"]) == 2
    assert got["rest"] == {"result": ["viking://resources/batch/c.md"], "has_more": False}
    assert got["tagged"] == ["viking://resources/batch/b.md"]
