"""Starting a service in the background, so a server answers its probes while it loads.

A :class:`Startup` runs three steps: open the storage (the metadata database, the index),
load the embedding model (both at once), then install the bundled skills on a fresh
workspace. Once the first two are done the service *serves*; the last step only delays
readiness. Requests that need the service call :meth:`Startup.wait_serving`, which waits up to
a bound and then fails with ``UNAVAILABLE``; probes read :attr:`Startup.loading` instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from openviking_mcp._aio import wait_event
from openviking_mcp._logging import log_failure
from openviking_mcp.contract.errors import OpenVikingError, UnavailableError

__all__ = ["BUNDLED_SKILLS", "EMBEDDING_MODEL", "STORAGE", "Startup"]

logger = logging.getLogger("openviking_mcp.startup")

STORAGE = "storage"
"""Step name: the content tree, the metadata database and the search index."""
EMBEDDING_MODEL = "embedding model"
BUNDLED_SKILLS = "bundled skills"

Step = Callable[[], Awaitable[object]]


class Startup:
    """The start of one service: ``open_storage`` and ``load_model`` run together, then
    ``install_skills`` (``None``: no such step; without ``load_model`` the model loads on
    first use). Run it inline with :meth:`run` or in the background with :meth:`start`."""

    def __init__(
        self,
        open_storage: Step,
        load_model: Step | None,
        install_skills: Step | None = None,
        *,
        wait_seconds: float = 60.0,
    ) -> None:
        self._open_storage = open_storage
        self._load_model = load_model
        self._install_skills = install_skills
        self.wait_seconds = wait_seconds
        self._loading: list[str] = [STORAGE]
        if load_model is not None:
            self._loading.append(EMBEDDING_MODEL)
        if install_skills is not None:
            self._loading.append(BUNDLED_SKILLS)
        self._serving = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        """Why the service cannot serve: opening the storage failed."""

    @property
    def loading(self) -> list[str]:
        """The steps not done yet, in order (empty once started, or after a failure)."""
        return list(self._loading) if self.error is None else []

    @property
    def serving(self) -> bool:
        """Whether requests may run: the storage is open and the model loaded."""
        return self._serving.is_set() and self.error is None

    def start(self) -> None:
        """Run the steps in a background task (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run_logged())

    async def run(self) -> None:
        """Run the steps now; a failure to open the storage is raised."""
        await self._run()
        if self.error is not None:
            raise self.error

    async def close(self) -> None:
        """Stop a background start that is still running."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait_serving(self, timeout: float | None = None) -> None:
        """Return once requests may run; ``UNAVAILABLE`` after ``timeout`` seconds (default
        :attr:`wait_seconds`) or when the start failed."""
        if not self._serving.is_set():
            bound = self.wait_seconds if timeout is None else timeout
            if not await wait_event(self._serving, bound):
                raise UnavailableError(
                    f"The server is still starting (loading: {', '.join(self.loading)}); "
                    f"gave up after {bound:g} s",
                    {"reason": "starting", "loading": self.loading, "waited_seconds": bound},
                ) from None
        if self.error is not None:
            raise UnavailableError(
                f"The server could not start: {_describe(self.error)}",
                {"reason": "start_failed"},
            )

    # -- steps -----------------------------------------------------------------------------

    async def _run_logged(self) -> None:
        try:
            await self._run()
        finally:
            if self.error is not None:
                log_failure(logger, "the server could not start", exc=self.error)

    async def _run(self) -> None:
        """Storage and model at once, then the skills; a model that fails to load is only
        logged (each embedding will try again and name the problem)."""
        load_model = self._load_model or _nothing
        storage, model = await asyncio.gather(
            self._step(STORAGE, self._open_storage),
            self._step(EMBEDDING_MODEL, load_model),
            return_exceptions=True,
        )
        if isinstance(storage, BaseException):
            self.error = storage
            self._serving.set()
            return
        if isinstance(model, BaseException):
            log_failure(logger, "the embedding model could not be loaded", exc=model)
        self._serving.set()
        if self._install_skills is not None:
            try:
                await self._step(BUNDLED_SKILLS, self._install_skills)
            except Exception as exc:  # the server works without them
                log_failure(logger, "the bundled skills could not be installed", exc=exc)

    async def _step(self, name: str, step: Step) -> None:
        try:
            await step()
        finally:
            if name in self._loading:
                self._loading.remove(name)


async def _nothing() -> None:
    return None


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, OpenVikingError) else type(exc).__name__
