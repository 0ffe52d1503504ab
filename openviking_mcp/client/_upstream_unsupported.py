"""openviking-sdk calls of features this server does not have.

Each method has the SDK's name and parameters (names, order, defaults), so code written for the
SDK finds it, and raises :class:`~openviking_mcp.contract.errors.UnimplementedError` naming the
missing feature (as the server answers a route it does not serve) instead of failing with
``AttributeError``. docs/compatibility.md lists them.
"""

from __future__ import annotations

from typing import Any, NoReturn

from openviking_mcp.client._sync import forwarded
from openviking_mcp.contract.errors import UnimplementedError

__all__ = ["UNSUPPORTED", "AsyncUnsupported", "SyncUnsupported"]


def _refuse(name: str, feature: str) -> NoReturn:
    raise UnimplementedError(
        f"{name} is not supported by this server ({feature})",
        {"method": name, "feature": feature},
    )


class AsyncUnsupported:
    """The SDK's calls of missing features, on the async client."""

    async def acl_delete(self, uri: Any) -> Any:
        """Not supported: access control lists."""
        _refuse("acl_delete", "access control lists")

    async def acl_get(self, uri: Any) -> Any:
        """Not supported: access control lists."""
        _refuse("acl_get", "access control lists")

    async def acl_grant(self, uri: Any, principal: Any, level: Any) -> Any:
        """Not supported: access control lists."""
        _refuse("acl_grant", "access control lists")

    async def acl_revoke(self, uri: Any, principal: Any) -> Any:
        """Not supported: access control lists."""
        _refuse("acl_revoke", "access control lists")

    async def acl_set(self, uri: Any, entries: Any = None, *, acl_mode: Any = None) -> Any:
        """Not supported: access control lists."""
        _refuse("acl_set", "access control lists")

    async def admin_get_account_settings(self, account_id: Any) -> Any:
        """Not supported: per-account settings."""
        _refuse("admin_get_account_settings", "per-account settings")

    async def admin_get_agent_evolution(self) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_get_agent_evolution", "Agent Evolution")

    async def admin_migrate(self, cleanup: Any = False) -> Any:
        """Not supported: storage migration."""
        _refuse("admin_migrate", "storage migration")

    async def admin_set_account_agent_evolution(self, account_id: Any, enabled: Any) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_set_account_agent_evolution", "Agent Evolution")

    async def admin_set_agent_evolution(self, enabled: Any) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_set_agent_evolution", "Agent Evolution")

    async def compile(self, from_uris: Any, to: Any, skill: Any, options: Any = None) -> Any:
        """Not supported: skill compilation."""
        _refuse("compile", "skill compilation")

    async def delete_watch(self, task_id: Any = None, *, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("delete_watch", "resource watches")

    async def get_experience_outcomes(self, experience_uri: Any, options: Any = None) -> Any:
        """Not supported: experiences."""
        _refuse("get_experience_outcomes", "experiences")

    async def get_watch(self, task_id: Any, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("get_watch", "resource watches")

    async def git_commit(
        self,
        *,
        message: Any,
        paths: Any = None,
        branch: Any = "main",
        author_name: Any = None,
        author_email: Any = None,
    ) -> Any:
        """Not supported: git version control."""
        _refuse("git_commit", "git version control")

    async def git_delete_ignore(self) -> Any:
        """Not supported: git version control."""
        _refuse("git_delete_ignore", "git version control")

    async def git_diff(self, path: Any, *, to_ref: Any, from_ref: Any = None) -> Any:
        """Not supported: git version control."""
        _refuse("git_diff", "git version control")

    async def git_diff_paths(
        self, paths: Any, *, to_ref: Any, from_ref: Any = None, offset: Any = 0, limit: Any = 100
    ) -> Any:
        """Not supported: git version control."""
        _refuse("git_diff_paths", "git version control")

    async def git_get_ignore(self) -> Any:
        """Not supported: git version control."""
        _refuse("git_get_ignore", "git version control")

    async def git_log(self, *, branch: Any = "main", limit: Any = 20, paths: Any = None) -> Any:
        """Not supported: git version control."""
        _refuse("git_log", "git version control")

    async def git_restore(
        self,
        *,
        project_dir: Any = None,
        source_commit: Any,
        branch: Any = "main",
        dry_run: Any = False,
        message: Any = None,
        author_name: Any = None,
        author_email: Any = None,
    ) -> Any:
        """Not supported: git version control."""
        _refuse("git_restore", "git version control")

    async def git_set_ignore(self, *, content: Any) -> Any:
        """Not supported: git version control."""
        _refuse("git_set_ignore", "git version control")

    async def git_show(self, target_ref: Any, *, path: Any = None) -> Any:
        """Not supported: git version control."""
        _refuse("git_show", "git version control")

    async def list_experience_trajectories(self, experience_uri: Any, options: Any = None) -> Any:
        """Not supported: experiences."""
        _refuse("list_experience_trajectories", "experiences")

    async def list_watches(self, active_only: Any = False, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("list_watches", "resource watches")

    async def preflight_openviking_asset(
        self, name: Any, repo_url: Any, options: Any = None
    ) -> Any:
        """Not supported: asset manifests."""
        _refuse("preflight_openviking_asset", "asset manifests")

    async def resolve_openviking_assets(self, manifest_yaml: Any, options: Any = None) -> Any:
        """Not supported: asset manifests."""
        _refuse("resolve_openviking_assets", "asset manifests")

    @property
    def snapshot(self) -> Any:
        """Not supported: snapshots."""
        _refuse("snapshot", "snapshots")

    async def trigger_watch(self, task_id: Any = None, *, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("trigger_watch", "resource watches")

    async def update_watch(
        self,
        task_id: Any = None,
        *,
        to_uri: Any = None,
        watch_interval: Any = None,
        is_active: Any = None,
        reason: Any = None,
        instruction: Any = None,
    ) -> Any:
        """Not supported: resource watches."""
        _refuse("update_watch", "resource watches")


class SyncUnsupported:
    """The same calls on the blocking client (over its async client)."""

    acl_delete = forwarded(AsyncUnsupported.acl_delete)
    acl_get = forwarded(AsyncUnsupported.acl_get)
    acl_grant = forwarded(AsyncUnsupported.acl_grant)
    acl_revoke = forwarded(AsyncUnsupported.acl_revoke)
    acl_set = forwarded(AsyncUnsupported.acl_set)
    admin_get_account_settings = forwarded(AsyncUnsupported.admin_get_account_settings)
    admin_get_agent_evolution = forwarded(AsyncUnsupported.admin_get_agent_evolution)
    admin_migrate = forwarded(AsyncUnsupported.admin_migrate)
    admin_set_account_agent_evolution = forwarded(
        AsyncUnsupported.admin_set_account_agent_evolution
    )
    admin_set_agent_evolution = forwarded(AsyncUnsupported.admin_set_agent_evolution)
    compile = forwarded(AsyncUnsupported.compile)
    delete_watch = forwarded(AsyncUnsupported.delete_watch)
    get_experience_outcomes = forwarded(AsyncUnsupported.get_experience_outcomes)
    get_watch = forwarded(AsyncUnsupported.get_watch)
    git_commit = forwarded(AsyncUnsupported.git_commit)
    git_delete_ignore = forwarded(AsyncUnsupported.git_delete_ignore)
    git_diff = forwarded(AsyncUnsupported.git_diff)
    git_diff_paths = forwarded(AsyncUnsupported.git_diff_paths)
    git_get_ignore = forwarded(AsyncUnsupported.git_get_ignore)
    git_log = forwarded(AsyncUnsupported.git_log)
    git_restore = forwarded(AsyncUnsupported.git_restore)
    git_set_ignore = forwarded(AsyncUnsupported.git_set_ignore)
    git_show = forwarded(AsyncUnsupported.git_show)
    list_experience_trajectories = forwarded(AsyncUnsupported.list_experience_trajectories)
    list_watches = forwarded(AsyncUnsupported.list_watches)
    preflight_openviking_asset = forwarded(AsyncUnsupported.preflight_openviking_asset)
    resolve_openviking_assets = forwarded(AsyncUnsupported.resolve_openviking_assets)
    trigger_watch = forwarded(AsyncUnsupported.trigger_watch)
    update_watch = forwarded(AsyncUnsupported.update_watch)

    @property
    def snapshot(self) -> Any:
        """Not supported: snapshots."""
        _refuse("snapshot", "snapshots")


UNSUPPORTED: dict[str, str] = {
    "acl_delete": "access control lists",
    "acl_get": "access control lists",
    "acl_grant": "access control lists",
    "acl_revoke": "access control lists",
    "acl_set": "access control lists",
    "admin_get_account_settings": "per-account settings",
    "admin_get_agent_evolution": "Agent Evolution",
    "admin_migrate": "storage migration",
    "admin_set_account_agent_evolution": "Agent Evolution",
    "admin_set_agent_evolution": "Agent Evolution",
    "compile": "skill compilation",
    "delete_watch": "resource watches",
    "get_experience_outcomes": "experiences",
    "get_watch": "resource watches",
    "git_commit": "git version control",
    "git_delete_ignore": "git version control",
    "git_diff": "git version control",
    "git_diff_paths": "git version control",
    "git_get_ignore": "git version control",
    "git_log": "git version control",
    "git_restore": "git version control",
    "git_set_ignore": "git version control",
    "git_show": "git version control",
    "list_experience_trajectories": "experiences",
    "list_watches": "resource watches",
    "preflight_openviking_asset": "asset manifests",
    "resolve_openviking_assets": "asset manifests",
    "snapshot": "snapshots",
    "trigger_watch": "resource watches",
    "update_watch": "resource watches",
}
"""The SDK's names that are refused here, with the missing feature."""
