"""Blocking twins of the clients' async operation methods."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

__all__ = ["NULLABLE_OPTIONS", "SyncCaller", "arguments", "blocking", "forwarded", "streaming"]

P = ParamSpec("P")
T = TypeVar("T")

NULLABLE_OPTIONS = frozenset({"auto_commit_policy"})
"""The SDK's options whose ``None`` is a value (``auto_commit_policy: None``: no automatic
commits), not "leave it as it is"."""


class SyncCaller:
    """A client whose operation methods block; it implements :meth:`_call_sync`."""

    def _call_sync(self, name: str, arguments: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _stream_sync(self, name: str, arguments: dict[str, Any]) -> Iterator[Any]:
        raise NotImplementedError


def arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """A method's arguments as sent: without ``self`` and without those left at ``None`` (the
    operation's own default applies). An ``options`` mapping (openviking-sdk's way of passing
    further request fields, its ``extra`` mapping too) is spread into the fields; like the SDK,
    its values win over the named arguments. Of the options, only those in
    :data:`NULLABLE_OPTIONS` are sent when ``None`` (as the SDK sends them: a ``null`` that
    means "off")."""
    args = {k: v for k, v in values.items() if k != "self" and v is not None}
    options = args.pop("options", None)
    if isinstance(options, Mapping):
        extra = options.get("extra")
        spread = {
            k: v
            for k, v in options.items()
            if k != "extra" and (v is not None or k in NULLABLE_OPTIONS)
        }
        args.update(spread | (dict(extra) if isinstance(extra, Mapping) else {}))
    elif options is not None:
        args["options"] = options
    return args


@functools.cache
def _signature(method: Callable[..., Any]) -> inspect.Signature:
    """A method's signature, worked out on its first call (not when the client is imported)."""
    return inspect.signature(method)


def _bound(
    method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """A call's arguments by name, defaults applied and ``**options`` spread out."""
    signature = _signature(method)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_KEYWORD:
            values.update(values.pop(name, {}))
    return values


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[SyncCaller, P], T]:
    """The blocking method of an async operation method (same signature and docs): its bound
    arguments go to the client's ``_call_sync``."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: SyncCaller, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, self._call_sync(name, _bound(method, (self, *args), kwargs)))

    return call


def streaming(
    method: Callable[Concatenate[Any, P], AsyncIterator[T]],
) -> Callable[Concatenate[SyncCaller, P], Iterator[T]]:
    """The blocking method of an async-iterator method: a plain iterator over the client's
    ``_stream_sync`` (same parameters and docs)."""
    signature = _signature(method)
    name = method.__name__

    @functools.wraps(method)
    def call(self: SyncCaller, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return cast(Iterator[T], self._stream_sync(name, _bound(method, (self, *args), kwargs)))

    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("AsyncIterator["):
        returns = returns[len("Async") :]
    call.__dict__["__signature__"] = signature.replace(return_annotation=returns)
    return call


def forwarded(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Any, P], T]:
    """The blocking twin of an async client's own method (not an operation): the same method of
    the driven client ``_async``, run by the blocking client's ``_run`` (same signature, docs)."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, self._run(getattr(self._async, name)(*args, **kwargs)))

    return call
