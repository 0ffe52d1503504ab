"""MCP prompts: ``use-openviking`` (how to use the store) and one prompt per stored skill.

Skill prompts depend on who is asking (private skills, account skills), so they are spliced
into ``prompts/list`` and answered in ``prompts/get`` by :func:`catalog_middleware` rather than
registered once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    GetPromptResult,
    Prompt,
    PromptMessage,
    TextContent,
)
from pydantic import BaseModel

from openviking_mcp.contract.errors import NotFoundError, OpenVikingError
from openviking_mcp.mcp_server._runtime import Runtime, error_text
from openviking_mcp.mcp_server.resources import CONCRETE_RESOURCES

__all__ = ["USE_OPENVIKING", "catalog_middleware", "register_prompts"]

USE_OPENVIKING = """\
You have access to OpenViking, a context database organised as a virtual filesystem of \
viking:// URIs. Use it to remember, to look things up and to follow stored skills.

Layout
- viking://resources/...  documents, code and web pages imported with add_resource (shared by
  the account).
- viking://agent/skills/{name}/SKILL.md  skills every agent of the account can use.
- viking://~/...  your own space (~ is your user): memories/ (long-term memories by category:
  preferences, entities, events...), resources/ (private documents), skills/ (private skills),
  sessions/ (conversations).
Every directory has three tiers: L0 abstract (one line), L1 overview (a page) and L2 the full
files. Read the cheap tiers first and go deeper only when needed.

Which tool when
- find: a standalone question ("how do we deploy?"); returns ranked URIs with abstracts.
- search: like find, but pass session_id so the conversation refines the query; with
  mode="context" it returns a ready-to-use context block within max_tokens.
- read: open URIs found by find/search/list (level=abstract|overview|full; several at once).
- list / tree / glob: browse when you know roughly where something is; grep for exact strings.
- write / edit: keep notes and documents current (edit replaces an exact string).
- add_resource: import a URL or file so it becomes searchable.
- forget: delete something that is wrong or no longer wanted.

Habits
- Search before answering questions about the user, their projects or earlier decisions.
- Cite the viking:// URIs you used.
- Prefer editing an existing note over writing a near-duplicate.
"""


def register_prompts(server: MCPServer[Any], rt: Runtime) -> None:
    @server.prompt(
        name="use-openviking",
        title="How to use OpenViking",
        description="Teaches an agent the store's layout and when to use find, search and read.",
    )
    def use_openviking() -> str:
        return USE_OPENVIKING


def catalog_middleware(rt: Runtime, static_prompts: set[str]) -> Any:
    """Middleware adding the caller's skills as prompts and the concrete resources."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "prompts/get":
            name = str((ctx.params or {}).get("name") or "")
            if name and name not in static_prompts:
                return await _skill_prompt(rt, ctx.request, name)
        result = await call_next(ctx)
        if ctx.method == "prompts/list":
            try:
                skills = await rt.service.list_skills(rt.caller_from(ctx.request))
            except OpenVikingError:
                skills = []
            extra = [
                Prompt(name=s["name"], title=s["name"], description=s["description"])
                for s in skills
                if s["name"] not in static_prompts
            ]
            result = _extend(result, "prompts", extra)
        elif ctx.method == "resources/list":
            result = _extend(result, "resources", CONCRETE_RESOURCES, first=True)
        return result

    return middleware


def _extend(
    result: HandlerResult, field: str, items: Sequence[BaseModel], *, first: bool = False
) -> HandlerResult:
    """Add ``items`` to the list ``field`` of a list result (a dict or a model)."""
    if isinstance(result, BaseModel):
        result = result.model_dump(by_alias=True, exclude_none=True, mode="json")
    if not isinstance(result, dict) or not isinstance(result.get(field), list):
        return result
    dumped = [i.model_dump(by_alias=True, exclude_none=True, mode="json") for i in items]
    merged = [*dumped, *result[field]] if first else [*result[field], *dumped]
    return {**result, field: merged}


async def _skill_prompt(rt: Runtime, request: Any, name: str) -> GetPromptResult:
    try:
        skill = await rt.service.read_skill(rt.caller_from(request), name)
    except NotFoundError:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}") from None
    except OpenVikingError as exc:
        raise MCPError(code=INVALID_PARAMS, message=error_text(exc)) from None
    text = f"{skill['body']}\n\n(Skill {skill['name']} from {skill['uri']})"
    return GetPromptResult(
        description=skill["description"],
        messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
    )
