"""Starting on the postgres backend: the database is checked before anything serves, and an
unusable one stops `serve` and `worker` with exit status 2 and the reason."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from openviking_mcp.config import OpenVikingConfig, load_config, redact_dsn
from openviking_mcp.contract.errors import ConfigError
from tests.servers import clean_env, exe, free_port

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path)
    env["OPENVIKING__STORAGE__BACKEND"] = "postgres"
    env["OPENVIKING__STORAGE__POSTGRES__DSN"] = dsn
    return subprocess.run(
        [exe("openviking-mcp"), "--path", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_backend_needs_a_dsn_and_env_selects_it() -> None:
    with pytest.raises(ConfigError, match=r"storage\.postgres\.dsn"):
        OpenVikingConfig.from_dict({"storage": {"backend": "postgres"}})
    config = load_config(
        environ={
            "OPENVIKING__STORAGE__BACKEND": "postgres",
            "OPENVIKING__STORAGE__POSTGRES__DSN": "postgresql://ov:pw@db:5432/ov",
            "OPENVIKING__STORAGE__POSTGRES__POOL_MAX": "4",
        }
    )
    assert config.storage.uses_postgres
    assert config.storage.postgres.pool_max == 4
    assert redact_dsn(config.storage.postgres.dsn) == "postgresql://ov:***@db:5432/ov"
    assert redact_dsn("host=db password='p w' user=ov") == "host=db password=*** user=ov"


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_an_unreachable_database_stops_the_start_with_status_2(
    tmp_path: Path, command: list[str]
) -> None:
    port = free_port()  # nothing listens there
    done = _run(tmp_path, f"postgresql://ov:secret@127.0.0.1:{port}/ov", *command)
    assert done.returncode == 2, done.stderr
    assert "unreachable" in done.stderr
    assert "secret" not in done.stderr
    assert "Listening" not in done.stderr
    assert "Uvicorn running" not in done.stderr


def test_an_invalid_dsn_stops_the_start_with_status_2(tmp_path: Path) -> None:
    done = _run(tmp_path, "host=127.0.0.1 nonsense_option=1", "serve")
    assert done.returncode == 2, done.stderr
    assert "storage.postgres" in done.stderr


def test_a_user_who_may_not_create_pgvector_is_told_how_to_fix_it(
    tmp_path: Path, pg_dsn: str
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE ROLE ov_plain LOGIN PASSWORD 'pw' NOSUPERUSER")
        conn.execute("GRANT ALL ON SCHEMA public TO ov_plain")
        dbname = conn.info.dbname
        host, port = conn.info.host, conn.info.port
    try:
        dsn = f"host={host} port={port} dbname={dbname} user=ov_plain password=pw"
        done = _run(tmp_path, dsn, "worker")
        assert done.returncode == 2, done.stderr
        assert "CREATE EXTENSION vector" in done.stderr
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("DROP OWNED BY ov_plain")
            conn.execute("DROP ROLE ov_plain")


@pytest.mark.anyio
async def test_doctor_checks_the_database_without_changing_it(tmp_path: Path, pg_dsn: str) -> None:
    from openviking_mcp.doctor.service import DoctorService

    def storage(dsn: str) -> dict[str, Any]:
        return {
            "storage": {
                "workspace": str(tmp_path / "data"),
                "backend": "postgres",
                "postgres": {"dsn": dsn},
            },
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }

    report = await DoctorService(overrides=storage(pg_dsn), environ={}).run()
    database = next(c for c in report.checks if c.name == "database")
    assert database.status == "ok", database.detail
    assert "schema version 0; the next start migrates it" in database.detail
    with psycopg.connect(pg_dsn) as conn:  # read only: no schema was written
        assert conn.execute("SELECT to_regclass('ov_schema')").fetchone() == (None,)

    from openviking_mcp import ContextService

    service = ContextService(OpenVikingConfig.from_dict(storage(pg_dsn)))
    await service.initialize()
    await service.close()
    report = await DoctorService(overrides=storage(pg_dsn), environ={}).run()
    checks = {c.name: c for c in report.checks}
    from openviking_mcp.storage.postgres._schema import MIGRATIONS

    assert checks["database"].detail.endswith(f"schema {len(MIGRATIONS)}")
    assert checks["search index"].status == "ok", checks["search index"].detail
    other = storage(pg_dsn)
    other["embedding"]["dense"]["dimension"] = 32
    report = await DoctorService(overrides=other, environ={}).run()
    index = next(c for c in report.checks if c.name == "search index")
    assert index.status == "fail"
    assert "64" in index.detail

    port = free_port()
    report = await DoctorService(
        overrides=storage(f"postgresql://ov:pw@127.0.0.1:{port}/ov"), environ={}
    ).run()
    database = next(c for c in report.checks if c.name == "database")
    assert database.status == "fail"
    assert "unreachable" in database.detail
    assert report.ok is False
