"""Explicit ``k=v`` retrieval tags (``set_tags``, ``attrs``, reindex with tags) and batch writes,
through the service: stored per path, on the index rows at once, kept by reindexing, edits and
moves, dropped on removal; batch writes checked before anything is written."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from openviking_mcp.contract.fs import LsRequest, TreeRequest
from openviking_mcp.contract.uri import parse_uri
from openviking_mcp.memory.memory_file import render_memory
from openviking_mcp.storage.index import IndexFilter
from tests.conftest import hashing_config

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

DOC = "viking://resources/tagged/a.md"


@pytest.fixture
def config(workspace: Path, storage_section: dict[str, Any]) -> OpenVikingConfig:
    return hashing_config(workspace, storage_section)


async def _row_tags(service: ContextService, ctx: RequestContext, uri: str) -> list[list[str]]:
    """The tags of every index row of exactly ``uri``."""
    flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(uri,))
    rows, _ = await service.store.index.scroll(flt, 100, None)
    return [list(r.tags) for r in rows if r.uri == uri]


async def _found(service: ContextService, ctx: RequestContext, tags: list[str]) -> set[str]:
    """The files found with ``tags`` (a tagged folder holding one of them may be found too:
    it shares its only file's vector)."""
    found = await service.find(ctx, "zebra notes", target_uri="viking://resources", tags=tags)
    return {hit["uri"] for hit in found["resources"] if hit["level"] == 2}


async def _write(service: ContextService, ctx: RequestContext, uri: str, text: str) -> None:
    await service.write(ctx, uri, text, mode="create", wait=True)


async def test_set_tags_normalizes_stores_and_tags_the_rows(
    service: ContextService, ctx: RequestContext
) -> None:
    await _write(service, ctx, DOC, "zebra notes about the core team")
    result = await service.set_tags(ctx, DOC, [" Team=Core ", "status=draft", "team=infra"])
    assert result == {
        "uri": DOC,
        "updated_uris": [DOC],
        "root_uri": "viking://resources/tagged",
        "context_type": "resource",
        "tags": ["team=infra", "status=draft"],
        "mode": "replace",
        "success_count": 1,
        "skipped_count": 0,
        "failed_count": 0,
        "tags_updated": True,
    }
    attrs = await service.attrs(ctx, DOC)
    assert attrs == {
        "uri": DOC,
        "context_type": "resource",
        "attrs": {"tags": ["team=infra", "status=draft"]},
    }
    rows = await _row_tags(service, ctx, DOC)
    assert rows
    assert all(tags == ["team=infra", "status=draft"] for tags in rows)
    assert DOC in await _found(service, ctx, ["team=infra"])
    assert DOC not in await _found(service, ctx, ["team=core"])


async def test_modes_append_clear_and_empty_replace(
    service: ContextService, ctx: RequestContext
) -> None:
    await _write(service, ctx, DOC, "zebra notes")
    await service.set_tags(ctx, DOC, ["a=1", "b=2"])
    await service.set_tags(ctx, DOC, ["b=3", "c=4"], "append")
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == ["a=1", "b=3", "c=4"]
    skipped = await service.set_tags(ctx, DOC, [])
    assert (skipped["skipped_count"], skipped["tags_updated"]) == (1, False)
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == ["a=1", "b=3", "c=4"]
    cleared = await service.set_tags(ctx, DOC, ["ignored=1"], "clear")
    assert (cleared["tags"], cleared["tags_updated"]) == ([], True)
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == []
    rows = await _row_tags(service, ctx, DOC)
    assert rows
    assert all(t == [] for t in rows)


@pytest.mark.parametrize("bad", ["novalue", "a=b=c", "=v", "k=", "  "])
async def test_malformed_tags_are_refused(
    service: ContextService, ctx: RequestContext, bad: str
) -> None:
    await _write(service, ctx, DOC, "zebra notes")
    with pytest.raises(InvalidArgumentError):
        await service.set_tags(ctx, DOC, ["ok=1", bad])
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == []


async def test_missing_path_is_not_found(service: ContextService, ctx: RequestContext) -> None:
    with pytest.raises(NotFoundError):
        await service.set_tags(ctx, "viking://resources/nope.md", ["a=1"])
    with pytest.raises(NotFoundError):
        await service.attrs(ctx, "viking://resources/nope.md")


async def test_recursive_tags_every_path_below(
    service: ContextService, ctx: RequestContext
) -> None:
    await _write(service, ctx, "viking://resources/proj/a.md", "zebra notes one")
    await _write(service, ctx, "viking://resources/proj/sub/b.md", "zebra notes two")
    await service.set_tags(ctx, "viking://resources/proj/a.md", ["keep=1"])
    flat = await service.set_tags(ctx, "viking://resources/proj", ["team=core"], "append")
    assert flat["updated_uris"] == ["viking://resources/proj"]
    assert (await service.attrs(ctx, "viking://resources/proj/a.md"))["attrs"]["tags"] == ["keep=1"]
    deep = await service.set_tags(ctx, "viking://resources/proj", ["team=core"], "append", True)
    assert set(deep["updated_uris"]) == {
        "viking://resources/proj",
        "viking://resources/proj/a.md",
        "viking://resources/proj/sub",
        "viking://resources/proj/sub/b.md",
    }
    assert (await service.attrs(ctx, "viking://resources/proj/a.md"))["attrs"]["tags"] == [
        "keep=1",
        "team=core",
    ]
    assert await _found(service, ctx, ["team=core"]) >= {
        "viking://resources/proj/a.md",
        "viking://resources/proj/sub/b.md",
    }
    assert all(t == ["team=core"] for t in await _row_tags(service, ctx, "viking://resources/proj"))


async def test_tags_survive_edits_and_reindex(service: ContextService, ctx: RequestContext) -> None:
    await _write(service, ctx, DOC, "zebra notes")
    await service.set_tags(ctx, DOC, ["team=core"])
    await service.write(ctx, DOC, "zebra notes, second edition", wait=True)
    assert DOC in await _found(service, ctx, ["team=core"])
    await service.reindex(ctx, "viking://resources/tagged", wait=True)
    assert DOC in await _found(service, ctx, ["team=core"])
    assert all(t == ["team=core"] for t in await _row_tags(service, ctx, DOC))


async def test_reindex_with_tags_sets_them(service: ContextService, ctx: RequestContext) -> None:
    await _write(service, ctx, DOC, "zebra notes")
    await service.reindex(
        ctx, "viking://resources/tagged", wait=True, tags=["Source=Import"], tag_mode="append"
    )
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == ["source=import"]
    assert DOC in await _found(service, ctx, ["source=import"])
    await service.reindex(ctx, "viking://resources/tagged", wait=True, tag_mode="clear")
    assert (await service.attrs(ctx, DOC))["attrs"]["tags"] == []


async def test_tags_follow_moves_and_removals(service: ContextService, ctx: RequestContext) -> None:
    await _write(service, ctx, "viking://resources/old/a.md", "zebra notes")
    await service.set_tags(ctx, "viking://resources/old", ["team=core"], recursive=True)
    await service.mv(ctx, "viking://resources/old", "viking://resources/new")
    await service.wait_processing(ctx, 60)
    assert (await service.attrs(ctx, "viking://resources/new/a.md"))["attrs"]["tags"] == [
        "team=core"
    ]
    assert await _found(service, ctx, ["team=core"]) == {"viking://resources/new/a.md"}
    await service.rm(ctx, "viking://resources/new", recursive=True)
    assert await service.store.tags.under(ctx.account_id, "viking://resources/new") == {}
    await _write(service, ctx, "viking://resources/new/a.md", "zebra notes again")
    assert (await service.attrs(ctx, "viking://resources/new/a.md"))["attrs"]["tags"] == []


async def test_tags_follow_copies(service: ContextService, ctx: RequestContext) -> None:
    await _write(service, ctx, "viking://resources/src/a.md", "zebra notes")
    await service.set_tags(ctx, "viking://resources/src", ["team=core"], recursive=True)
    await service.cp(ctx, "viking://resources/src", "viking://resources/dup", recursive=True)
    await service.wait_processing(ctx, 60)
    assert (await service.attrs(ctx, "viking://resources/dup/a.md"))["attrs"]["tags"] == [
        "team=core"
    ]
    assert await _found(service, ctx, ["team=core"]) == {
        "viking://resources/src/a.md",
        "viking://resources/dup/a.md",
    }
    assert (await service.attrs(ctx, "viking://resources/src/a.md"))["attrs"]["tags"] == [
        "team=core"
    ]


async def test_tagging_needs_write_access_and_the_owner_rule(
    service: ContextService, ctx: RequestContext
) -> None:
    await _write(service, ctx, DOC, "zebra notes")
    bob = await service.local_context(ctx.account_id, "bob")
    with pytest.raises(PermissionDeniedError):
        await service.set_tags(bob, DOC, ["team=bob"])
    with pytest.raises(PermissionDeniedError):
        await service.set_tags(bob, f"viking://user/{ctx.user_id}", ["team=bob"])
    assert (await service.attrs(bob, DOC))["attrs"]["tags"] == []
    own = "viking://resources/bobs/b.md"
    await _write(service, bob, own, "bob's zebra notes")
    assert (await service.set_tags(bob, own, ["team=bob"]))["tags_updated"] is True


async def test_attrs_of_a_memory_file_show_its_fields(
    service: ContextService, ctx: RequestContext
) -> None:
    uri = f"viking://user/{ctx.user_id}/memories/preferences/tabs.md"
    fields = {"memory_type": "preferences", "version": 3, "tags": ["style"], "user_id": "x"}
    await service.write(ctx, uri, render_memory("Prefers tabs.", fields), mode="create")
    attrs = (await service.attrs(ctx, uri))["attrs"]
    assert attrs["memory"] == {"memory_type": "preferences", "version": 3, "tags": ["style"]}
    assert (await service.attrs(ctx, parse_uri(uri).parent.uri))["attrs"] == {"tags": []}


# -- batch writes ------------------------------------------------------------------------------


def _op(uri: str, **fields: Any) -> dict[str, Any]:
    return {"uri": uri, **fields}


async def test_batch_write_writes_then_refreshes_once(
    service: ContextService, ctx: RequestContext
) -> None:
    root = "viking://resources/batch"
    await _write(service, ctx, f"{root}/old.md", "old text")
    result = await service.batch_write(
        ctx,
        root,
        [
            _op(f"{root}/old.md", content="zebra notes replaced"),
            _op(f"{root}/deep/new.md", content="zebra notes new", mode="create"),
            _op(f"{root}/bin.dat", content_base64=base64.b64encode(b"\x00\x01").decode()),
            _op(f"{root}/log.md", content="zebra notes log\n", mode="append", tags=["kind=log"]),
        ],
    )
    assert result["root_uri"] == root
    assert set(result["created"]) == {f"{root}/deep/new.md", f"{root}/bin.dat", f"{root}/log.md"}
    assert result["updated"] == [f"{root}/old.md"]
    assert result["unchanged"] == []
    assert (result["semantic_status"], result["vector_status"]) == ("complete", "complete")
    assert await service.read(ctx, f"{root}/old.md") == "zebra notes replaced"
    assert await service.read_bytes(ctx, f"{root}/bin.dat") == b"\x00\x01"
    assert await _found(service, ctx, []) >= {f"{root}/old.md", f"{root}/deep/new.md"}
    assert await _found(service, ctx, ["kind=log"]) == {f"{root}/log.md"}
    tasks = await service.list_tasks(ctx, resource_id=root)
    assert len([t for t in tasks if t["task_type"] == "refresh"]) == 1
    again = await service.batch_write(
        ctx, root, [_op(f"{root}/old.md", content="zebra notes replaced")]
    )
    assert (again["unchanged"], again["semantic_status"]) == ([f"{root}/old.md"], "skipped")


@pytest.mark.parametrize(
    ("op", "error", "needle"),
    [
        (_op("viking://resources/elsewhere/x.md", content="x"), InvalidArgumentError, "below"),
        (_op("viking://resources/batch/x.md"), InvalidArgumentError, "exactly one"),
        (
            _op("viking://resources/batch/x.md", content="x", content_base64="eA=="),
            InvalidArgumentError,
            "exactly one",
        ),
        (_op("viking://resources/batch/x.md", content_base64="!!"), InvalidArgumentError, "base64"),
        (_op("viking://resources/batch/sub", content="x"), InvalidArgumentError, "directory"),
        (_op("viking://resources/batch/x.md", content="x", tags=["bad"]), InvalidArgumentError, ""),
        (
            _op("viking://resources/batch/keep.md", content="x", expected_sha256="0" * 64),
            ConflictError,
            "revision",
        ),
        (
            _op("viking://resources/batch/big.md", content="x" * (8 * 1024 * 1024 + 1)),
            PayloadTooLargeError,
            "larger",
        ),
    ],
)
async def test_a_bad_operation_writes_nothing(
    service: ContextService,
    ctx: RequestContext,
    op: dict[str, Any],
    error: type[Exception],
    needle: str,
) -> None:
    root = "viking://resources/batch"
    await _write(service, ctx, f"{root}/keep.md", "kept")
    await _write(service, ctx, f"{root}/sub/inner.md", "inner")
    first = _op(f"{root}/first.md", content="written first?")
    with pytest.raises(error) as raised:
        await service.batch_write(ctx, root, [first, op])
    assert "operations[1]" in str(raised.value)
    assert needle in str(raised.value)
    with pytest.raises(NotFoundError):
        await service.read(ctx, f"{root}/first.md")
    assert await service.read(ctx, f"{root}/keep.md") == "kept"


async def test_batch_limits_and_expected_digest(
    service: ContextService, ctx: RequestContext
) -> None:
    root = "viking://resources/batch"
    with pytest.raises(InvalidArgumentError):
        await service.batch_write(ctx, root, [])
    too_many = [_op(f"{root}/f{i}.md", content="x") for i in range(257)]
    with pytest.raises(InvalidArgumentError):
        await service.batch_write(ctx, root, too_many)
    dup = [_op(f"{root}/a.md", content="1"), _op(f"{root}/a.md", content="2")]
    with pytest.raises(InvalidArgumentError, match="duplicate"):
        await service.batch_write(ctx, root, dup)
    big = "y" * (6 * 1024 * 1024)
    total = [_op(f"{root}/{n}.md", content=big) for n in ("a", "b", "c")]
    with pytest.raises(PayloadTooLargeError, match="operations\\[2\\]"):
        await service.batch_write(ctx, root, total)
    await _write(service, ctx, f"{root}/a.md", "v1")
    digest = hashlib.sha256(b"v1").hexdigest()
    ok = await service.batch_write(
        ctx, root, [_op(f"{root}/a.md", content="v2", expected_sha256=digest)], wait=False
    )
    assert (ok["updated"], ok["semantic_status"]) == ([f"{root}/a.md"], "queued")
    assert await service.read(ctx, f"{root}/a.md") == "v2"


async def test_grep_and_glob_filter_and_show_tags(
    service: ContextService, ctx: RequestContext
) -> None:
    await _write(service, ctx, "viking://resources/g/a.md", "zebra one")
    await _write(service, ctx, "viking://resources/g/b.md", "zebra two")
    await service.set_tags(ctx, "viking://resources/g/a.md", ["team=core"])
    plain = await service.grep(ctx, "viking://resources/g", "zebra")
    assert {m["uri"] for m in plain["matches"]} == {
        "viking://resources/g/a.md",
        "viking://resources/g/b.md",
    }
    assert all("tags" not in m for m in plain["matches"])
    only = await service.grep(ctx, "viking://resources/g", "zebra", tags=["Team=Core"])
    assert [(m["uri"], m["tags"]) for m in only["matches"]] == [
        ("viking://resources/g/a.md", ["team=core"])
    ]
    shown = await service.grep(ctx, "viking://resources/g", "zebra", include_tags=True)
    assert sorted((m["uri"], m["tags"]) for m in shown["matches"]) == [
        ("viking://resources/g/a.md", ["team=core"]),
        ("viking://resources/g/b.md", []),
    ]
    assert (await service.glob(ctx, "*.md", uri="viking://resources/g"))["matches"] == [
        "viking://resources/g/a.md",
        "viking://resources/g/b.md",
    ]
    tagged = await service.glob(ctx, "*.md", uri="viking://resources/g", tags=["team=core"])
    assert tagged == {
        "matches": [{"uri": "viking://resources/g/a.md", "tags": ["team=core"]}],
        "count": 1,
    }
    listed = await service.glob(ctx, "*.md", uri="viking://resources/g", include_tags=True)
    assert [m["tags"] for m in listed["matches"]] == [["team=core"], []]


async def test_ls_and_tree_filter_and_show_tags(
    service: ContextService, ctx: RequestContext
) -> None:
    for name in ("a", "b", "c"):
        await _write(service, ctx, f"viking://resources/t/{name}.md", f"zebra {name}")
    await _write(service, ctx, "viking://resources/t/sub/d.md", "zebra d")
    for uri in (
        "viking://resources/t/a.md",
        "viking://resources/t/c.md",
        "viking://resources/t/sub/d.md",
    ):
        await service.set_tags(ctx, uri, ["team=core"])
    await service.set_tags(ctx, "viking://resources/t/b.md", ["team=infra"])
    base = "viking://resources/t"
    listed = await service.ls(ctx, base, tags=["Team=Core"], simple=True)
    assert listed == ["viking://resources/t/a.md", "viking://resources/t/c.md"]
    first = await service.fs.ls_page(
        ctx, LsRequest(uri=base, tags=["team=core"], node_limit=1, simple=True)
    )
    assert (first.result, first.has_more) == (["viking://resources/t/a.md"], True)
    shown = await service.ls(ctx, base, include_tags=True)
    assert {e["uri"]: e["tags"] for e in shown} == {
        "viking://resources/t/sub": [],
        "viking://resources/t/a.md": ["team=core"],
        "viking://resources/t/b.md": ["team=infra"],
        "viking://resources/t/c.md": ["team=core"],
    }
    assert all("tags" not in e for e in await service.ls(ctx, base))
    original = await service.ls(ctx, base, output="original", extra_fields=["tags"])
    assert {e["name"]: e["tags"] for e in original}["b.md"] == ["team=infra"]
    tree = await service.tree(ctx, base, tags=["team=core"], node_limit=2)
    assert [e["rel_path"] for e in tree] == ["sub/d.md", "a.md"]  # depth-first
    deep = await service.fs.tree_page(ctx, TreeRequest(uri=base, tags=["team=core"], offset=2))
    assert [getattr(e, "rel_path", None) for e in deep.result] == ["c.md"]
    assert deep.has_more is False
