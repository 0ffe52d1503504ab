"""Shared fixtures: a temporary workspace per test, embedded clients and a service on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenViking, OpenVikingConfig, RequestContext

__all__ = ["hashing_config"]


def hashing_config(workspace: Path, storage: dict[str, Any] | None = None) -> OpenVikingConfig:
    """A workspace with the hashing embedder: fast and offline, enough to see the index follow
    the files (modules return it from their own ``config`` fixture). ``storage``: the
    section of the test's backend (the ``storage_section`` fixture)."""
    return OpenVikingConfig.from_dict(
        {
            "storage": storage or {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of modules marked ``both_backends`` run on the local and the postgres backend."""
    marked = metafunc.definition.get_closest_marker("both_backends") is not None
    if marked and "storage_backend" in metafunc.fixturenames:
        metafunc.parametrize("storage_backend", ["local", "postgres"])


@pytest.fixture
def storage_backend() -> str:
    """The storage backend of the test (``local`` unless its module is ``both_backends``)."""
    return "local"


@pytest.fixture
def storage_section(
    storage_backend: str, workspace: Path, request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The ``storage`` section of the test's config: the workspace, and on the postgres
    backend a new database of its own."""
    section: dict[str, Any] = {"workspace": str(workspace)}
    if storage_backend == "postgres":
        section.update(backend="postgres", postgres={"dsn": request.getfixturevalue("pg_dsn")})
    return section


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
def config(storage_section: dict[str, Any]) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict({"storage": storage_section})


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
