"""The PostgreSQL search index as several processes use it: two :class:`PgVectorIndex`
instances with pools of their own on one database stand for two servers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from openviking_mcp.contract.errors import FailedPreconditionError, NotInitializedError
from openviking_mcp.contract.observer import IndexDetails
from openviking_mcp.storage.index import IndexFilter, IndexRecord, SearchIndex, VectorIndex
from openviking_mcp.storage.postgres import PgDatabase
from openviking_mcp.storage.postgres import _index_admin as admin_module
from openviking_mcp.storage.postgres.index import PgVectorIndex
from tests.pg import fresh_database
from tests.storage.test_index_memory import FILTERS, record

pytestmark = pytest.mark.anyio

DIM = 8
MODEL = "test-model"
ACC = "acme"


def both_are_search_indexes(local: VectorIndex, pg: PgVectorIndex) -> list[SearchIndex]:
    """Type-checked by mypy: both backends satisfy the interface."""
    return [local, pg]


def axis(i: int) -> np.ndarray:
    out = np.zeros(DIM, dtype=np.float32)
    out[i] = 1.0
    return out


def rec(uri: str, text: str = "", vector: np.ndarray | None = None) -> IndexRecord:
    return IndexRecord(
        uri=uri,
        level=2,
        account_id=ACC,
        context_type="resource",
        vector=axis(0) if vector is None else vector,
        text=text,
        parent_uri="viking://resources",
    )


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    with fresh_database() as url:
        yield url


async def _server(
    dsn: str, memory_max_rows: int = 400_000, hnsw: tuple[int, int, int] = (16, 64, 0)
) -> PgVectorIndex:
    """One "server": a pool of its own and an index on it (``hnsw``: m, ef_construction,
    ef_search)."""
    db = PgDatabase(dsn, max_size=3, hnsw_ef_search=hnsw[2])
    await db.open()
    index = PgVectorIndex(db, memory_max_rows=memory_max_rows, hnsw_build=hnsw[:2])
    await index.open(MODEL, DIM)
    return index


async def _stop(*indexes: PgVectorIndex) -> None:
    for index in indexes:
        await index.close()
        await index._db.close()


async def test_writes_of_one_server_reach_the_others_mirror(dsn: str) -> None:
    one, two = await _server(dsn), await _server(dsn)
    flt = IndexFilter(account_id=ACC)
    try:
        assert await two.fts_search("kestrel", flt, 5) == []  # mirror loaded, empty
        await one.upsert([rec("viking://resources/a", "codename KESTREL", axis(1))])
        hits = await two.fts_search("kestrel", flt, 5)
        assert [h.record.uri for h in hits] == ["viking://resources/a"]
        assert (await two.vector_search(axis(1), flt, 5))[0].score == pytest.approx(1.0)
        assert two._mirror.rows == 1  # answered from memory
        await one.set_tags(ACC, ["viking://resources/a"], ["red"])
        await one.increment_active(ACC, ["viking://resources/a"])
        (hit,) = await two.vector_search(axis(1), flt, 5)
        assert (hit.record.tags, hit.record.active_count) == (["red"], 1)
        await one.delete(IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/a",)))
        assert await two.fts_search("kestrel", flt, 5) == []
        assert await two.vector_search(axis(1), flt, 5) == []
        await two.upsert([rec("viking://resources/b", "osprey")])
        await two.delete_ids([rec("viking://resources/b").id])
        assert await one.fts_search("osprey", flt, 5) == []
        assert await one.count() == 0
    finally:
        await _stop(one, two)


async def test_a_read_scope_checks_once_and_concurrent_searches_share_a_check(
    dsn: str,
) -> None:
    one, two = await _server(dsn), await _server(dsn)
    flt = IndexFilter(account_id=ACC)
    try:
        await one.upsert([rec("viking://resources/a", "codename heron", axis(1))])
        checks = two._mirror._started
        async with two.read_scope():
            assert len(await two.fts_search("heron", flt, 5)) == 1  # the scope's one check
            await one.upsert([rec("viking://resources/b", "codename heron", axis(2))])
            for _ in range(4):  # later searches of the scope keep its view
                assert len(await two.fts_search("heron", flt, 5)) == 1
                assert len(await two.vector_search(axis(2), flt, 5)) == 1
        assert two._mirror._started == checks + 1
        assert len(await two.fts_search("heron", flt, 5)) == 2  # a new search sees it
        checks = two._mirror._started
        found = await asyncio.gather(*(two.fts_search("heron", flt, 5) for _ in range(12)))
        assert all(len(hits) == 2 for hits in found)
        assert two._mirror._started - checks <= 2  # one in flight, one shared by the rest
    finally:
        await _stop(one, two)


async def test_a_write_committed_late_is_not_skipped(dsn: str) -> None:
    """A transaction that started before another writer's commit but commits after the
    reader refreshed is still picked up (the delta follows snapshots, not commit order)."""
    one, two = await _server(dsn), await _server(dsn)
    flt = IndexFilter(account_id=ACC)
    try:
        await one.upsert([rec("viking://resources/a", "alpha"), rec("viking://resources/b", "b")])
        await two.vector_search(axis(0), flt, 5)
        async with await psycopg.AsyncConnection.connect(dsn) as slow:
            await slow.execute(
                "UPDATE ov_index_rows SET active_count = 7, xid = pg_current_xact_id() "
                "WHERE uri = 'viking://resources/a'"
            )  # not committed yet
            await one.upsert([rec("viking://resources/c", "gamma")])
            found = {h.record.uri: h.record for h in await two.vector_search(axis(0), flt, 5)}
            assert set(found) == {f"viking://resources/{n}" for n in "abc"}
            assert found["viking://resources/a"].active_count == 0
            await slow.commit()
        found = {h.record.uri: h.record for h in await two.vector_search(axis(0), flt, 5)}
        assert found["viking://resources/a"].active_count == 7
    finally:
        await _stop(one, two)


async def test_sql_answers_equal_the_mirrors(dsn: str) -> None:
    memory, sql = await _server(dsn), await _server(dsn, memory_max_rows=0)
    rng = random.Random(5)
    try:
        await memory.upsert([record(i, rng) for i in range(120)])
        await memory.vector_search(axis(0), FILTERS[0], 1)  # the mirror catches up on search
        assert memory._mirror.rows == 120
        assert sql._mirror.rows is None
        for flt in FILTERS:
            query = np.asarray([rng.uniform(-1, 1) for _ in range(DIM)], dtype=np.float32)
            got = await memory.vector_search(query, flt, 15)
            want = await sql.vector_search(query, flt, 15)
            assert [h.record.id for h in got] == [h.record.id for h in want], flt
            assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-5)
            for words in ("river", "stones garden", "XJ-9000", "parse_config engine", "absent"):
                got = await memory.fts_search(words, flt, 500)
                want = await sql.fts_search(words, flt, 500)
                assert {h.record.id for h in got} == {h.record.id for h in want}, (words, flt)
                scores = {h.record.id: h.score for h in want}
                for hit in got:
                    assert hit.score == pytest.approx(scores[hit.record.id], rel=1e-5)
                assert [h.score for h in want] == sorted((h.score for h in want), reverse=True)
    finally:
        await _stop(memory, sql)


async def test_sql_keyword_top_with_common_words_equals_the_mirrors(dsn: str) -> None:
    memory, sql = await _server(dsn), await _server(dsn, memory_max_rows=0)
    rng = random.Random(8)
    rows = []
    for i in range(150):  # "the" everywhere, "harbour" in a third, "zephyr" in three rows
        words = ["the"] * rng.randint(1, 4) + ["filler"] * rng.randint(0, 6)
        words += ["harbour"] * (i % 3 == 0) + ["zephyr"] * (i in (7, 70, 140))
        rng.shuffle(words)
        rows.append(rec(f"viking://resources/d{i}", " ".join(words), axis(i % DIM)))
    try:
        await memory.upsert(rows)
        flt = IndexFilter(account_id=ACC)
        for words, limit in (("the zephyr", 3), ("the zephyr", 5), ("the harbour", 4), ("the", 6)):
            got = await memory.fts_search(words, flt, limit)
            want = await sql.fts_search(words, flt, limit)
            assert len(want) == limit
            assert [h.score for h in want] == pytest.approx([h.score for h in got], rel=1e-5)
            last = want[-1].score  # rows tied with the last may differ (ties go by id)
            above = {h.record.id for h in got if h.score > last * (1 + 1e-5)}
            assert above <= {h.record.id for h in want}, words
    finally:
        await _stop(memory, sql)


async def test_the_model_is_checked_across_servers(dsn: str) -> None:
    one = await _server(dsn)
    await one.upsert([rec("viking://resources/a")])
    db = PgDatabase(dsn, max_size=2)
    await db.open()
    other = PgVectorIndex(db)
    try:
        with pytest.raises(FailedPreconditionError) as err:
            await other.open("other-model", 4)
        assert "openviking-mcp reindex --all" in err.value.message
        assert err.value.details["index_model"] == MODEL
        assert err.value.details["index_dimension"] == DIM
        with pytest.raises(FailedPreconditionError):  # unusable until reset
            await other.count()
        await other.reset("other-model", 4)
        assert (other.model_id, other.dimension, await other.count()) == ("other-model", 4, 0)
        await other.upsert([rec("viking://resources/b", "x", np.ones(4, dtype=np.float32))])
        renewed = PgVectorIndex(db)
        with pytest.raises(FailedPreconditionError):
            await renewed.open(MODEL, DIM)
        await renewed.open("other-model", 4)
        assert await renewed.count() == 1
        await renewed.close()
    finally:
        await other.close()
        await db.close()
        await _stop(one)


async def test_not_open_close_and_stats(dsn: str) -> None:
    db = PgDatabase(dsn, max_size=2)
    await db.open()
    index = PgVectorIndex(db)
    try:
        await index.close()  # never opened: no-op
        with pytest.raises(NotInitializedError):
            await index.count()
        await index.open(MODEL, DIM)
        await index.upsert([rec(f"viking://resources/s{i}", f"row {i}") for i in range(5)])
        stats = await index.stats()
        details = IndexDetails.model_validate({"open": True, **stats})
        assert (details.rows, details.model_id, details.dimension) == (5, MODEL, DIM)
        kinds = {i.name: i.type for i in details.indexes}
        assert kinds["ov_index_rows_tsv"] == "gin"
        assert "ov_index_rows_vector" not in kinds  # exact scans below the threshold
        assert stats["memory_rows"] == 0  # the mirror catches up on the next search
        await index.vector_search(axis(0), IndexFilter(account_id=ACC), 1)
        assert (await index.stats())["memory_rows"] == 5
        assert "password" not in str(index.path)
        await index.close()
        await index.close()
        with pytest.raises(NotInitializedError):
            await index.count()
    finally:
        await db.close()


async def test_hnsw_above_threshold_still_fills_filtered_results(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_module, "VECTOR_INDEX_MIN_ROWS", 60)
    index = await _server(dsn, memory_max_rows=0, hnsw=(8, 40, 120))
    rng = np.random.default_rng(3)
    rows = []
    for i in range(100):
        vector = rng.standard_normal(DIM).astype(np.float32)
        account = ACC if i % 10 == 0 else "big"
        rows.append(
            IndexRecord(
                uri=f"viking://resources/v{i}",
                level=2,
                account_id=account,
                context_type="resource",
                vector=vector,
            )
        )
    try:
        await index.upsert(rows)
        await index.optimize()
        kinds = {i["name"]: i["type"] for i in (await index.stats())["indexes"]}
        assert kinds["ov_index_rows_vector"] == "hnsw"
        async with index._db.connection() as conn:  # the configured parameters apply
            found = await (await conn.execute("SHOW hnsw.ef_search")).fetchone()
            assert found == {"hnsw.ef_search": "120"}
            found = await (
                await conn.execute(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ov_index_rows_vector'"
                )
            ).fetchone()
            assert found is not None
            assert "m='8'" in found["indexdef"].replace(" ", "")
            assert "ef_construction='40'" in found["indexdef"].replace(" ", "")
        target = rows[30]
        hits = await index.vector_search(target.vector, IndexFilter(account_id=ACC), 10)
        assert hits[0].record.uri == target.uri
        assert len(hits) == 10  # every row of the small account
    finally:
        await _stop(index)


async def test_pruned_tombstones_make_a_stale_mirror_reload(dsn: str) -> None:
    one, two = await _server(dsn), await _server(dsn)
    flt = IndexFilter(account_id=ACC)
    try:
        await one.upsert([rec("viking://resources/a", "heron"), rec("viking://resources/b")])
        assert len(await two.vector_search(axis(0), flt, 5)) == 2
        await one.delete_ids([rec("viking://resources/a").id])
        assert await admin_module.prune_tombstones(one._db, older_than_s=0) == 1
        # two's mirror cannot know what was deleted: it reloads, PostgreSQL answers meanwhile
        assert [h.record.uri for h in await two.vector_search(axis(0), flt, 5)] == [
            "viking://resources/b"
        ]
        task = two._mirror._task
        assert task is not None
        await task
        assert two._mirror.rows == 1
        assert await two.fts_search("heron", flt, 5) == []
    finally:
        await _stop(one, two)


def test_local_index_is_still_a_path(tmp_path: Path) -> None:
    assert isinstance(VectorIndex(tmp_path / "index").path, Path)
