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
from typing import Any

from openviking_mcp.contract.base import Request
from openviking_mcp.contract.routes import HttpMethod, Route

__all__ = ["HttpMethod", "Operation", "Route"]


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
