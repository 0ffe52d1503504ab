"""Relations between contexts: ``link``, ``unlink`` and ``get_relations``.

A relation belongs to its source. Reads leave out links whose target no longer exists or that
the reader may not see, so a deleted target simply disappears. Find hits carry up to five.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "LinkRequest",
    "LinkResult",
    "Relation",
    "RelationsRequest",
    "UnlinkRequest",
    "UnlinkResult",
]


class RelationsRequest(Request):
    uri: str = Field(description="Source URI.")


class Relation(Result):
    uri: str
    reason: str = ""


class LinkRequest(Request):
    """Link ``from_uri`` to each of ``to_uris`` (an existing link gets the new reason)."""

    from_uri: str
    to_uris: str | list[str] = Field(description="One URI or a list of URIs.")
    reason: str = ""


class LinkResult(Result):
    from_: str = Field(alias="from")
    to: list[str]


class UnlinkRequest(Request):
    """Remove the link ``from_uri`` → ``to_uri`` (``removed`` is false if there was none)."""

    from_uri: str
    to_uri: str


class UnlinkResult(Result):
    from_: str = Field(alias="from")
    to: str
    removed: bool


_R = "/api/v1/relations"

OPERATIONS = (
    Operation(
        "get_relations",
        "relations.get",
        RelationsRequest,
        list[Relation],
        ("uri",),
        Route("GET", _R),
        doc="The links of ``uri`` (deleted or unreadable targets left out).",
    ),
    Operation(
        "link",
        "relations.link",
        LinkRequest,
        LinkResult,
        ("from_uri", "to_uris", "reason"),
        Route("POST", f"{_R}/link"),
    ),
    Operation(
        "unlink",
        "relations.unlink",
        UnlinkRequest,
        UnlinkResult,
        ("from_uri", "to_uri"),
        Route("DELETE", f"{_R}/link", fields_in="json"),
    ),
)
