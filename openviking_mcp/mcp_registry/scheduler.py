"""The registry's scheduled refresh: a loop in every process that runs background work.

Every ``poll_seconds`` (the first time ``poll_seconds`` after it starts) it asks the registry
to refresh the servers that are due
(:meth:`~openviking_mcp.mcp_registry.service.McpRegistryService.refresh_due`); the claim on
each server's row makes one process refresh it even when several run the loop. A failure of
one pass is logged and the next pass tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from openviking_mcp._config_mcp_registry import McpRegistryConfig

__all__ = ["McpRegistryScheduler"]

_log = logging.getLogger(__name__)


class McpRegistryScheduler:
    """Starts and stops the refresh loop (module docs)."""

    def __init__(
        self, refresh_due: Callable[[], Awaitable[int]], settings: McpRegistryConfig
    ) -> None:
        self._refresh_due = refresh_due
        self._settings = settings
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None and self._settings.enabled:
            self._task = asyncio.create_task(self._loop(), name="openviking-mcp-registry")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _loop(self) -> None:
        while True:
            # first wait: a short-lived process (a CLI command) ends before it claims anything
            await asyncio.sleep(self._settings.poll_seconds)
            try:
                await self._refresh_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("MCP server refresh pass failed; trying again shortly")
