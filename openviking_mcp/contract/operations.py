"""Operations: one row per thing a caller can do, shared by every surface.

An :class:`Operation` names the feature service method that does the work (``target``), the
request model it takes, the result it returns, the positional parameters of the Python clients'
method and the HTTP route that serves it. The Python clients are generated from these rows,
the HTTP client sends requests by them, and tests check that every row is reachable from each
surface, so the surfaces cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openviking_mcp.contract.base import Request

__all__ = ["HttpMethod", "Operation", "Route"]

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True, slots=True)
class Route:
    """How the HTTP client reaches an operation.

    ``path`` may hold ``{field}`` placeholders, filled from the request; the other fields go
    to the query string (``GET``/``DELETE`` unless ``fields_in`` says otherwise) or the JSON
    body, without those left at ``None``. ``fixed`` fields are always sent. ``raw``: the answer
    is the body's bytes. ``waits``: the call blocks server-side (``True``), or does when the
    ``wait`` field is set (``"wait"``), for up to the request's ``timeout``. ``convert`` and
    ``upload`` name client-side steps: turning the answer into the result, and sending local
    files to the temp upload first.
    """

    method: HttpMethod
    path: str
    fields_in: Literal["query", "json"] | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    raw: bool = False
    waits: bool | Literal["wait"] = False
    convert: str | None = None
    upload: str | None = None

    @property
    def placement(self) -> Literal["query", "json"]:
        if self.fields_in is not None:
            return self.fields_in
        return "query" if self.method in ("GET", "DELETE") else "json"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation. ``target`` is ``"feature.method"`` on ``ContextService``; ``result`` the
    type the service returns; ``args`` the parameters the clients take positionally (the rest
    are keyword-only); ``embedded`` options the embedded client passes to the service (it runs
    as the machine's own user, so it may name local paths)."""

    name: str
    target: str
    request: type[Request]
    result: Any
    args: tuple[str, ...] = ()
    http: Route | None = None
    doc: str = ""
    embedded: Mapping[str, Any] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        return self.target.split(".", 1)[0]

    @property
    def method(self) -> str:
        return self.target.split(".", 1)[1]
