"""How the HTTP client reaches an operation: a plain table, no models, so the HTTP client and
the CLI's remote mode can hold every route without importing pydantic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["HttpMethod", "Route"]

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class Route:
    """How the HTTP client reaches an operation.

    ``path`` may hold ``{field}`` placeholders, filled from the request; the other fields go
    to the query string (``GET``/``DELETE`` unless ``fields_in`` says otherwise) or the JSON
    body, without those left at ``None``. ``fixed`` fields are always sent. ``raw``: the answer
    is the body's bytes. ``waits``: the call blocks server-side (``True``), or does when the
    ``wait`` field is set (``"wait"``), for up to the request's ``timeout``. ``convert`` and
    ``upload`` name client-side steps: turning the answer into the result, and sending local
    files to the temp upload first. ``names`` maps parameters sent under another name (the
    request field's alias).
    """

    method: HttpMethod
    path: str
    fields_in: Literal["query", "json"] | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    raw: bool = False
    waits: bool | Literal["wait"] = False
    convert: str | None = None
    upload: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def placement(self) -> Literal["query", "json"]:
        if self.fields_in is not None:
            return self.fields_in
        return "query" if self.method in ("GET", "DELETE") else "json"
