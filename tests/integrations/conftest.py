"""The toolkit tests' store: an embedded one holding the note the scripted models look for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openviking_mcp import AsyncOpenViking
from tests.conftest import hashing_config
from tests.integrations._toolkits import NOTE, NOTE_URI


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncOpenViking]:
    async with AsyncOpenViking(config=hashing_config(tmp_path / "data")) as ov:
        await ov.write(NOTE_URI, NOTE, mode="create", wait=True)
        yield ov
