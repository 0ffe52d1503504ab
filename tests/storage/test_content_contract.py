"""The content store contract, run against every backend: the local folder and PostgreSQL.

The same assertions hold for both, so the backends cannot drift apart.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp.contract.errors import FailedPreconditionError, UnavailableError
from openviking_mcp.storage import ContentStore, LocalContentStore
from openviking_mcp.storage.postgres import PgContentStore, PgDatabase
from openviking_mcp.storage.postgres.content import CHUNK
from tests.pg import fresh_database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["local", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ContentStore]:
    if request.param == "local":
        local = LocalContentStore(tmp_path)
        await local.open()
        yield local
        await local.close()
        return
    with fresh_database() as dsn:
        db = PgDatabase(dsn, max_size=4)
        await db.open()
        pg = PgContentStore(db)
        await pg.open()
        try:
            yield pg
        finally:
            await pg.close()
            await db.close()


async def test_write_creates_parents_and_reads_back(store: ContentStore) -> None:
    assert await store.write_bytes("acme/resources/a/b/c.txt", b"hello") == 5
    assert await store.read_bytes("acme/resources/a/b/c.txt") == b"hello"
    entry = await store.stat("acme/resources/a/b/c.txt")
    assert (entry.name, entry.is_dir, entry.size) == ("c.txt", False, 5)
    assert (await store.stat("acme/resources/a")).is_dir
    assert [e.name for e in await store.listdir("acme/resources/a/b")] == ["c.txt"]
    assert await store.exists("acme/resources/a/b")
    assert not await store.exists("acme/resources/a/x")


async def test_writes_replace_and_appends_extend(store: ContentStore) -> None:
    await store.write_bytes("k/f", b"one")
    await store.write_bytes("k/f", b"two")
    await store.write_bytes("k/f", b"+three", append=True)
    await store.append_lines("k/log.jsonl", b'{"a": 1}\n')
    await store.append_lines("k/log.jsonl", b'{"a": 2}\n')
    assert await store.read_bytes("k/f") == b"two+three"
    assert (await store.stat("k/f")).size == 9
    assert await store.read_bytes("k/log.jsonl") == b'{"a": 1}\n{"a": 2}\n'
    with pytest.raises(ValueError, match="newline"):
        await store.append_lines("k/log.jsonl", b"no newline")


async def test_large_files_round_trip_and_append(store: ContentStore) -> None:
    big = bytes(range(256)) * (CHUNK * 5 // 2 // 256 + 1)
    await store.write_bytes("k/big.bin", big)
    await store.write_bytes("k/big.bin", b"tail", append=True)
    assert await store.read_bytes("k/big.bin") == big + b"tail"
    assert await store.read_prefix("k/big.bin", CHUNK + 3) == big[: CHUNK + 3]
    assert (await store.stat("k/big.bin")).size == len(big) + 4


async def test_errors_name_the_kind_of_mistake(store: ContentStore) -> None:
    await store.write_bytes("k/dir/file", b"x")
    with pytest.raises(FileNotFoundError):
        await store.read_bytes("k/missing")
    with pytest.raises(FileNotFoundError):
        await store.stat("k/dir/file/below")
    with pytest.raises(IsADirectoryError):
        await store.read_bytes("k/dir")
    with pytest.raises(IsADirectoryError):
        await store.write_bytes("k/dir", b"x")
    with pytest.raises(NotADirectoryError):
        await store.write_bytes("k/dir/file/below", b"x")
    with pytest.raises(NotADirectoryError):
        await store.listdir("k/dir/file")
    with pytest.raises(FileNotFoundError):
        await store.listdir("k/nowhere")
    with pytest.raises(PermissionError):
        await store.write_bytes("k/../escape", b"x")


async def test_mkdir(store: ContentStore) -> None:
    await store.mkdir("k/a/b")
    assert (await store.stat("k/a/b")).is_dir
    with pytest.raises(FileExistsError):
        await store.mkdir("k/a/b")
    await store.mkdir("k/a/b", exist_ok=True)
    await store.write_bytes("k/a/f", b"x")
    with pytest.raises(FileExistsError):
        await store.mkdir("k/a/f", exist_ok=True)


async def test_remove(store: ContentStore) -> None:
    await store.write_bytes("k/d/x", b"1")
    await store.write_bytes("k/d/sub/y", b"2")
    await store.write_bytes("k/d-sibling/z", b"3")
    await store.write_bytes("k/d.txt", b"4")
    with pytest.raises(OSError, match="not empty") as info:
        await store.remove("k/d")
    assert info.value.errno == errno.ENOTEMPTY
    await store.remove("k/d/x")
    assert not await store.exists("k/d/x")
    await store.remove("k/d", recursive=True)
    assert not await store.exists("k/d/sub/y")
    assert not await store.exists("k/d")
    assert await store.read_bytes("k/d-sibling/z") == b"3"  # a name sharing the prefix stays
    assert await store.read_bytes("k/d.txt") == b"4"
    with pytest.raises(FileNotFoundError):
        await store.remove("k/d")


async def test_move(store: ContentStore) -> None:
    await store.write_bytes("k/src/a.txt", b"a")
    await store.write_bytes("k/src/deep/b.txt", b"b")
    await store.write_bytes("k/taken", b"t")
    await store.move("k/src", "k/new/place")
    assert await store.read_bytes("k/new/place/deep/b.txt") == b"b"
    assert {e.name for e in await store.listdir("k/new/place")} == {"a.txt", "deep"}
    assert not await store.exists("k/src")
    await store.move("k/new/place/a.txt", "k/renamed.txt")
    assert await store.read_bytes("k/renamed.txt") == b"a"
    with pytest.raises(FileExistsError):
        await store.move("k/renamed.txt", "k/taken")
    with pytest.raises(FileNotFoundError):
        await store.move("k/gone", "k/elsewhere")


async def test_walk_is_depth_first_dirs_first_and_bounded(store: ContentStore) -> None:
    for key in ("k/r/b.txt", "k/r/a/z.txt", "k/r/a/deeper/q.txt", "k/r/c/y.txt", "k/r-x/n"):
        await store.write_bytes(key, b".")
    walked = [(e.key, e.depth) for e in await store.walk("k/r", 5, 100)]
    assert walked == [
        ("k/r/a", 1),
        ("k/r/a/deeper", 2),
        ("k/r/a/deeper/q.txt", 3),
        ("k/r/a/z.txt", 2),
        ("k/r/c", 1),
        ("k/r/c/y.txt", 2),
        ("k/r/b.txt", 1),
    ]
    shallow = [e.key for e in await store.walk("k/r", 1, 100)]
    assert shallow == ["k/r/a", "k/r/c", "k/r/b.txt"]
    assert len(await store.walk("k/r", 5, 2)) == 2


async def test_read_many_and_prefix(store: ContentStore) -> None:
    await store.write_bytes("k/one", b"1")
    await store.write_bytes("k/two", b"22")
    await store.write_bytes("k/empty", b"")
    await store.mkdir("k/dir")
    got = await store.read_many(["k/one", "k/two", "k/empty", "k/dir", "k/none"])
    assert got == {"k/one": b"1", "k/two": b"22", "k/empty": b"", "k/dir": None, "k/none": None}
    assert await store.read_prefix("k/two", 1) == b"2"
    assert await store.read_prefix("k/two", 0) == b""


async def test_concurrent_writes_of_many_files_all_land(store: ContentStore) -> None:
    await asyncio.gather(*(store.write_bytes(f"k/many/{i % 5}/f{i}", b"%d" % i) for i in range(60)))
    for i in range(60):
        assert await store.read_bytes(f"k/many/{i % 5}/f{i}") == b"%d" % i


async def test_disk_usage_reports_its_fields(store: ContentStore) -> None:
    usage = await store.disk_usage()
    assert set(usage) == {"total", "used", "free"}
    assert usage["used"] > 0


async def test_two_processes_share_one_database() -> None:
    """Two pools on one database (as two servers would hold) see each other's writes."""
    with fresh_database() as dsn:
        first, second = PgDatabase(dsn), PgDatabase(dsn)
        await asyncio.gather(first.open(), second.open())  # migrations serialise
        try:
            a, b = PgContentStore(first), PgContentStore(second)
            await a.write_bytes("k/shared.txt", b"from a")
            assert await b.read_bytes("k/shared.txt") == b"from a"
            await b.move("k/shared.txt", "k/moved.txt")
            assert not await a.exists("k/shared.txt")
        finally:
            await first.close()
            await second.close()


async def test_a_database_newer_than_the_code_is_refused() -> None:
    with fresh_database() as dsn:
        db = PgDatabase(dsn)
        await db.open()
        assert await db.execute("INSERT INTO ov_schema (version) VALUES (999)") == 1
        await db.close()
        with pytest.raises(FailedPreconditionError, match="newer than this code"):
            await PgDatabase(dsn).open()


async def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    dsn = f"host={tmp_path} port=1 dbname=nothing user=nobody"
    with pytest.raises(UnavailableError, match="unreachable"):
        await PgDatabase(dsn).open()
    with pytest.raises(FailedPreconditionError, match="not a valid connection string"):
        await PgDatabase("host=x nonsense_option=1").open()


async def test_a_folder_mtime_follows_its_entries_not_appends(store: ContentStore) -> None:
    async def folder_mtime_after(change: Any) -> float:
        before = (await store.stat("acme/s")).mtime
        await asyncio.sleep(0.02)
        await change
        return (await store.stat("acme/s")).mtime - before

    await store.mkdir("acme/s/old", exist_ok=True)
    assert await folder_mtime_after(store.write_bytes("acme/s/meta.json", b"{}")) > 0
    assert await folder_mtime_after(store.write_bytes("acme/s/meta.json", b"{1}")) > 0
    assert await folder_mtime_after(store.append_lines("acme/s/log.jsonl", b"a\n")) > 0
    assert await folder_mtime_after(store.append_lines("acme/s/log.jsonl", b"b\n")) == 0
    assert await folder_mtime_after(store.mkdir("acme/s/new")) > 0
    assert await folder_mtime_after(store.move("acme/s/new", "acme/s/newer")) > 0
    assert await folder_mtime_after(store.remove("acme/s/old")) > 0
    assert await store.read_bytes("acme/s/log.jsonl") == b"a\nb\n"
