"""Errors the search index raises: storage failures, bad model arguments, model mismatch.

``OSError`` from LanceDB is reported as :class:`UnavailableError` by :func:`unavailable`;
:func:`check_model` validates a model id and dimension before a table is opened;
:func:`mismatch_error` explains that an existing index was built for another model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    UnavailableError,
)

__all__ = ["check_model", "mismatch_error", "unavailable"]


@contextlib.contextmanager
def unavailable(path: Path, operation: str) -> Iterator[None]:
    """Report storage-level failures (``OSError``) of LanceDB as :class:`UnavailableError`."""
    try:
        yield
    except OSError as exc:
        raise UnavailableError(
            f"Search index at {path} is unavailable ({operation}): {exc}",
            {"path": str(path), "operation": operation},
        ) from exc


def check_model(model_id: str, dimension: int) -> None:
    """Reject an empty model id or a non-positive dimension."""
    if not model_id:
        raise InvalidArgumentError("An embedding model id is required", {"model_id": model_id})
    if int(dimension) <= 0:
        raise InvalidArgumentError(
            "The vector dimension must be positive", {"dimension": dimension}
        )


def mismatch_error(
    index_model: str | None, index_dim: int | None, model_id: str, dimension: int
) -> FailedPreconditionError:
    """The error for an index built with another model or dimension than the configured one."""
    built = f"{index_model!r} ({index_dim} dimensions)" if index_model else "an unknown model"
    return FailedPreconditionError(
        f"The search index was built with embedding model {built}, but the configured model "
        f"is {model_id!r} ({dimension} dimensions). Vectors of different models cannot be "
        "mixed: run `openviking-mcp reindex --all` to rebuild the index.",
        {
            "index_model": index_model,
            "index_dimension": index_dim,
            "configured_model": model_id,
            "configured_dimension": dimension,
            "fix": "openviking-mcp reindex --all",
        },
    )
