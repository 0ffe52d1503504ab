"""Shared fixtures: a temporary workspace per test, embedded clients and a service on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenViking, OpenVikingConfig, RequestContext

__all__ = ["hashing_config"]


def hashing_config(workspace: Path) -> OpenVikingConfig:
    """A workspace with the hashing embedder: fast and offline, enough to see the index follow
    the files (modules return it from their own ``config`` fixture)."""
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ~/.openviking/ov.conf or OPENVIKING_* variables."""
    for name in list(os.environ):
        if name.startswith("OPENVIKING"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict({"storage": {"workspace": str(workspace)}})


@pytest.fixture
def ov(workspace: Path) -> Iterator[OpenViking]:
    with OpenViking(path=workspace) as client:
        yield client


@pytest.fixture
async def service(config: OpenVikingConfig) -> AsyncIterator[ContextService]:
    svc = ContextService(config)
    await svc.initialize()
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
def ctx(service: ContextService) -> RequestContext:
    """The dev-mode caller of :func:`service` (modules may override it)."""
    return service.dev_context()


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """The DSN of a new, empty PostgreSQL database (with pgvector), dropped after the test."""
    from tests.pg import fresh_database

    with fresh_database() as dsn:
        yield dsn
