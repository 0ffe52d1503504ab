"""What both search index classes (the LanceDB table and the PostgreSQL rows) share: the
embedding model and dimension they are open for, and the background optimize (one run at a
time, requests made while one runs coalesced into a single follow-up run, a failure logged
and never raised).

Light: it loads neither LanceDB nor Arrow, so the PostgreSQL backend uses it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Any

__all__ = ["IndexBase"]

logger = logging.getLogger("openviking_mcp.index")


class IndexBase(ABC):
    """The base class of both search indexes (see the module docs).

    The index sets ``_model_id``/``_dimension`` when it opens, provides :meth:`optimize`,
    :attr:`is_open` and ``path`` (what the log names the index by) and calls
    :meth:`_stop_optimizer` before it closes."""

    #: What log messages name the index by (a folder, or the database and table).
    path: Any
    _model_id = ""
    _dimension = 0
    _optimize_task: asyncio.Task[None] | None = None
    _optimize_again = False

    @property
    def model_id(self) -> str:
        """The embedding model of the open index (``""`` before :meth:`open`)."""
        return self._model_id

    @property
    def dimension(self) -> int:
        """The vector dimension of the open index (0 before :meth:`open`)."""
        return self._dimension

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the index is open (a closed one is never optimized in the background)."""

    @abstractmethod
    async def optimize(self) -> None:
        """One optimize run (the backend's own work)."""

    def read_scope(self) -> AbstractAsyncContextManager[None]:
        """The searches run inside share one view of the index: a backend that checks
        other processes' writes before a search checks once, at the first (one find runs
        several searches). Nothing to do for an index that is always current."""
        return contextlib.nullcontext()

    def schedule_optimize(self) -> None:
        """Start :meth:`optimize` in the background; requests made while one runs coalesce
        into a single follow-up run. Needs a running event loop (otherwise a no-op)."""
        if not self.is_open:
            return
        if self._optimize_task is not None and not self._optimize_task.done():
            self._optimize_again = True
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._optimize_again = False
        self._optimize_task = loop.create_task(self._optimize_in_background())

    async def _optimize_in_background(self) -> None:
        while True:
            self._optimize_again = False
            try:
                await self.optimize()
            except Exception:
                logger.warning("Background optimize of %s failed", self.path, exc_info=True)
            if not self._optimize_again or not self.is_open:
                return

    async def _stop_optimizer(self) -> None:
        """Wait for a running background optimize (no follow-up run starts)."""
        self._optimize_again = False
        task, self._optimize_task = self._optimize_task, None
        if task is not None and not task.done():
            await asyncio.wait({task})
