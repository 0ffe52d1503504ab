"""Importing a live MCP server's tools as skills, and refreshing that import.

:meth:`SkillImporter.import_mcp_server` lists every tool of one server (a command spoken to over
stdio, or a streamable-HTTP URL), turns each into a skill with
:func:`~openviking_mcp.skills.mcp_convert.mcp_tool_to_skill` and adds it through the skill
service. Each skill records its source in ``metadata.mcp`` (``id``, ``transport``, ``name``,
``version``, ``tool``), which makes a second import a refresh:

* a skill of this source whose SKILL.md would not change is ``unchanged`` (not rewritten);
* one whose SKILL.md changes is ``updated``; a new tool is ``added``;
* a skill of this source whose tool is gone is ``removed``; it is deleted only with ``prune``;
* a tool whose skill name is taken by a hand-written skill or another source's is left alone
  and reported in ``errors``, as is a tool whose name cannot be a skill name.

Launching a program is the caller's decision: surfaces that must not let a client run
programs (HTTP with a user key) pass ``allow_command=False``. Those callers may not reach the
server's own network either: their ``url`` goes through ``check_url`` (the URL-import address
guard, given by the composition root), unless ``allow_private_networks`` is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Literal

from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.skills import (
    GetSkillRequest,
    ImportIssue,
    ImportMcpRequest,
    ImportReport,
    McpServerInfo,
    NameTaken,
    SkillRequest,
    SkillsRequest,
    SkillSummary,
)
from openviking_mcp.skills.mcp_convert import mcp_tool_to_skill
from openviking_mcp.skills.model import Skill
from openviking_mcp.skills.service import SkillService
from openviking_mcp.skills.skill_md import render_skill_md
from openviking_mcp.store import Store

__all__ = ["DEFAULT_IMPORT_TIMEOUT", "SkillImporter", "UrlCheck"]

#: ``check(url)`` refuses (raises) a URL whose host is not a public address.
UrlCheck = Callable[[str], Awaitable[object]]

DEFAULT_IMPORT_TIMEOUT = 60.0
"""Seconds allowed for starting or reaching a server and listing its tools."""

Outcome = Literal["added", "updated", "unchanged"]


def _source_id(summary: SkillSummary) -> str | None:
    """The MCP server id a stored skill was imported from, or ``None`` (hand-written)."""
    mcp = summary.metadata.get("mcp")
    source = mcp.get("id") if isinstance(mcp, dict) else None
    return source if isinstance(source, str) else None


def _offered_skill(
    tool: dict[str, Any],
    source: dict[str, Any],
    offered: set[str],
    errors: list[NameTaken | ImportIssue],
) -> Skill | None:
    """The skill of one listed tool, or ``None`` with the reason added to ``errors`` (a tool
    that cannot be a skill, or a second tool with the same skill name)."""
    tool_name = str(tool.get("name"))
    try:
        skill = mcp_tool_to_skill(tool, source=source)
    except InvalidArgumentError as exc:
        errors.append(ImportIssue(tool=tool_name, reason="invalid_tool", message=exc.message))
        return None
    if skill.name in offered:
        errors.append(
            ImportIssue(
                tool=tool_name,
                name=skill.name,
                reason="duplicate_name",
                message=f"Another tool of this server is also named '{skill.name}'",
            )
        )
        return None
    offered.add(skill.name)
    return skill


class SkillImporter:
    """See the module docs."""

    def __init__(self, store: Store, skills: SkillService, check_url: UrlCheck) -> None:
        self._store = store
        self._skills = skills
        self._check_url = check_url

    async def import_mcp_server(
        self, ctx: RequestContext, req: ImportMcpRequest, *, allow_command: bool = True
    ) -> ImportReport:
        """Import (or refresh) the tools of one MCP server as skills (see the module docs);
        ``target_uri`` picks the skills root (by default the caller's own, as for
        ``add_skill``)."""
        self._store.require_open()
        if req.command is not None and not allow_command:
            raise PermissionDeniedError(
                "Only ROOT (or dev mode) may make the server run an MCP server command; "
                "give a url instead",
                {"field": "command"},
            )
        if req.timeout is not None and req.timeout <= 0:
            raise InvalidArgumentError("timeout must be positive", {"field": "timeout"})
        if req.url and not allow_command and not self._store.config.allow_private_networks:
            await self._check_url(req.url)
        root = self._skills.skill_root(ctx, req.target_uri)
        if root.scope == "agent":  # fail before launching anything
            check_access(ctx, root.join("mcp-import"), mutate=True)
        # the MCP client SDK loads only for an import
        from openviking_mcp.skills.mcp_source import fetch_mcp_tools

        listing = await fetch_mcp_tools(
            command=req.command,
            url=req.url,
            headers=req.headers,
            env=req.env,
            timeout=req.timeout or DEFAULT_IMPORT_TIMEOUT,
        )
        server = McpServerInfo.model_validate(listing.server)
        stored = await self._skills.list_skills(ctx, SkillsRequest(target_uri=root.uri))
        existing = {s.name: s for s in stored}
        report = ImportReport(server=server, skills_root=root.uri, pruned=req.prune)
        offered: set[str] = set()
        for tool in listing.tools:
            skill = _offered_skill(tool, listing.server, offered, report.errors)
            if skill is None:
                continue
            tool_name = str(tool.get("name"))
            current = existing.get(skill.name)
            outcome = await self._import_one(ctx, root.uri, tool_name, skill, current)
            if isinstance(outcome, ImportIssue):
                report.errors.append(outcome)
                continue
            if outcome != "unchanged":
                await self._skills.add_parsed(
                    ctx, skill, target_uri=root.uri, wait=req.wait, timeout=req.timeout
                )
            getattr(report, outcome).append(skill.name)
        await self._remove_gone(ctx, root.uri, existing, offered, report)
        return report

    async def _remove_gone(
        self,
        ctx: RequestContext,
        root: str,
        existing: dict[str, SkillSummary],
        offered: set[str],
        report: ImportReport,
    ) -> None:
        """Report (and with ``prune`` delete) this source's skills whose tool is gone."""
        for name, summary in sorted(existing.items()):
            if name in offered or _source_id(summary) != report.server.id:
                continue
            if report.pruned:
                with suppress(NotFoundError):  # removed meanwhile
                    await self._skills.delete(ctx, SkillRequest(skill_name=name, target_uri=root))
            report.removed.append(name)

    async def _import_one(
        self,
        ctx: RequestContext,
        root: str,
        tool_name: str,
        skill: Skill,
        current: SkillSummary | None,
    ) -> Outcome | ImportIssue:
        """``added``, ``updated`` or ``unchanged`` for a skill this import may write, else the
        error entry explaining why the stored skill is left alone."""
        if current is None:
            return "added"
        source = _source_id(current)
        if source != skill.metadata["mcp"]["id"]:
            owner = f"MCP server {source}" if source else "a skill not imported from MCP"
            return NameTaken(
                tool=tool_name,
                name=skill.name,
                reason="name_taken",
                existing_source=source,
                message=f"Skill '{skill.name}' already exists from {owner}; left unchanged",
            )
        try:
            request = GetSkillRequest(skill_name=skill.name, target_uri=root, include_files=False)
            stored = await self._skills.get(ctx, request)
        except NotFoundError:
            return "added"
        return "unchanged" if stored.content == render_skill_md(skill) else "updated"
