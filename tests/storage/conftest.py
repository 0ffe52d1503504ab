"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openviking_mcp.storage.metadata import MetadataDB


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[MetadataDB]:
    """An open metadata database in ``tmp_path``."""
    database = MetadataDB(tmp_path / "meta.sqlite3")
    database.open()
    yield database
    database.close()
