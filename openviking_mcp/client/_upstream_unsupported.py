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

    async def admin_add_group_member(self, account_id: Any, group_id: Any, user_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_add_group_member", "user groups")

    async def admin_create_group(self, account_id: Any, group_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_create_group", "user groups")

    async def admin_delete_group(self, account_id: Any, group_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_delete_group", "user groups")

    async def admin_get_account_settings(self, account_id: Any) -> Any:
        """Not supported: per-account settings."""
        _refuse("admin_get_account_settings", "per-account settings")

    async def admin_get_agent_evolution(self) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_get_agent_evolution", "Agent Evolution")

    async def admin_list_group_members(self, account_id: Any, group_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_list_group_members", "user groups")

    async def admin_list_groups(self, account_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_list_groups", "user groups")

    async def admin_migrate(self, cleanup: Any = False) -> Any:
        """Not supported: storage migration."""
        _refuse("admin_migrate", "storage migration")

    async def admin_remove_group_member(self, account_id: Any, group_id: Any, user_id: Any) -> Any:
        """Not supported: user groups."""
        _refuse("admin_remove_group_member", "user groups")

    async def admin_set_account_agent_evolution(self, account_id: Any, enabled: Any) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_set_account_agent_evolution", "Agent Evolution")

    async def admin_set_agent_evolution(self, enabled: Any) -> Any:
        """Not supported: Agent Evolution."""
        _refuse("admin_set_agent_evolution", "Agent Evolution")

    async def batch_write(
        self, root_uri: Any, operations: Any, wait: Any = True, options: Any = None
    ) -> Any:
        """Not supported: batch writes."""
        _refuse("batch_write", "batch writes")

    async def compile(self, from_uris: Any, to: Any, skill: Any, options: Any = None) -> Any:
        """Not supported: skill compilation."""
        _refuse("compile", "skill compilation")

    async def delete_watch(self, task_id: Any = None, *, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("delete_watch", "resource watches")

    async def find_skills(
        self,
        query: Any,
        limit: Any = 10,
        score_threshold: Any = None,
        level: Any = None,
        telemetry: Any = False,
        target_uri: Any = None,
    ) -> Any:
        """Not supported: skill search."""
        _refuse("find_skills", "skill search")

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

    async def ls_page(
        self,
        uri: Any,
        simple: Any = False,
        recursive: Any = False,
        output: Any = "original",
        abs_limit: Any = 256,
        show_all_hidden: Any = False,
        node_limit: Any = 1000,
        sort_by: Any = None,
        sort_order: Any = "asc",
        extra_fields: Any = None,
        tags: Any = None,
        include_tags: Any = False,
        offset: Any = 0,
        limit: Any = None,
        include_abstract: Any = None,
        include_overview: Any = None,
        overview_limit: Any = 4000,
    ) -> Any:
        """Not supported: paged listings."""
        _refuse("ls_page", "paged listings")

    async def preflight_openviking_asset(
        self, name: Any, repo_url: Any, options: Any = None
    ) -> Any:
        """Not supported: asset manifests."""
        _refuse("preflight_openviking_asset", "asset manifests")

    async def resolve_openviking_assets(self, manifest_yaml: Any, options: Any = None) -> Any:
        """Not supported: asset manifests."""
        _refuse("resolve_openviking_assets", "asset manifests")

    async def search_context(
        self,
        query: Any = "",
        session_id: Any = None,
        target_uri: Any = "",
        limit: Any = 10,
        image: Any = None,
        options: Any = None,
    ) -> Any:
        """Not supported: search_context."""
        _refuse("search_context", "search_context")

    def session(self, session_id: Any = None, must_exist: Any = False) -> Any:
        """Not supported: session objects."""
        _refuse("session", "session objects")

    async def set_tags(
        self,
        uri: Any,
        tags: Any = None,
        mode: Any = "replace",
        recursive: Any = False,
        options: Any = None,
    ) -> Any:
        """Not supported: tags."""
        _refuse("set_tags", "tags")

    @property
    def snapshot(self) -> Any:
        """Not supported: snapshots."""
        _refuse("snapshot", "snapshots")

    async def tree_page(
        self,
        uri: Any,
        output: Any = "original",
        abs_limit: Any = 128,
        show_all_hidden: Any = False,
        node_limit: Any = 1000,
        level_limit: Any = 3,
        extra_fields: Any = None,
        tags: Any = None,
        include_tags: Any = False,
        offset: Any = 0,
        limit: Any = None,
        include_abstract: Any = None,
        include_overview: Any = None,
        overview_limit: Any = 4000,
        directories_only: Any = False,
    ) -> Any:
        """Not supported: paged listings."""
        _refuse("tree_page", "paged listings")

    async def trigger_watch(self, task_id: Any = None, *, to_uri: Any = None) -> Any:
        """Not supported: resource watches."""
        _refuse("trigger_watch", "resource watches")

    async def update_session_config(self, session_id: Any, options: Any = None) -> Any:
        """Not supported: session configuration."""
        _refuse("update_session_config", "session configuration")

    async def update_skill(
        self, skill_name: Any, data: Any, wait: Any = False, options: Any = None
    ) -> Any:
        """Not supported: skill updates."""
        _refuse("update_skill", "skill updates")

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

    async def validate_skill(
        self,
        data: Any,
        strict: Any = False,
        source_path: Any = None,
        skill_dir_name: Any = None,
        target_uri: Any = None,
    ) -> Any:
        """Not supported: skill validation."""
        _refuse("validate_skill", "skill validation")


class SyncUnsupported:
    """The same calls on the blocking client (over its async client)."""

    acl_delete = forwarded(AsyncUnsupported.acl_delete)
    acl_get = forwarded(AsyncUnsupported.acl_get)
    acl_grant = forwarded(AsyncUnsupported.acl_grant)
    acl_revoke = forwarded(AsyncUnsupported.acl_revoke)
    acl_set = forwarded(AsyncUnsupported.acl_set)
    admin_add_group_member = forwarded(AsyncUnsupported.admin_add_group_member)
    admin_create_group = forwarded(AsyncUnsupported.admin_create_group)
    admin_delete_group = forwarded(AsyncUnsupported.admin_delete_group)
    admin_get_account_settings = forwarded(AsyncUnsupported.admin_get_account_settings)
    admin_get_agent_evolution = forwarded(AsyncUnsupported.admin_get_agent_evolution)
    admin_list_group_members = forwarded(AsyncUnsupported.admin_list_group_members)
    admin_list_groups = forwarded(AsyncUnsupported.admin_list_groups)
    admin_migrate = forwarded(AsyncUnsupported.admin_migrate)
    admin_remove_group_member = forwarded(AsyncUnsupported.admin_remove_group_member)
    admin_set_account_agent_evolution = forwarded(
        AsyncUnsupported.admin_set_account_agent_evolution
    )
    admin_set_agent_evolution = forwarded(AsyncUnsupported.admin_set_agent_evolution)
    batch_write = forwarded(AsyncUnsupported.batch_write)
    compile = forwarded(AsyncUnsupported.compile)
    delete_watch = forwarded(AsyncUnsupported.delete_watch)
    find_skills = forwarded(AsyncUnsupported.find_skills)
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
    ls_page = forwarded(AsyncUnsupported.ls_page)
    preflight_openviking_asset = forwarded(AsyncUnsupported.preflight_openviking_asset)
    resolve_openviking_assets = forwarded(AsyncUnsupported.resolve_openviking_assets)
    search_context = forwarded(AsyncUnsupported.search_context)
    set_tags = forwarded(AsyncUnsupported.set_tags)
    tree_page = forwarded(AsyncUnsupported.tree_page)
    trigger_watch = forwarded(AsyncUnsupported.trigger_watch)
    update_session_config = forwarded(AsyncUnsupported.update_session_config)
    update_skill = forwarded(AsyncUnsupported.update_skill)
    update_watch = forwarded(AsyncUnsupported.update_watch)
    validate_skill = forwarded(AsyncUnsupported.validate_skill)

    def session(self, session_id: Any = None, must_exist: Any = False) -> Any:
        """Not supported: session objects."""
        _refuse("session", "session objects")

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
    "admin_add_group_member": "user groups",
    "admin_create_group": "user groups",
    "admin_delete_group": "user groups",
    "admin_get_account_settings": "per-account settings",
    "admin_get_agent_evolution": "Agent Evolution",
    "admin_list_group_members": "user groups",
    "admin_list_groups": "user groups",
    "admin_migrate": "storage migration",
    "admin_remove_group_member": "user groups",
    "admin_set_account_agent_evolution": "Agent Evolution",
    "admin_set_agent_evolution": "Agent Evolution",
    "batch_write": "batch writes",
    "compile": "skill compilation",
    "delete_watch": "resource watches",
    "find_skills": "skill search",
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
    "ls_page": "paged listings",
    "preflight_openviking_asset": "asset manifests",
    "resolve_openviking_assets": "asset manifests",
    "search_context": "search_context",
    "session": "session objects",
    "set_tags": "tags",
    "snapshot": "snapshots",
    "tree_page": "paged listings",
    "trigger_watch": "resource watches",
    "update_session_config": "session configuration",
    "update_skill": "skill updates",
    "update_watch": "resource watches",
    "validate_skill": "skill validation",
}
"""The SDK's names that are refused here, with the missing feature."""
