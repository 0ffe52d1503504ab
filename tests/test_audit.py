"""The audit log on both backends: entries per surface, filters, paging, visibility,
retention, and no content or secret in the stored rows."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from mcp import Client

from openviking_mcp import ContextService
from openviking_mcp.bot.tools import ChatDeps, remember
from openviking_mcp.contract.errors import AlreadyExistsError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server import build_mcp_server

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

MARKER = "zebra-quartz-7781-marker"


async def _raw_audit_text(service: ContextService) -> bytes:
    """Everything the audit table holds, as bytes: the SQLite file itself, or every row of
    the table cast to text on PostgreSQL."""
    await service.store.audit.flush()
    if service.store.db.dialect == "sqlite":
        meta = service.config.workspace / "meta"
        return b"".join(p.read_bytes() for p in meta.iterdir() if p.is_file())
    rows = await service.store.db.fetchall("SELECT CAST(a AS TEXT) AS t FROM audit_log AS a")
    return "\n".join(str(r["t"]) for r in rows).encode()


async def _accounts(service: ContextService) -> tuple[RequestContext, RequestContext, str]:
    root = RequestContext.root()
    made = await service.create_account(root, "acme", "ann")
    ann = await service.auth.resolve_api_key(made["user_key"])
    ben_key = (await service.create_user(ann, "acme", "ben"))["user_key"]
    ben = await service.auth.resolve_api_key(ben_key)
    return ann, ben, ben_key


async def test_writes_are_recorded_without_content_or_keys(service: ContextService) -> None:
    ann, ben, ben_key = await _accounts(service)
    await service.write(ben, "viking://resources/notes/a.md", f"secret {MARKER}", mode="create")
    await service.edit(ben, "viking://resources/notes/a.md", MARKER, "changed")
    await service.mv(ben, "viking://resources/notes/a.md", "viking://resources/notes/b.md")
    with pytest.raises(AlreadyExistsError):
        await service.write(ben, "viking://resources/notes/b.md", "x", mode="create")
    await service.rm(ann, "viking://resources/notes", recursive=True)
    page = await service.audit_logs(ann, operation=None, limit=100)
    ops = [(e["user_id"], e["operation"], e["outcome"]) for e in page["entries"]]
    assert ("ben", "write", "ok") in ops
    assert ("ben", "write", "ALREADY_EXISTS") in ops
    assert ("ben", "edit", "ok") in ops
    assert ("ann", "rm", "ok") in ops
    assert ("ann", "create_user", "ok") in ops
    moved = next(e for e in page["entries"] if e["operation"] == "mv")
    assert "viking://resources/notes/b.md" in moved["uris"]
    assert moved["surface"] == "python"
    assert moved["kind"] == "mutation"
    assert all(e["request_id"] for e in page["entries"])
    raw = await _raw_audit_text(service)
    assert b"viking://resources/notes/b.md" in raw  # the table was read
    assert MARKER.encode() not in raw
    secret = ben_key.split(".")[-1]
    assert secret.encode() not in raw
    assert ben_key.encode() not in raw
    assert MARKER not in str(await service.audit_logs(ann, limit=1000))


async def test_reads_are_not_recorded_and_filters_and_paging(service: ContextService) -> None:
    ctx = service.dev_context()
    for i in range(5):
        await service.write(ctx, f"viking://resources/p/{i}.md", "x", mode="create")
    await service.read(ctx, "viking://resources/p/0.md")
    await service.ls(ctx, "viking://resources/p")
    everything = (await service.audit_logs(ctx, limit=1000))["entries"]
    assert {e["operation"] for e in everything} == {"write"}
    seen: list[int] = []
    cursor = None
    while True:
        page = await service.audit_logs(ctx, limit=2, cursor=cursor, operation="write")
        seen.extend(e["seq"] for e in page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)
    one = await service.audit_logs(ctx, uri_prefix="viking://resources/p/3")
    assert [e["uris"] for e in one["entries"]] == [["viking://resources/p/3.md"]]
    assert (await service.audit_logs(ctx, outcome="error"))["entries"] == []
    future = await service.audit_logs(ctx, since="2999-01-01T00:00:00Z")
    assert future["entries"] == []
    past = await service.audit_logs(ctx, until="2000-01-01T00:00:00Z")
    assert past["entries"] == []


async def test_a_user_sees_only_their_own_entries(service: ContextService) -> None:
    ann, ben, _ = await _accounts(service)
    await service.write(ann, "viking://resources/ann.md", "a", mode="create")
    await service.write(ben, "viking://resources/ben.md", "b", mode="create")
    mine = (await service.audit_logs(ben, limit=1000))["entries"]
    assert mine
    assert {e["user_id"] for e in mine} == {"ben"}
    with pytest.raises(PermissionDeniedError):
        await service.audit_logs(ben, user="ann")
    with pytest.raises(PermissionDeniedError):
        await service.audit_logs(ann, account_id="default")
    admins = (await service.audit_logs(ann, limit=1000))["entries"]
    assert {"ann", "ben"} <= {e["user_id"] for e in admins}
    root = (await service.audit_logs(RequestContext.root(), account_id="acme"))["entries"]
    assert len(root) == len(admins)


async def test_root_in_a_user_space_is_recorded(service: ContextService) -> None:
    ann, ben, _ = await _accounts(service)
    await service.write(ben, "viking://user/ben/memories/x.md", "private", mode="create")
    root = RequestContext.root("acme")
    await service.read(root, "viking://user/ben/memories/x.md")
    with pytest.raises(PermissionDeniedError):
        await service.read(ann, "viking://user/ben/memories/x.md")
    entries = (await service.audit_logs(ann, limit=1000))["entries"]
    access = [(e["role"], e["operation"], e["outcome"]) for e in entries if e["kind"] == "access"]
    assert ("root", "read", "ok") in access
    assert ("admin", "read", "PERMISSION_DENIED") in access


async def test_mcp_and_bot_tools_are_recorded(service: ContextService) -> None:
    ctx = service.dev_context()
    async with Client(build_mcp_server(service, caller=ctx)) as mcp:
        await mcp.call_tool("write", {"uri": "viking://resources/m.md", "content": "m"})
    deps = ChatDeps(service=service, ctx=ctx, session_id="s")
    said = await remember(SimpleNamespace(deps=deps), ["I prefer tabs"])  # type: ignore[arg-type]
    assert said.startswith("Stored")
    entries = (await service.audit_logs(ctx, limit=1000))["entries"]
    by_op = {e["operation"]: e["surface"] for e in entries}
    assert by_op["write"] == "mcp"
    assert by_op["remember"] == "bot"


async def test_retention_prunes_old_entries(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.write(ctx, "viking://resources/r.md", "r", mode="create")
    await service.store.audit.flush()
    assert await service.store.audit.prune() == 0
    later = time.time() + 91 * 86400
    assert await service.store.audit.prune(now=later) >= 1
    assert (await service.audit_logs(ctx))["entries"] == []


def test_the_cli_records_its_local_commands(workspace: Path) -> None:
    from typer.testing import CliRunner

    from openviking_mcp.cli import app

    runner = CliRunner()
    args = ["--path", str(workspace)]
    done = runner.invoke(app, [*args, "write", "viking://resources/c.md", "c", "--mode", "create"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, [*args, "-o", "json", "audit", "logs", "--operation", "write"])
    assert listed.exit_code == 0, listed.output
    assert '"surface": "cli"' in listed.stdout
    exported = runner.invoke(app, [*args, "audit", "export"])
    assert exported.exit_code == 0
    assert exported.stdout.splitlines()[0].startswith("seq,time,account_id")
    assert "viking://resources/c.md" in exported.stdout
