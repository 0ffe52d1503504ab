"""The ``health`` tool: is the store up and ready, and as whom do the tools act."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import HealthResult
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.tools._common import READ_ONLY, ToolRegistry, run_tool

__all__ = ["health", "register"]


def _summary(report: dict[str, Any], ready: dict[str, Any], identity: str) -> str:
    failing = [k for k, v in ready.get("checks", {}).items() if v != "ok"]
    if failing:
        return f"OpenViking is up but not ready: {', '.join(failing)} failing"
    if not report["healthy"]:
        return f"OpenViking cannot serve: {'; '.join(report.get('problems', []))}"
    text = f"OpenViking is healthy (version {report['version']}, acting as {identity})"
    failed = report.get("tasks", {}).get("failed", 0)
    if failed:
        last = report["tasks"].get("last_error") or {}
        text += f"; {failed} failed task(s) retained"
        if last.get("message"):
            text += f", the last: {last['message']}"
    return text


async def health(ctx: Context) -> Annotated[CallToolResult, HealthResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, HealthResult]:
        report = await rt.service.health_status(caller)
        ready = await rt.service.ready()
        identity = f"{caller.account_id}/{caller.user_id} ({caller.role.value})"
        text = _summary(report, ready, identity)
        model = HealthResult.model_validate({**report, "identity": identity, "ready": ready})
        return text, model

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        health,
        "health",
        READ_ONLY,
        "Check that the store is up and ready; shows the identity the tools act as and the "
        "failed background tasks.",
    )
