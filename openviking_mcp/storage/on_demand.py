"""A search index that opens on first use.

A short-lived process (one CLI command) that lists or reads files never needs the index, and
opening it costs more than the command itself (LanceDB and Arrow load, the table opens).
:class:`OnDemandIndex` stands where the :class:`~openviking_mcp.storage.index.SearchIndex`
would be: the first awaited call opens the index through ``open_index`` and then runs on it;
the sync attributes come from the (not yet open) index object itself, except
:attr:`OnDemandIndex.is_open`, which says whether the index can be used.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openviking_mcp.storage.index import SearchIndex

__all__ = ["OnDemandIndex"]


class OnDemandIndex:
    """See the module docs. ``index`` builds the index object (not open), ``open_index``
    opens it once and returns it (or raises why it cannot be used), ``usable`` says whether
    it may still be opened (the store is open and no error is known)."""

    def __init__(
        self,
        index: Callable[[], SearchIndex],
        open_index: Callable[[], Awaitable[SearchIndex]],
        usable: Callable[[], bool],
    ) -> None:
        self._index = index
        self._open_index = open_index
        self._usable = usable

    @property
    def is_open(self) -> bool:
        """Whether the index can be used: it opens on the first call."""
        return self._usable()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._index(), name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        opener = self._open_index

        async def call(*args: Any, **kwargs: Any) -> Any:
            opened = await opener()
            return await getattr(opened, name)(*args, **kwargs)

        return call
