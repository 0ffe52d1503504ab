"""What the routers' JSON bodies share: how strict they are and the fields a URL carries.

Each body subclasses its operation's contract request. The contract's requests defer building
their validators; FastAPI validates a body through a TypeAdapter, which warns that the body's
alias has no effect while the schema is deferred, so the bodies are built at import.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, ClassVar, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from openviking_mcp.contract.errors import UnimplementedError

__all__ = [
    "LENIENT",
    "STRICT",
    "NonNegativeTimeout",
    "PathIgnored",
    "PathRefused",
    "PositiveTimeout",
    "UpstreamFields",
]

logger = logging.getLogger("openviking_mcp.http")

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


class UpstreamFields(BaseModel):
    """A body that also takes the original OpenViking's request fields it has no use for.

    ``upstream_ignored``: dropped before validation (so a strict body still refuses a typo,
    naming it) and, when sent, named in one INFO log line; a lenient body names any other
    unknown field in that line too. ``upstream_unsupported``: features
    that ignoring would get wrong (less access control, another import pipeline): taken when
    null, false or empty, else answered 501 naming the field. ``upstream_nullable``: the
    original's optional fields that this server gives a default: a ``null`` reads as not sent.
    """

    upstream_ignored: ClassVar[frozenset[str]] = frozenset()
    upstream_unsupported: ClassVar[frozenset[str]] = frozenset()
    upstream_nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _known(cls, name: str) -> bool:
        """Whether ``name`` is one of the body's fields, by name or alias."""
        fields = cls.model_fields
        return name in fields or any(name in (f.alias, f.validation_alias) for f in fields.values())

    @model_validator(mode="before")
    @classmethod
    def _drop_upstream_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name in sorted(cls.upstream_unsupported):
            if data.get(name) not in (None, False, "", [], {}):
                raise UnimplementedError(
                    f"'{name}' is not supported by this server", {"field": name}
                )
        dropped = cls.upstream_ignored | cls.upstream_unsupported
        sent = sorted(name for name in cls.upstream_ignored if name in data)
        if cls.model_config.get("extra") == "ignore":
            sent += sorted(name for name in data if name not in dropped and not cls._known(name))
        if sent:
            logger.info("%s: ignoring unsupported fields: %s", cls.__name__, ", ".join(sent))
        return {
            k: v
            for k, v in data.items()
            if k not in dropped and not (v is None and k in cls.upstream_nullable)
        }
