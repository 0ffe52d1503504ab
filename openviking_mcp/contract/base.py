"""The building blocks of every contract model: requests, results and how they travel.

* :class:`Request` is what an operation takes. Unknown fields are refused; a request that does
  not validate raises :class:`~openviking_mcp.contract.errors.InvalidArgumentError` with the
  pydantic errors in ``details.validation_errors`` (:func:`parse_request`).
* :class:`Result` is what an operation returns. :func:`to_wire` turns any result (a model, a
  list of them, a string...) into the JSON value that the HTTP API sends and the Python clients
  return. Fields made with :func:`omitted` leave the JSON when they are ``None``, so an answer
  has a key only where the operation has something to say.

Every model defers building its validators until first use, so importing the contract (as the
HTTP client and the CLI do) costs milliseconds, not the build of a few hundred schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    validation_items,
    validation_problem,
)

__all__ = [
    "Empty",
    "Integer",
    "OpenResult",
    "Request",
    "Result",
    "omitted",
    "parse_request",
    "to_wire",
]

R = TypeVar("R", bound="Request")


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


Integer = Annotated[int, BeforeValidator(_not_bool)]
"""An ``int`` field that refuses ``true``/``false`` (which pydantic would read as 1/0)."""


class Request(BaseModel):
    """The arguments of one operation."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


class Empty(Request):
    """The arguments of an operation that takes none."""


class Result(BaseModel):
    """The answer of one operation; :meth:`wire` is its JSON form."""

    model_config = ConfigDict(
        defer_build=True, populate_by_name=True, serialize_by_alias=True, extra="forbid"
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class OpenResult(Result):
    """A result that carries extra keys as they are (stored metadata, task results)."""

    model_config = ConfigDict(extra="allow")


def _is_none(value: object) -> bool:
    return value is None


def omitted(default: Any = None, **kwargs: Any) -> Any:
    """A field that leaves the JSON form when it is ``None``."""
    return Field(default, exclude_if=_is_none, **kwargs)


def parse_request(model: type[R], data: Mapping[str, Any] | R) -> R:
    """``data`` as a ``model``; what does not validate is ``INVALID_ARGUMENT``."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise InvalidArgumentError(
            f"Invalid request: {validation_problem(errors)}",
            {"validation_errors": validation_items(errors)},
        ) from None


def to_wire(value: Any) -> Any:
    """The JSON value of a result: models dumped by alias, containers element by element;
    strings, numbers, bytes and paths stay as they are."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, Path):
        return value
    return value
