"""The console's skills page: the skills the caller can use, one skill's SKILL.md, and the
import of an MCP server's tools as skills.

A skill's page shows SKILL.md as it is stored: secrets found in it when it was added stay the
``{{ov_privacy:...}}`` placeholders they were stored as (the content service's ``raw`` read,
which skips the filter that puts a reader's secrets back). The import goes through the same
service call as ``POST /api/v1/skills/import-mcp`` with the same rule: launching a command is
for ROOT or dev mode only, a user key imports by URL.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from http_api.console._web import AnyCaller, is_htmx, page_router, render, service_of
from openviking_mcp.contract.content import ReadRequest
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.skills import (
    GetSkillRequest,
    ImportMcpRequest,
    ImportReport,
    SkillsRequest,
    SkillSummary,
)
from openviking_mcp.skills.stored import split_skill_md

__all__ = ["parse_headers", "router"]

router = page_router()


def _may_run_commands(request: Request, caller: RequestContext) -> bool:
    """The API's rule for the command form: ROOT, or a server in dev mode."""
    return caller.is_root or service_of(request).config.server.effective_auth_mode == "dev"


def _mcp(summary: SkillSummary) -> dict[str, Any]:
    """The MCP source an import recorded in the skill's metadata (empty: added by hand)."""
    mcp = summary.metadata.get("mcp")
    return mcp if isinstance(mcp, dict) else {}


def _row(summary: SkillSummary) -> dict[str, Any]:
    mcp = _mcp(summary)
    return {
        "name": summary.name,
        "description": summary.description,
        "scope": summary.scope,
        "source": str(mcp.get("name") or mcp.get("id") or ""),
        "source_id": str(mcp.get("id") or ""),
        "tool": str(mcp.get("tool") or ""),
        "tools": len(summary.allowed_tools),
        "tags": summary.tags,
    }


async def _page(
    request: Request,
    caller: RequestContext,
    report: ImportReport | None = None,
) -> Response:
    listing = await service_of(request).skills.list_page(caller, SkillsRequest())
    context = {
        "title": "Skills",
        "active": "skills",
        "skills": [_row(s) for s in listing.skills],
        "roots": listing.root_uris or [],
        "allow_command": _may_run_commands(request, caller),
        "report": report,
    }
    return render(request, "skills.html", context)


@router.get("/skills")
async def page(request: Request, caller: AnyCaller) -> Response:
    return await _page(request, caller)


def parse_headers(text: str) -> dict[str, str] | None:
    """``Name: value`` lines as headers (blank lines skipped); ``None`` when there are none."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise InvalidArgumentError(
                "Write each header as 'Name: value' on its own line", {"field": "headers"}
            )
        headers[name.strip()] = value.strip()
    return headers or None


def _import_request(
    mode: str, url: str, headers: str, command: str, prune: bool
) -> ImportMcpRequest:
    """The import the form asks for: by ``url`` (with headers) or by ``command``."""
    if mode == "command":
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InvalidArgumentError(f"Unreadable command: {exc}", {"field": "command"}) from None
        if not argv:
            raise InvalidArgumentError("Give the command to launch", {"field": "command"})
        return ImportMcpRequest(command=argv, prune=prune)
    if not url.strip():
        raise InvalidArgumentError("Give the MCP server's URL", {"field": "url"})
    return ImportMcpRequest(url=url.strip(), headers=parse_headers(headers), prune=prune)


@router.post("/skills/import")
async def import_mcp(
    request: Request,
    caller: AnyCaller,
    mode: Annotated[str, Form()] = "url",
    url: Annotated[str, Form()] = "",
    headers: Annotated[str, Form()] = "",
    command: Annotated[str, Form()] = "",
    prune: Annotated[bool, Form()] = False,
) -> Response:
    """Import (or refresh) an MCP server's tools as skills; the report of what changed."""
    req = _import_request(mode, url, headers, command, prune)
    report = await service_of(request).skill_import.import_mcp_server(
        caller, req, allow_command=_may_run_commands(request, caller)
    )
    if is_htmx(request):
        return render(request, "_skill_import_report.html", {"report": report})
    return await _page(request, caller, report)


def _front_matter_rows(meta: dict[str, Any]) -> list[tuple[str, Any]]:
    """The front matter as (field, value) rows, nested ``metadata`` flattened one level."""
    rows: list[tuple[str, Any]] = []
    for key, value in meta.items():
        if key == "metadata" and isinstance(value, dict):
            rows.extend((f"metadata.{k}", v) for k, v in value.items())
        else:
            rows.append((key, value))
    return rows


@router.get("/skills/{name}")
async def skill(name: str, request: Request, caller: AnyCaller) -> Response:
    """One skill: SKILL.md as stored (placeholders kept), its front matter and its files."""
    service = service_of(request)
    detail = await service.skills.get(
        caller, GetSkillRequest(skill_name=name, include_content=False, level=0)
    )
    text = await service.content.read(caller, ReadRequest(uri=detail.skill_md_uri, raw=True))
    meta, body = split_skill_md(text)
    context = {
        "title": f"Skill {detail.name}",
        "active": "skills",
        "name": detail.name,
        "uri": detail.uri,
        "scope": detail.scope,
        "front_matter": _front_matter_rows(meta),
        "body": body,
        "files": detail.files or [],
    }
    return render(request, "skill.html", context)
