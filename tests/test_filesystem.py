"""The filesystem and content operations, through the embedded sync client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenViking
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidURIError,
    NotFoundError,
    NotInitializedError,
    PermissionDeniedError,
    UnimplementedError,
)
from tests.conftest import hashing_config

pytestmark = pytest.mark.both_backends


@pytest.fixture
async def hashing_service(
    workspace: Path, storage_section: dict[str, Any]
) -> AsyncIterator[ContextService]:
    """A service indexing with the hashing embedder (fast, offline)."""
    svc = ContextService(hashing_config(workspace, storage_section))
    await svc.initialize()
    try:
        yield svc
    finally:
        await svc.close()


def test_fresh_store_has_the_preset_tree(ov: OpenViking) -> None:
    assert ov.ls("viking://", simple=True) == [
        "viking://agent",
        "viking://resources",
        "viking://user",
    ]
    assert ov.ls("viking://user", simple=True) == ["viking://user/default"]
    assert ov.ls("viking://~", simple=True) == [
        f"viking://user/default/{name}"
        for name in ("memories", "peers", "privacy", "resources", "sessions", "skills")
    ]
    assert "memories" in ov.abstract("viking://~/memories").lower()
    assert ov.overview("viking://~/memories").startswith("# Memories")


def test_write_create_read_append_replace(ov: OpenViking) -> None:
    uri = "viking://resources/notes/todo.md"
    result = ov.write(uri, "line 1\n", mode="create")
    core = {k: result[k] for k in ("uri", "context_type", "mode", "written_bytes")}
    assert core == {"uri": uri, "context_type": "resource", "mode": "create", "written_bytes": 7}
    assert result["content_updated"] is True
    assert result["vector_status"] == "queued"
    assert len(result["task_id"]) == 32
    ov.write(uri, "line 2\n", mode="append")
    assert ov.read(uri) == "line 1\nline 2\n"
    ov.write(uri, "fresh\n")
    assert ov.read(uri) == "fresh\n"
    assert ov.read_bytes(uri) == b"fresh\n"


def test_read_offset_and_limit_are_lines(ov: OpenViking) -> None:
    uri = "viking://resources/lines.txt"
    ov.write(uri, "".join(f"l{i}\n" for i in range(10)), mode="create")
    assert ov.read(uri, offset=2, limit=3) == "l2\nl3\nl4\n"
    assert ov.read(uri, offset=8) == "l8\nl9\n"
    assert ov.read(uri, offset=50) == ""
    with pytest.raises(InvalidArgumentError):
        ov.read(uri, offset=-1)


def test_write_modes_check_existence(ov: OpenViking) -> None:
    uri = "viking://resources/x.md"
    assert ov.write(uri, "a")["mode"] == "replace"  # a missing text file is created
    ov.write(uri, "b", mode="append")
    assert ov.read(uri) == "ab"
    ov.write(uri, "a")
    with pytest.raises(InvalidArgumentError, match="does not allow extension"):
        ov.write("viking://resources/x.bin", "a", mode="append")
    with pytest.raises(AlreadyExistsError):
        ov.write(uri, "b", mode="create")
    with pytest.raises(InvalidArgumentError, match="mode"):
        ov.write(uri, "b", mode="upsert")  # type: ignore[arg-type]
    assert ov.read(uri) == "a"


def test_writing_to_a_directory_is_refused(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/proj")
    for mode in ("replace", "append", "create"):
        with pytest.raises((InvalidArgumentError, AlreadyExistsError)):
            ov.write("viking://resources/proj", "x", mode=mode)  # type: ignore[arg-type]
    assert ov.stat("viking://resources/proj")["isDir"] is True


def test_create_through_a_file_is_a_failed_precondition(ov: OpenViking) -> None:
    ov.write("viking://resources/f.md", "x", mode="create")
    with pytest.raises(FailedPreconditionError):
        ov.write("viking://resources/f.md/child.md", "y", mode="create")


def test_mkdir_with_description_sets_the_abstract(ov: OpenViking) -> None:
    assert ov.mkdir("viking://resources/a/b", "Project B docs") == {"uri": "viking://resources/a/b"}
    assert ov.abstract("viking://resources/a/b") == "Project B docs"
    assert ov.stat("viking://resources/a")["isDir"] is True
    with pytest.raises(ConflictError, match="already exists"):  # the original's answer
        ov.mkdir("viking://resources/a/b")


def test_abstract_of_a_file_falls_back_to_its_directory(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/d", "Dir abstract")
    ov.write("viking://resources/d/f.md", "x", mode="create")
    assert ov.abstract("viking://resources/d/f.md") == "Dir abstract"


def test_missing_tiers_read_as_placeholders(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/e")  # nothing written inside: no refresh runs
    assert ov.abstract("viking://resources/e") == (
        "# viking://resources/e [Directory abstract is not ready]"
    )
    assert ov.overview("viking://resources/e") == (
        "# viking://resources/e\n\n[Directory overview is not ready]"
    )


def test_listing_hides_dot_files_but_shows_dot_dirs(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/p", "desc")
    ov.write("viking://resources/p/.hidden.md", "h", mode="create")
    ov.mkdir("viking://resources/p/.git")
    ov.write("viking://resources/p/visible.md", "v", mode="create")
    names = [e["name"] for e in ov.ls("viking://resources/p")]
    assert names == [".git", "visible.md"]
    everything = [e["name"] for e in ov.ls("viking://resources/p", show_all_hidden=True)]
    assert everything[0] == ".git"
    # .overview.md may appear too: the background refresh regenerates it after the writes.
    assert {".abstract.md", ".hidden.md", "visible.md"} <= set(everything)


def test_ls_entry_shapes(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/p", "The P project")
    ov.write("viking://resources/p/a.md", "abc", mode="create")
    original = ov.ls("viking://resources")[0]
    assert set(original) == {"name", "size", "mode", "modTime", "isDir", "uri"}
    assert original["uri"] == "viking://resources/p"
    agent = ov.ls("viking://resources", output="agent", abs_limit=8)[0]
    assert set(agent) == {"uri", "size", "isDir", "modTime", "abstract"}
    assert agent["abstract"] == "The P..."
    files = ov.ls("viking://resources/p", output="agent")
    assert files == [
        {
            "uri": "viking://resources/p/a.md",
            "size": 3,
            "isDir": False,
            "modTime": files[0]["modTime"],
            "abstract": "",
        }
    ]
    assert files[0]["modTime"].endswith("Z")


def test_ls_sorting_and_limit(ov: OpenViking) -> None:
    for name in ("b.md", "a.md", "c.md"):
        ov.write(f"viking://resources/{name}", name, mode="create")
    ov.mkdir("viking://resources/zdir")
    assert [e["name"] for e in ov.ls("viking://resources")] == ["zdir", "a.md", "b.md", "c.md"]
    desc = ov.ls("viking://resources", sort_order="desc")
    assert [e["name"] for e in desc] == ["zdir", "c.md", "b.md", "a.md"]
    assert ov.ls("viking://resources", simple=True, node_limit=2) == [
        "viking://resources/zdir",
        "viking://resources/a.md",
    ]
    assert ov.ls("viking://resources", node_limit=0) == []  # as the original


def test_tree_has_rel_paths_and_respects_limits(ov: OpenViking) -> None:
    ov.write("viking://resources/t/a/deep/x.md", "x", mode="create")
    ov.write("viking://resources/t/b.md", "b", mode="create")
    ov.write("viking://resources/t/.secret", "s", mode="create")
    tree = ov.tree("viking://resources/t")
    assert [i["rel_path"] for i in tree] == ["a/", "a/deep/", "a/deep/x.md", "b.md"]
    assert tree[2]["uri"] == "viking://resources/t/a/deep/x.md"
    assert [i["rel_path"] for i in ov.tree("viking://resources/t", level_limit=1)] == ["a/", "b.md"]
    assert len(ov.tree("viking://resources/t", node_limit=2)) == 2
    assert ".secret" in [
        i["rel_path"] for i in ov.tree("viking://resources/t", show_all_hidden=True)
    ]
    assert ov.ls("viking://resources/t", recursive=True, simple=True)[0] == "viking://resources/t/a"


def test_stat(ov: OpenViking) -> None:
    ov.write("viking://resources/s.md", "12345", mode="create")
    # Background L0/L1 refresh briefly locks the parent folder; once it is done, nothing is held.
    ov.wait_processing()
    info = ov.stat("viking://resources/s.md")
    assert info["name"] == "s.md"
    assert info["size"] == 5
    assert info["isDir"] is False
    assert info["isLocked"] is False
    assert info["context_type"] == "resource"
    assert ov.stat("viking://~/memories")["context_type"] == "memory"


def test_mkdir_refuses_an_acl(ov: OpenViking) -> None:
    with pytest.raises(UnimplementedError) as info:
        ov.mkdir("viking://resources/locked", acl={"acl_mode": "restricted"})
    assert info.value.details == {"field": "acl"}
    with pytest.raises(NotFoundError):
        ov.stat("viking://resources/locked")
    assert ov.mkdir("viking://resources/open", acl=None) == {"uri": "viking://resources/open"}


def test_rm_rules(ov: OpenViking) -> None:
    ov.write("viking://resources/r/f.md", "x", mode="create")
    with pytest.raises(FailedPreconditionError) as info:
        ov.rm("viking://resources/r")
    assert info.value.details["expected_flag"] == "recursive"
    assert ov.read("viking://resources/r/f.md") == "x"
    ov.rm("viking://resources/r/f.md")
    with pytest.raises(FailedPreconditionError):  # any directory needs recursive
        ov.rm("viking://resources/r")
    ov.rm("viking://resources/r", recursive=True)
    ov.mkdir("viking://resources/s", "only sidecars inside")
    with pytest.raises(FailedPreconditionError):
        ov.rm("viking://resources/s")
    ov.write("viking://resources/t/u/v.md", "x", mode="create")
    assert ov.rm("viking://resources/t", recursive=True) == {
        "uri": "viking://resources/t",
        "isDir": True,
    }
    with pytest.raises(NotFoundError):
        ov.stat("viking://resources/t")
    gone = {"uri": "viking://resources/t", "isDir": False, "estimated_deleted_count": 0}
    assert ov.rm("viking://resources/t") == gone  # removed already: success, as the original


def test_mv_renames_files_and_directories(ov: OpenViking) -> None:
    ov.write("viking://resources/m/a.md", "A", mode="create")
    assert ov.mv("viking://resources/m/a.md", "viking://resources/m/b.md") == {
        "from": "viking://resources/m/a.md",
        "to": "viking://resources/m/b.md",
    }
    ov.mv("viking://resources/m", "viking://resources/new/place")
    assert ov.read("viking://resources/new/place/b.md") == "A"
    with pytest.raises(NotFoundError):
        ov.stat("viking://resources/m")


def test_mv_bad_input(ov: OpenViking) -> None:
    ov.write("viking://resources/a/x.md", "x", mode="create")
    ov.write("viking://resources/b.md", "b", mode="create")
    with pytest.raises(NotFoundError):
        ov.mv("viking://resources/nope", "viking://resources/other")
    with pytest.raises(AlreadyExistsError):
        ov.mv("viking://resources/a/x.md", "viking://resources/b.md")
    with pytest.raises(InvalidArgumentError, match="into itself"):
        ov.mv("viking://resources/a", "viking://resources/a/sub")
    with pytest.raises(InvalidArgumentError, match="names the file"):
        ov.mv("viking://resources/a/x.md", "viking://resources/c/")
    assert ov.read("viking://resources/a/x.md") == "x"
    assert ov.read("viking://resources/b.md") == "b"


def test_missing_paths_are_not_found(ov: OpenViking) -> None:
    for call in (
        lambda: ov.read("viking://resources/none.md"),
        lambda: ov.ls("viking://resources/none"),
        lambda: ov.tree("viking://resources/none"),
        lambda: ov.stat("viking://resources/none"),
        lambda: ov.abstract("viking://resources/none"),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_ls_of_a_file_and_read_of_a_directory(ov: OpenViking) -> None:
    ov.write("viking://resources/f.md", "x", mode="create")
    with pytest.raises(FailedPreconditionError, match="Not a directory"):
        ov.ls("viking://resources/f.md")
    with pytest.raises(InvalidArgumentError, match="directory"):
        ov.read("viking://resources")


def test_binary_files_are_not_read_as_text(ov: OpenViking, workspace: Path) -> None:
    target = workspace / "accounts" / "default" / "resources" / "img.bin"
    target.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(InvalidArgumentError, match="download"):
        ov.read("viking://resources/img.bin")
    assert ov.read_bytes("viking://resources/img.bin") == b"\xff\xfe\x00binary"


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("viking://nope/x", InvalidURIError),
        ("resources/x", InvalidURIError),
        ("viking://resources/../../etc/passwd", PermissionDeniedError),
        ("viking://resources/a\\b", PermissionDeniedError),
    ],
)
def test_bad_uris_on_every_entry_point(ov: OpenViking, uri: str, error: type[Exception]) -> None:
    calls = [
        lambda: ov.ls(uri),
        lambda: ov.tree(uri),
        lambda: ov.stat(uri),
        lambda: ov.mkdir(uri),
        lambda: ov.rm(uri),
        lambda: ov.read(uri),
        lambda: ov.abstract(uri),
        lambda: ov.overview(uri),
        lambda: ov.write(uri, "x", mode="create"),
        lambda: ov.mv(uri, "viking://resources/y"),
        lambda: ov.mv("viking://resources/y", uri),
    ]
    for call in calls:
        with pytest.raises(error):
            call()


def test_structural_and_managed_paths_are_protected(ov: OpenViking) -> None:
    for uri in (
        "viking://",
        "viking://resources",
        "viking://user",
        "viking://~",
        "viking://agent",
        "viking://agent/skills",
    ):
        with pytest.raises(PermissionDeniedError):
            ov.rm(uri, recursive=True)
    with pytest.raises(PermissionDeniedError):
        ov.write("viking://agent/notes.md", "x", mode="create")
    with pytest.raises(PermissionDeniedError):
        ov.write("viking://~/sessions/s1/messages.jsonl", "x", mode="create")
    with pytest.raises(PermissionDeniedError):
        ov.mkdir("viking://session/s2")
    with pytest.raises(PermissionDeniedError):
        ov.mv("viking://~/resources", "viking://~/skills/x")
    ov.write("viking://agent/skills/demo/SKILL.md", "# demo", mode="create")
    ov.write("viking://~/memories/profile.md", "likes tea", mode="create")
    assert ov.read("viking://user/default/memories/profile.md") == "likes tea"


def test_data_persists_across_clients(workspace: Path) -> None:
    with OpenViking(path=workspace) as first:
        first.write("viking://resources/keep.md", "kept", mode="create")
    with OpenViking(path=workspace) as second:
        assert second.read("viking://resources/keep.md") == "kept"


def test_methods_before_initialize_raise_not_initialized(workspace: Path) -> None:
    client = OpenViking(path=workspace)
    try:
        with pytest.raises(NotInitializedError):
            client.ls()
    finally:
        client.close()


def test_closed_client_refuses_calls(workspace: Path) -> None:
    client = OpenViking(path=workspace)
    client.initialize()
    client.close()
    with pytest.raises(NotInitializedError, match="closed"):
        client.ls()
    client.initialize()  # a closed client opens again
    assert client.ls("viking://resources") == []
    client.close()


# -- paged listings ----------------------------------------------------------------------


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("rel_path") or r.get("name")) for r in rows]


def test_ls_pages_with_offset_and_limit(ov: OpenViking) -> None:
    for name in ("a", "b", "c", "d", "e"):
        ov.write(f"viking://resources/pg/{name}.md", name, mode="create")
    base = "viking://resources/pg"
    assert _names(ov.ls(base, offset=1, limit=2)) == ["b.md", "c.md"]
    assert _names(ov.ls(base, node_limit=2, offset=3)) == ["d.md", "e.md"]
    assert _names(ov.ls(base, node_limit=1, limit=3)) == ["a.md", "b.md", "c.md"]  # limit wins
    assert ov.ls(base, offset=9) == []
    assert ov.ls(base, simple=True, offset=4) == [f"{base}/e.md"]
    with pytest.raises(InvalidArgumentError):
        ov.ls(base, offset=-1)
    with pytest.raises(InvalidArgumentError):
        ov.ls(base, limit=0)


def test_tree_pages_and_directories_only(ov: OpenViking) -> None:
    ov.write("viking://resources/tp/x/1.md", "1", mode="create")
    ov.write("viking://resources/tp/x/y/2.md", "2", mode="create")
    ov.write("viking://resources/tp/3.md", "3", mode="create")
    base = "viking://resources/tp"
    full = _names(ov.tree(base))
    assert full == ["x/", "x/y/", "x/y/2.md", "x/1.md", "3.md"]
    assert _names(ov.tree(base, offset=2, limit=2)) == full[2:4]
    assert _names(ov.tree(base, directories_only=True)) == ["x/", "x/y/"]
    recursive = ov.ls(base, recursive=True, simple=True, offset=4)
    assert recursive == [f"{base}/3.md"]


def test_listing_abstracts_overviews_and_extra_fields(ov: OpenViking) -> None:
    ov.mkdir("viking://resources/ex/d", description="The d folder.")
    ov.write("viking://resources/ex/f.md", "text", mode="create")
    base = "viking://resources/ex"
    ov.wait_processing()  # no refresh holds a lock on the entries any more
    plain = ov.ls(base)
    assert all("abstract" not in e and "overview" not in e and "isLocked" not in e for e in plain)
    rich = ov.ls(
        base,
        include_abstract=True,
        include_overview=True,
        overview_limit=5,
        extra_fields=["locked", "id", "count", "unknown"],
    )
    folder, doc = rich
    assert folder["abstract"] == "The d folder."
    assert len(folder["overview"]) == 5
    assert folder["overview"].endswith("...")
    assert (doc["abstract"], doc["overview"]) == ("", "")
    assert folder["isLocked"] is False
    assert doc["isLocked"] is False
    assert len(doc["id"]) == 40
    assert "id" not in folder
    assert "count" not in doc
    assert "unknown" not in folder
    agent = ov.ls(base, output="agent", include_abstract=False, extra_fields=["locked"])
    assert all("abstract" not in e and "isLocked" not in e for e in agent)
    simple = ov.ls(base, simple=True, extra_fields=["locked"])  # extra fields: entries, not URIs
    assert [e["uri"] for e in simple] == [f"{base}/d", f"{base}/f.md"]
    tree = ov.tree(base, include_overview=True, overview_limit=3)
    assert tree[0]["overview"] == "..."


# -- cp --------------------------------------------------------------------------------


def test_cp_copies_files_and_directories(ov: OpenViking) -> None:
    ov.write("viking://resources/src/a.md", "A", mode="create")
    ov.write("viking://resources/src/sub/b.md", "B", mode="create")
    result = ov.cp("viking://resources/src/a.md", "viking://resources/dst/a2.md")
    assert {k: result[k] for k in ("from", "to", "recursive", "files_created")} == {
        "from": "viking://resources/src/a.md",
        "to": "viking://resources/dst/a2.md",
        "recursive": False,
        "files_created": 1,
    }
    assert ov.read("viking://resources/dst/a2.md") == "A"
    copied = ov.cp("viking://resources/src", "viking://resources/copy", recursive=True)
    assert copied["recursive"] is True
    assert copied["files_created"] >= 2
    assert ov.read("viking://resources/copy/sub/b.md") == "B"
    assert ov.read("viking://resources/src/sub/b.md") == "B"  # the source stays


def test_cp_bad_input(ov: OpenViking) -> None:
    ov.write("viking://resources/c/x.md", "x", mode="create")
    ov.write("viking://resources/c/y.md", "y", mode="create")
    with pytest.raises(NotFoundError):
        ov.cp("viking://resources/nope.md", "viking://resources/other.md")
    with pytest.raises(AlreadyExistsError):
        ov.cp("viking://resources/c/x.md", "viking://resources/c/y.md")
    with pytest.raises(InvalidArgumentError, match="recursive"):
        ov.cp("viking://resources/c", "viking://resources/d")
    with pytest.raises(InvalidArgumentError, match="into itself"):
        ov.cp("viking://resources/c", "viking://resources/c/inner", recursive=True)
    with pytest.raises(InvalidArgumentError, match="into itself"):
        ov.cp("viking://resources/c/x.md", "viking://resources/c/x.md")
    with pytest.raises(InvalidArgumentError, match="names the file"):
        ov.cp("viking://resources/c/x.md", "viking://resources/e/")
    with pytest.raises(PermissionDeniedError):
        ov.cp("viking://resources/c/x.md", "viking://user/someone/resources/x.md")
    with pytest.raises(NotFoundError):
        ov.stat("viking://resources/d")
    assert ov.read("viking://resources/c/y.md") == "y"


@pytest.mark.anyio
async def test_cp_indexes_the_copy(hashing_service: ContextService) -> None:
    svc = hashing_service
    ctx = svc.dev_context()
    await svc.write(
        ctx, "viking://resources/kb/cp/a.md", "The codename is wombat.\n", mode="create"
    )
    await svc.mkdir(ctx, "viking://resources/kb/cp/d", "Described folder.")
    await svc.write(ctx, "viking://resources/kb/cp/d/b.md", "Nested note.\n", mode="create")
    await svc.wait_processing(ctx, timeout=60)
    result = await svc.cp(ctx, "viking://resources/kb/cp", "viking://resources/kb/twin", True)
    assert result["semantic_status"] == "queued"
    assert result["task_id"]
    await svc.wait_processing(ctx, timeout=60)
    found = await svc.find(ctx, "wombat", target_uri="viking://resources/kb/twin")
    assert [h["uri"] for h in found["resources"]][:1] == ["viking://resources/kb/twin/a.md"]
    assert (await svc.consistency(ctx, "viking://resources/kb"))["ok"]
    assert await svc.abstract(ctx, "viking://resources/kb/twin/d") == "Described folder."
    count = await svc.ls(ctx, "viking://resources/kb", extra_fields=["count"])
    counts = {e["name"]: e["count"] for e in count}
    assert counts["twin"] == counts["cp"] > 0
