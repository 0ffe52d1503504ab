"""Opening and closing a client, as ``with``/``async with`` blocks (shared by every client)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncLifecycle", "SyncLifecycle"]


class AsyncLifecycle:
    """``async with client:`` runs :meth:`initialize`, then :meth:`close` on the way out."""

    async def initialize(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class SyncLifecycle:
    """``with client:`` runs :meth:`initialize`, then :meth:`close` on the way out."""

    def initialize(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.initialize()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
