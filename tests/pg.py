"""A real PostgreSQL (with pgvector) for the tests.

``OV_TEST_PG_DSN`` points the suite at an external server. Otherwise each pytest worker
starts its own PostgreSQL 16 from the ``pgserver`` package, once, in a fixed folder per worker
under the temporary directory (a server left by a killed run is taken over, not duplicated),
and stops it at exit. Each test gets a database of its own, dropped after the test.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg

__all__ = ["fresh_database", "server_dsn"]


@cache
def server_dsn() -> str:
    """The DSN of this worker's server (its ``postgres`` database)."""
    external = os.environ.get("OV_TEST_PG_DSN")
    if external:
        return external
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    folder = Path(tempfile.gettempdir()) / f"ovtest-pg-{worker}"
    server = pgserver.get_server(folder, cleanup_mode="stop")  # type: ignore[attr-defined]
    return str(server.get_uri())


def _with_database(dsn: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})


@contextmanager
def fresh_database() -> Iterator[str]:
    """The DSN of a new, empty database on the test server, dropped afterwards."""
    admin = server_dsn()
    name = f"ovt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
