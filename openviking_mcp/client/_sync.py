"""Blocking twins of the clients' async operation methods."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

__all__ = ["SyncCaller", "arguments", "blocking"]

P = ParamSpec("P")
T = TypeVar("T")


class SyncCaller:
    """A client whose operation methods block; it implements :meth:`_call_sync`."""

    def _call_sync(self, name: str, arguments: dict[str, Any]) -> Any:
        raise NotImplementedError


def arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """A method's arguments as sent: without ``self`` and without those left at ``None`` (the
    operation's own default applies)."""
    return {k: v for k, v in values.items() if k != "self" and v is not None}


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[SyncCaller, P], T]:
    """The blocking method of an async operation method (same signature and docs): its bound
    arguments go to the client's ``_call_sync``."""
    signature = inspect.signature(method)
    name = method.__name__

    @functools.wraps(method)
    def call(self: SyncCaller, /, *args: P.args, **kwargs: P.kwargs) -> T:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        return cast(T, self._call_sync(name, dict(bound.arguments)))

    returns = signature.return_annotation
    call.__dict__["__signature__"] = signature.replace(return_annotation=returns)
    return call
