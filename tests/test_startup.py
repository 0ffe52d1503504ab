"""``Startup``: the steps of a background start, what is still loading, and waiting for it."""

from __future__ import annotations

import asyncio

import pytest

from openviking_mcp.contract.errors import UnavailableError
from openviking_mcp.startup import BUNDLED_SKILLS, EMBEDDING_MODEL, STORAGE, Startup

pytestmark = pytest.mark.anyio


class Steps:
    """Steps that finish when the test says so, recording the order they finish in."""

    def __init__(self) -> None:
        self.gates = {name: asyncio.Event() for name in (STORAGE, EMBEDDING_MODEL, BUNDLED_SKILLS)}
        self.done: list[str] = []
        self.fail: set[str] = set()
        self.finished = asyncio.Event()  # the last step ran

    def step(self, name: str) -> object:
        async def run() -> None:
            await self.gates[name].wait()
            if name in self.fail:
                raise RuntimeError(f"{name} broke")
            self.done.append(name)
            if name == BUNDLED_SKILLS:
                self.finished.set()

        return run

    def startup(self, wait_seconds: float = 30.0) -> Startup:
        return Startup(
            self.step(STORAGE),  # type: ignore[arg-type]
            self.step(EMBEDDING_MODEL),  # type: ignore[arg-type]
            self.step(BUNDLED_SKILLS),  # type: ignore[arg-type]
            wait_seconds=wait_seconds,
        )


async def test_loading_shrinks_as_steps_finish() -> None:
    steps = Steps()
    startup = steps.startup()
    startup.start()
    await asyncio.sleep(0)
    assert startup.loading == [STORAGE, EMBEDDING_MODEL, BUNDLED_SKILLS]
    assert [startup.serving] == [False]
    steps.gates[EMBEDDING_MODEL].set()
    steps.gates[STORAGE].set()
    await startup.wait_serving()
    assert startup.serving
    assert startup.loading == [BUNDLED_SKILLS]  # the skills do not hold requests back
    steps.gates[BUNDLED_SKILLS].set()
    await asyncio.wait_for(steps.finished.wait(), 30)
    assert startup.loading == []
    assert sorted(steps.done[:2]) == sorted([EMBEDDING_MODEL, STORAGE])
    assert steps.done[2] == BUNDLED_SKILLS
    await startup.close()


async def test_waiting_past_the_bound_is_unavailable() -> None:
    steps = Steps()
    startup = steps.startup(wait_seconds=0.05)
    startup.start()
    with pytest.raises(UnavailableError) as info:
        await startup.wait_serving()
    assert info.value.details["reason"] == "starting"
    assert info.value.details["loading"] == [STORAGE, EMBEDDING_MODEL, BUNDLED_SKILLS]
    await startup.close()


async def test_a_model_that_fails_to_load_does_not_stop_the_start() -> None:
    steps = Steps()
    steps.fail.add(EMBEDDING_MODEL)
    for gate in steps.gates.values():
        gate.set()
    startup = steps.startup()
    await startup.run()
    assert startup.serving
    assert startup.loading == []
    assert steps.done == [STORAGE, BUNDLED_SKILLS]


async def test_storage_that_fails_to_open_fails_the_start() -> None:
    steps = Steps()
    steps.fail.add(STORAGE)
    for gate in steps.gates.values():
        gate.set()
    startup = steps.startup()
    startup.start()
    with pytest.raises(UnavailableError) as info:
        await startup.wait_serving()
    assert info.value.details == {"reason": "start_failed"}
    assert isinstance(startup.error, RuntimeError)
    assert not startup.serving
    assert BUNDLED_SKILLS not in steps.done
    with pytest.raises(RuntimeError, match="storage broke"):
        await steps.startup().run()
