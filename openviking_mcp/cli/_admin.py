"""`admin` commands: accounts, users, keys and user groups (ROOT on the local store)."""

from __future__ import annotations

from typing import Annotated

import typer

from openviking_mcp.cli._core import admin_app, emit, run

# -- admin -------------------------------------------------------------------------------


@admin_app.command("create-account")
def create_account(
    account_id: str,
    admin_user: Annotated[
        str, typer.Option("--admin", help="User id of the account's first admin.")
    ],
) -> None:
    """Create an account and its first ADMIN; prints that user's key once."""
    emit(run(lambda s, c: s.create_account(c, account_id, admin_user), as_root=True))


@admin_app.command("list-accounts")
def list_accounts() -> None:
    """List accounts."""
    emit(run(lambda s, c: s.list_accounts(c), as_root=True))


@admin_app.command("delete-account")
def delete_account(account_id: str) -> None:
    """Delete an account with all its users and data."""
    emit(run(lambda s, c: s.delete_account(c, account_id), as_root=True))


@admin_app.command("create-user")
def create_user(
    account_id: str,
    user_id: str,
    role: Annotated[str, typer.Option(help="user or admin.")] = "user",
) -> None:
    """Register a user; prints the user's key once."""
    emit(run(lambda s, c: s.create_user(c, account_id, user_id, role), as_root=True))


@admin_app.command("list-users")
def list_users(account_id: str) -> None:
    """List the users of an account."""
    emit(run(lambda s, c: s.list_users(c, account_id), as_root=True))


@admin_app.command("delete-user")
def delete_user(account_id: str, user_id: str) -> None:
    """Remove a user and their private space."""
    emit(run(lambda s, c: s.delete_user(c, account_id, user_id), as_root=True))


@admin_app.command("set-role")
def set_role(account_id: str, user_id: str, role: str) -> None:
    """Change a user's role (user or admin)."""
    emit(run(lambda s, c: s.set_user_role(c, account_id, user_id, role), as_root=True))


@admin_app.command("regenerate-key")
def regenerate_key(account_id: str, user_id: str) -> None:
    """Issue a new key for a user; the old key stops working."""
    emit(run(lambda s, c: s.regenerate_user_key(c, account_id, user_id), as_root=True))


@admin_app.command("get-user")
def get_user(account_id: str, user_id: str) -> None:
    """A user's id and role (no key)."""
    emit(run(lambda s, c: s.get_user(c, account_id, user_id), as_root=True))


# -- named keys (scopes, URI prefix, expiry) ---------------------------------------------


@admin_app.command("create-key")
def create_key(
    account_id: str,
    user_id: str,
    name: str,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, write or admin; repeat for several (default read)."),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Only this viking:// subtree is visible.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="When it stops working (ISO 8601).")
    ] = None,
) -> None:
    """Create a named key for a user; prints the key once."""
    options: dict[str, object] = {"scopes": scope or ["read"], "uri_prefix": prefix}
    if expires:
        options["expires_at"] = expires
    emit(
        run(
            lambda s, c: s.create_api_key(c, account_id, user_id, name, options=options),
            as_root=True,
        )
    )


@admin_app.command("list-keys")
def list_keys(account_id: str, user_id: str) -> None:
    """A user's named keys (never their secrets)."""
    emit(run(lambda s, c: s.list_api_keys(c, account_id, user_id), as_root=True))


@admin_app.command("revoke-key")
def revoke_key(account_id: str, user_id: str, key_id: str) -> None:
    """Revoke a named key; it stops working at once."""
    emit(run(lambda s, c: s.revoke_api_key(c, account_id, user_id, key_id), as_root=True))


# -- user groups (kept and listed; they grant no access) ----------------------------------


@admin_app.command("create-group")
def create_group(account_id: str, group_id: str) -> None:
    """Create an empty user group in an account."""
    emit(run(lambda s, c: s.create_group(c, account_id, group_id), as_root=True))


@admin_app.command("list-groups")
def list_groups(account_id: str) -> None:
    """List an account's user groups with their member counts."""
    emit(run(lambda s, c: s.list_groups(c, account_id), as_root=True))


@admin_app.command("delete-group")
def delete_group(account_id: str, group_id: str) -> None:
    """Delete a user group (its users stay)."""
    emit(run(lambda s, c: s.delete_group(c, account_id, group_id), as_root=True))


@admin_app.command("group-members")
def group_members(account_id: str, group_id: str) -> None:
    """List the users in a group."""
    emit(run(lambda s, c: s.list_group_members(c, account_id, group_id), as_root=True))


@admin_app.command("add-member")
def add_member(account_id: str, group_id: str, user_id: str) -> None:
    """Put a user of the account into a group."""
    emit(run(lambda s, c: s.add_group_member(c, account_id, group_id, user_id), as_root=True))


@admin_app.command("remove-member")
def remove_member(account_id: str, group_id: str, user_id: str) -> None:
    """Take a user out of a group."""
    emit(run(lambda s, c: s.remove_group_member(c, account_id, group_id, user_id), as_root=True))
