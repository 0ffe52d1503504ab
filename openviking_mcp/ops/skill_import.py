"""Importing a live MCP server's tools as skills, and refreshing that import (issue 5).

:meth:`SkillImportOps.import_mcp_server` lists every tool of one server (a command spoken to over
stdio, or a streamable-HTTP URL), turns each into a skill with
:func:`~openviking_mcp.skills.mcp_tool_to_skill` and adds it with ``add_skill``. Each skill
records its source in ``metadata.mcp`` (``id``, ``transport``, ``name``, ``version``, ``tool``),
which makes a second import a refresh:

* a skill of this source whose SKILL.md would not change is ``unchanged`` (not rewritten);
* one whose SKILL.md changes is ``updated``; a new tool is ``added``;
* a skill of this source whose tool is gone is ``removed``; it is deleted only with ``prune``;
* a tool whose skill name is taken by a hand-written skill or another source's is left alone
  and reported in ``errors``, as is a tool whose name cannot be a skill name.

Launching a program is the caller's decision: surfaces that must not let a client run
programs (HTTP with a user key) pass ``allow_command=False``.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.ops.skills import SkillOps
from openviking_mcp.skills import Skill, mcp_tool_to_skill, render_skill_md
from openviking_mcp.skills.mcp_source import fetch_mcp_tools

__all__ = ["DEFAULT_IMPORT_TIMEOUT", "SkillImportOps"]

DEFAULT_IMPORT_TIMEOUT = 60.0
"""Seconds allowed for starting or reaching a server and listing its tools."""


def _source_id(summary: dict[str, Any]) -> str | None:
    """The MCP server id a stored skill was imported from, or ``None`` (hand-written)."""
    mcp = summary.get("metadata", {}).get("mcp")
    source = mcp.get("id") if isinstance(mcp, dict) else None
    return source if isinstance(source, str) else None


class SkillImportOps(SkillOps):
    async def import_mcp_server(
        self,
        ctx: RequestContext,
        *,
        command: list[str] | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        target_uri: str | None = None,
        prune: bool = False,
        wait: bool = False,
        timeout: float | None = None,
        allow_command: bool = True,
    ) -> dict[str, Any]:
        """Import (or refresh) the tools of one MCP server as skills.

        Give ``command`` (program and arguments; ``env`` adds variables) or ``url`` (``headers``
        are sent with each request). Header and env values are never stored. ``target_uri``
        picks the skills root (``viking://agent/skills`` by default, or ``viking://~/skills``).
        ``timeout`` bounds connecting and listing (60 s by default) and each ``wait``.

        Result: ``{server, skills_root, added, updated, unchanged, removed, pruned, errors}``;
        the name lists hold skill names, ``errors`` holds ``{tool, name?, reason, message}``.
        """
        self._require_open()
        if command is not None and not allow_command:
            raise PermissionDeniedError(
                "Only ROOT (or dev mode) may make the server run an MCP server command; "
                "give a url instead",
                {"field": "command"},
            )
        if timeout is not None and timeout <= 0:
            raise InvalidArgumentError("timeout must be positive", {"field": "timeout"})
        root = self._skill_root(ctx, target_uri)
        if root.scope == "agent":  # fail before launching anything
            check_access(ctx, root.join("mcp-import"), mutate=True)
        listing = await fetch_mcp_tools(
            command=command,
            url=url,
            headers=headers,
            env=env,
            timeout=timeout or DEFAULT_IMPORT_TIMEOUT,
        )
        server = listing.server
        existing = {s["name"]: s for s in await self.list_skills(ctx, root.uri)}
        report: dict[str, Any] = {
            "server": server,
            "skills_root": root.uri,
            "added": [],
            "updated": [],
            "unchanged": [],
            "removed": [],
            "pruned": prune,
            "errors": [],
        }
        offered: set[str] = set()
        for tool in listing.tools:
            tool_name = str(tool.get("name"))
            try:
                skill = mcp_tool_to_skill(tool, source=server)
            except InvalidArgumentError as exc:
                report["errors"].append(
                    {"tool": tool_name, "reason": "invalid_tool", "message": exc.message}
                )
                continue
            if skill.name in offered:
                report["errors"].append(
                    {
                        "tool": tool_name,
                        "name": skill.name,
                        "reason": "duplicate_name",
                        "message": f"Another tool of this server is also named '{skill.name}'",
                    }
                )
                continue
            offered.add(skill.name)
            outcome = await self._import_one(ctx, root.uri, skill, existing.get(skill.name))
            if isinstance(outcome, dict):
                report["errors"].append({"tool": tool_name, "name": skill.name, **outcome})
                continue
            if outcome != "unchanged":
                await self.add_skill(ctx, skill, target_uri=root.uri, wait=wait, timeout=timeout)
            report[outcome].append(skill.name)
        for name, summary in sorted(existing.items()):
            if name in offered or _source_id(summary) != server["id"]:
                continue
            if prune:
                with suppress(NotFoundError):  # removed meanwhile
                    await self.delete_skill(ctx, name, target_uri=root.uri)
            report["removed"].append(name)
        return report

    async def _import_one(
        self, ctx: RequestContext, root: str, skill: Skill, current: dict[str, Any] | None
    ) -> str | dict[str, Any]:
        """``added``, ``updated`` or ``unchanged`` for a skill this import may write, else the
        error entry explaining why the stored skill is left alone."""
        if current is None:
            return "added"
        source = _source_id(current)
        if source != skill.metadata["mcp"]["id"]:
            owner = f"MCP server {source}" if source else "a skill not imported from MCP"
            return {
                "reason": "name_taken",
                "existing_source": source,
                "message": f"Skill '{skill.name}' already exists from {owner}; left unchanged",
            }
        try:
            stored = await self.get_skill(ctx, skill.name, target_uri=root)
        except NotFoundError:
            return "added"
        return "unchanged" if stored["content"] == render_skill_md(skill) else "updated"
