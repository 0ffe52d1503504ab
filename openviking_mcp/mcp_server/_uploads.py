"""One-shot upload links for tools that get a local path over HTTP."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import AddResourceResult
from openviking_mcp.mcp_server._runtime import Runtime

__all__ = ["upload_instructions"]


async def upload_instructions(
    rt: Runtime, ctx: Context, caller: RequestContext, path: str, tool: str
) -> tuple[str, AddResourceResult]:
    """A local path cannot be read by a remote server: hand out a one-shot upload link."""
    ticket = await rt.service.create_upload_ticket(caller)
    url = f"{rt.base_url_of(ctx)}/api/v1/resources/temp_upload?token={ticket['token']}"
    text = (
        f"The server cannot read local paths such as {path}. Upload the file first:\n\n"
        f'  curl -F "file=@{path}" "{url}"\n\n'
        "(multipart field 'file'; the link works once and expires at "
        f"{ticket['expires_at']}). The reply contains a temp_file_id: call {tool} "
        "again with temp_file_id=<that id>. For a folder, zip it first."
    )
    model = AddResourceResult(
        status="upload_required", upload_url=url, expires_at=str(ticket["expires_at"])
    )
    return text, model
