"""User groups and the credential-free user read: the admin service and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openviking_mcp import ContextService
from openviking_mcp.cli import app
from openviking_mcp.contract.admin import (
    AccountRequest,
    CreateAccountRequest,
    CreateUserRequest,
    GroupMemberRequest,
    GroupRequest,
    UserRequest,
)
from openviking_mcp.contract.base import to_wire
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext


@pytest.mark.anyio
async def test_groups_round_trip(service: ContextService) -> None:
    root = RequestContext.root("default")
    admin = service.admin
    key = (
        await admin.create_account(
            root, CreateAccountRequest(account_id="acme", admin_user_id="ann")
        )
    ).user_key
    ann = await service.auth.resolve_api_key(key)
    await admin.create_user(ann, CreateUserRequest(account_id="acme", user_id="ben"))
    eng = GroupRequest(account_id="acme", group_id="eng")
    assert to_wire(await admin.create_group(ann, eng)) == {"group_id": "eng", "member_count": 0}
    with pytest.raises(AlreadyExistsError):
        await admin.create_group(ann, eng)
    with pytest.raises(InvalidArgumentError):
        await admin.create_group(ann, GroupRequest(account_id="acme", group_id=".."))
    ben_in_eng = GroupMemberRequest(account_id="acme", group_id="eng", user_id="ben")
    assert (await admin.add_group_member(ann, ben_in_eng)).added is True
    members = await admin.list_group_members(ann, eng)
    assert to_wire(members) == {"group_id": "eng", "members": ["ben"]}
    listed = await admin.list_groups(ann, AccountRequest(account_id="acme"))
    assert [to_wire(g) for g in listed] == [{"group_id": "eng", "member_count": 1}]
    user = await admin.get_user(ann, UserRequest(account_id="acme", user_id="ben"))
    assert to_wire(user) == {"user_id": "ben", "role": "user"}

    ben = await service.auth.local_context("acme", "ben")
    with pytest.raises(PermissionDeniedError):
        await admin.list_groups(ben, AccountRequest(account_id="acme"))
    with pytest.raises(NotFoundError):
        await admin.get_user(ann, UserRequest(account_id="acme", user_id="nobody"))
    assert (await admin.remove_group_member(ann, ben_in_eng)).removed is True
    assert (await admin.remove_group_member(ann, ben_in_eng)).removed is False
    assert (await admin.delete_group(ann, eng)).deleted is True
    with pytest.raises(NotFoundError):
        await admin.list_group_members(ann, eng)


def test_group_commands(workspace: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--path", str(workspace), "-o", "json", "admin", *args])
        return result.exit_code, result.stdout

    assert run("create-account", "acme", "--admin", "ann")[0] == 0
    assert run("create-user", "acme", "ben")[0] == 0
    code, out = run("create-group", "acme", "eng")
    assert (code, json.loads(out)) == (0, {"group_id": "eng", "member_count": 0})
    assert json.loads(run("add-member", "acme", "eng", "ben")[1]) == {"added": True}
    assert json.loads(run("group-members", "acme", "eng")[1])["members"] == ["ben"]
    assert json.loads(run("list-groups", "acme")[1]) == [{"group_id": "eng", "member_count": 1}]
    assert json.loads(run("get-user", "acme", "ben")[1]) == {"user_id": "ben", "role": "user"}
    assert json.loads(run("remove-member", "acme", "eng", "ben")[1]) == {"removed": True}
    assert json.loads(run("delete-group", "acme", "eng")[1]) == {"deleted": True}
    assert run("delete-group", "acme", "eng")[0] != 0
