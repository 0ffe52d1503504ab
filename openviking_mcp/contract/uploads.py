"""Temp uploads: files a remote caller sends before importing them, and one-shot tickets.

A temp upload is answered with ``{temp_file_id, filename, size, sha256, expires_at}``; the id
is then named by ``add_resource``, ``add_skill``, ``import_pack`` or ``restore``. A ticket lets
a caller that cannot send headers (an agent given a URL) upload once as the user who asked.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Request, Result
from openviking_mcp.contract.operations import Operation

__all__ = ["OPERATIONS", "TicketRequest", "TicketResult", "UploadResult"]


class UploadResult(Result):
    temp_file_id: str
    filename: str
    size: int
    sha256: str
    expires_at: str


class TicketRequest(Request):
    """A single-use token that uploads as the caller until it expires."""

    ttl_seconds: int = Field(default=600, description="Seconds the ticket stays valid.")


class TicketResult(Result):
    token: str
    expires_at: str


OPERATIONS = (
    Operation(
        "create_upload_ticket",
        "uploads.create_ticket",
        TicketRequest,
        TicketResult,
        doc="A one-shot upload token: ``POST /api/v1/resources/temp_upload?token=...``.",
    ),
)
