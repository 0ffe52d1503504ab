"""What the routers' JSON bodies share: how strict they are and the fields a URL carries.

Each body subclasses its operation's contract request. The contract's requests defer building
their validators; FastAPI validates a body through a TypeAdapter, which warns that the body's
alias has no effect while the schema is deferred, so the bodies are built at import.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "LENIENT",
    "STRICT",
    "NonNegativeTimeout",
    "PathIgnored",
    "PathRefused",
    "PositiveTimeout",
]

STRICT = ConfigDict(extra="forbid", defer_build=False)
"""A body that refuses unknown fields (400 ``INVALID_ARGUMENT``)."""
LENIENT = ConfigDict(extra="ignore", defer_build=False)
"""A body that ignores unknown fields."""


def _ignored(value: object) -> str:
    return ""


def _refused(value: object) -> NoReturn:
    raise PydanticCustomError("extra_forbidden", "Extra inputs are not permitted")


PathIgnored = Annotated[str, BeforeValidator(_ignored), SkipJsonSchema()]
"""A field of the operation that the URL carries, in a lenient body: not in the body's
schema and, like any unknown field, ignored when sent (the handler takes it from the path)."""
PathRefused = Annotated[str, BeforeValidator(_refused), SkipJsonSchema()]
"""The same in a strict body: refused when sent, with the error of any unknown field."""

PositiveTimeout = Annotated[float | None, Field(gt=0, description="Seconds to wait at most.")]
"""A body's ``timeout`` where the route refuses one that is not positive (400 on
``body.timeout``); the operations themselves take any non-negative wait."""
NonNegativeTimeout = Annotated[float | None, Field(ge=0, description="Seconds to wait at most.")]
"""A body's ``timeout`` where the route refuses a negative one."""
