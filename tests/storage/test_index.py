"""The search index, against a real LanceDB table in tmp_path and a real PostgreSQL database
(8-dimensional vectors). Tests of behaviour run on every backend (``local``; ``postgres``
answering searches from its in-memory mirror; ``postgres-sql`` answering them in SQL), so the
backends cannot drift; tests of LanceDB's own upkeep (fragments, IVF) run on ``local`` only."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import openviking_mcp
from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotInitializedError,
    UnavailableError,
)
from openviking_mcp.storage.index import IndexFilter, IndexRecord, VectorIndex
from openviking_mcp.storage.index import _table as table_module
from openviking_mcp.storage.index._fts import build_fts_query, plain_terms
from openviking_mcp.storage.postgres import PgDatabase
from openviking_mcp.storage.postgres.index import PgVectorIndex
from tests.pg import fresh_database

pytestmark = pytest.mark.anyio

DIM = 8
MODEL = "test-model"
ACC = "acme"


def vec(*values: float) -> np.ndarray:
    """An 8-d vector: the given leading values, zeros after."""
    out = np.zeros(DIM, dtype=np.float32)
    out[: len(values)] = values
    return out


def axis(i: int) -> np.ndarray:
    out = np.zeros(DIM, dtype=np.float32)
    out[i] = 1.0
    return out


def rec(uri: str, level: int = 2, anchor: str = "", **kw: Any) -> IndexRecord:
    parent = uri.rsplit("/", 1)[0] if uri.count("/") > 2 else "viking://"
    kw.setdefault("account_id", ACC)
    kw.setdefault("context_type", "resource")
    kw.setdefault("vector", axis(0))
    kw.setdefault("parent_uri", parent)
    return IndexRecord(uri=uri, level=level, anchor=anchor, **kw)


BACKENDS = ["local", "postgres", "postgres-sql"]
#: Tests of LanceDB's own upkeep take this parametrization of the ``index`` fixture.
lance_only = pytest.mark.parametrize("index", ["local"], indirect=True)


@pytest.fixture(params=BACKENDS)
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "local":
        idx = VectorIndex(tmp_path / "index")
        await idx.open(MODEL, DIM)
        try:
            yield idx
        finally:
            await idx.close()
        return
    with fresh_database() as dsn:
        db = PgDatabase(dsn, max_size=4)
        await db.open()
        memory = 0 if request.param == "postgres-sql" else 400_000
        pg = PgVectorIndex(db, memory_max_rows=memory)
        try:
            await pg.open(MODEL, DIM)
            yield pg
        finally:
            await pg.close()
            await db.close()


async def uris_of(index: VectorIndex, flt: IndexFilter) -> set[str]:
    return {u for u, _, _ in await index.uris(flt)}


# -- records and filters (pure) ------------------------------------------------------------


def test_record_id_is_stable_sha1() -> None:
    r = rec("viking://resources/a", level=2, anchor="p1")
    expected = hashlib.sha1(b"acme\x00viking://resources/a\x002\x00p1").hexdigest()
    assert r.id == expected
    assert rec("viking://resources/a", level=1).id != rec("viking://resources/a", level=0).id
    assert rec("viking://resources/a", account_id="other").id != rec("viking://resources/a").id


def test_filter_sql_quotes_and_empty() -> None:
    assert IndexFilter().to_sql() is None
    assert IndexFilter(uri_prefixes=("viking://",)).to_sql() is None
    sql = IndexFilter(account_id="o'brien", uri_prefixes=("viking://r/it's",)).to_sql()
    assert sql is not None
    assert "account_id = 'o''brien'" in sql
    assert "starts_with(uri, 'viking://r/it''s/')" in sql
    assert IndexFilter(levels=(0, 1), context_types=("memory",)).to_sql() == (
        "level IN (0, 1) AND context_type IN ('memory')"
    )
    with pytest.raises(InvalidArgumentError):
        IndexFilter(updated_after=float("nan")).to_sql()


# -- lifecycle -----------------------------------------------------------------------------


async def test_not_open_raises_and_close_is_safe(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path / "index")
    await idx.close()  # never opened: no-op
    with pytest.raises(NotInitializedError):
        await idx.count()
    await idx.open(MODEL, DIM)
    assert (idx.model_id, idx.dimension) == (MODEL, DIM)
    await idx.close()
    await idx.close()
    with pytest.raises(NotInitializedError):
        await idx.count()


async def test_unusable_path_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    idx = VectorIndex(blocker / "index")
    with pytest.raises(UnavailableError):
        await idx.open(MODEL, DIM)
    await idx.close()


async def test_model_mismatch_then_reset(tmp_path: Path) -> None:
    path = tmp_path / "index"
    first = VectorIndex(path)
    await first.open(MODEL, DIM)
    await first.upsert([rec("viking://resources/a")])
    await first.optimize()  # metadata survives compaction and index updates
    await first.close()

    same = VectorIndex(path)
    await same.open(MODEL, DIM)
    assert await same.count() == 1
    await same.close()

    for model, dim in (("other-model", DIM), (MODEL, 16)):
        other = VectorIndex(path)
        with pytest.raises(FailedPreconditionError) as err:
            await other.open(model, dim)
        assert MODEL in err.value.message
        assert model in err.value.message
        assert "openviking-mcp reindex --all" in err.value.message
        assert err.value.details == {
            "index_model": MODEL,
            "index_dimension": DIM,
            "configured_model": model,
            "configured_dimension": dim,
            "fix": "openviking-mcp reindex --all",
        }
        with pytest.raises(FailedPreconditionError):  # unusable until reset
            await other.count()
        await other.close()

    renewed = VectorIndex(path)
    with pytest.raises(FailedPreconditionError):
        await renewed.open("other-model", 4)
    await renewed.reset("other-model", 4)
    assert (renewed.model_id, renewed.dimension) == ("other-model", 4)
    assert await renewed.count() == 0
    await renewed.upsert([rec("viking://resources/b", vector=np.ones(4, dtype=np.float32))])
    await renewed.close()

    reopened = VectorIndex(path)
    await reopened.open("other-model", 4)
    assert await reopened.count() == 1
    await reopened.close()


# -- writes --------------------------------------------------------------------------------


async def test_upsert_is_idempotent_and_updates(index: VectorIndex) -> None:
    assert await index.upsert([]) == 0
    r = rec("viking://resources/doc.md", anchor="p0", text="first version", name="doc.md")
    assert await index.upsert([r]) == 1
    assert await index.upsert([r]) == 1
    assert await index.count() == 1

    r2 = rec("viking://resources/doc.md", anchor="p0", text="second version", tags=["x"])
    assert r2.id == r.id
    await index.upsert([r2])
    assert await index.count() == 1
    (got,) = await index.get([r.id])
    assert got.text == "second version"
    assert got.tags == ["x"]
    assert got.created_at > 0
    assert got.updated_at > 0
    np.testing.assert_allclose(got.vector, axis(0))

    # duplicates inside one batch: one row, the last wins
    a = rec("viking://resources/dup", text="one")
    b = rec("viking://resources/dup", text="two")
    assert await index.upsert([a, b]) == 1
    (got,) = await index.get([a.id])
    assert got.text == "two"


async def test_upsert_validates_vectors(index: VectorIndex) -> None:
    with pytest.raises(InvalidArgumentError):
        await index.upsert([rec("viking://resources/a", vector=np.ones(DIM + 1))])
    with pytest.raises(InvalidArgumentError):
        await index.upsert([rec("viking://resources/a", vector=np.ones((2, 4)))])
    bad = vec(1.0)
    bad[3] = np.nan
    with pytest.raises(InvalidArgumentError):
        await index.upsert([rec("viking://resources/a", vector=bad)])
    with pytest.raises(InvalidArgumentError):
        await index.vector_search(np.ones(DIM + 2), IndexFilter(), 5)
    assert await index.count() == 0


async def test_delete_by_prefix_and_ids(index: VectorIndex) -> None:
    rows = [
        rec("viking://resources/a"),
        rec("viking://resources/a", level=0),
        rec("viking://resources/a/x.md", anchor="p0"),
        rec("viking://resources/a/x.md", anchor="p1"),
        rec("viking://resources/ab"),
        rec("viking://resources/a", account_id="other"),
    ]
    await index.upsert(rows)
    deleted = await index.delete(
        IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/a",))
    )
    assert deleted == 4
    assert await uris_of(index, IndexFilter()) == {"viking://resources/ab", "viking://resources/a"}
    assert await index.count(IndexFilter(account_id="other")) == 1
    assert await index.delete(IndexFilter(account_id=ACC, uri_prefixes=("viking://nope",))) == 0

    assert await index.delete_ids([rows[4].id, rows[4].id, "missing"]) == 1
    assert await index.delete_ids([]) == 0
    assert await index.count() == 1


async def test_increment_active_and_counts_survive_reupsert(index: VectorIndex) -> None:
    await index.upsert(
        [
            rec("viking://resources/a", anchor="p0"),
            rec("viking://resources/a", anchor="p1"),
            rec("viking://resources/b"),
            rec("viking://resources/a", anchor="p0", account_id="other"),
        ]
    )
    assert await index.increment_active(ACC, ["viking://resources/a"]) == 2
    assert await index.increment_active(ACC, ["viking://resources/a", "viking://resources/b"]) == 3
    assert await index.increment_active(ACC, []) == 0
    first = rec("viking://resources/a", anchor="p0")
    (got,) = await index.get([first.id])
    assert got.active_count == 2
    created = got.created_at

    # re-indexing the file (fresh record, active_count 0) keeps the usage counter
    await index.upsert([rec("viking://resources/a", anchor="p0", text="new")])
    (got,) = await index.get([first.id])
    assert (got.active_count, got.text, got.created_at) == (2, "new", created)
    other = rec("viking://resources/a", anchor="p0", account_id="other")
    (got,) = await index.get([other.id])
    assert got.active_count == 0


# -- filters -------------------------------------------------------------------------------


async def test_filters(index: VectorIndex) -> None:
    await index.upsert(
        [
            rec("viking://resources/a", level=0, context_type="resource"),
            rec("viking://resources/a", level=1),
            rec("viking://resources/a/x.md", anchor="p0", tags=["t1", "t2"], updated_at=100.0),
            rec("viking://resources/a/y.md", tags=["t1"], updated_at=200.0),
            rec("viking://resources/ab", updated_at=300.0),
            rec("viking://resources/ab/z.md"),
            rec("viking://user/u1/memories/m.md", context_type="memory", owner_user_id="u1"),
            rec("viking://agent/skills/s", level=0, context_type="skill"),
            rec("viking://resources/a/x.md", account_id="other"),
        ]
    )
    a = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/a",))
    assert await uris_of(index, a) == {
        "viking://resources/a",
        "viking://resources/a/x.md",
        "viking://resources/a/y.md",
    }
    # trailing slash means the same directory; the sibling "ab" never matches
    slash = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/a/",))
    assert await uris_of(index, slash) == await uris_of(index, a)
    both = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/ab", "viking://agent"))
    assert await uris_of(index, both) == {
        "viking://resources/ab",
        "viking://resources/ab/z.md",
        "viking://agent/skills/s",
    }
    assert await index.count(IndexFilter(account_id=ACC, uri_prefixes=("viking://",))) == 8
    excl = IndexFilter(
        account_id=ACC,
        uri_prefixes=("viking://resources",),
        exclude_prefixes=("viking://resources/a",),
    )
    assert await uris_of(index, excl) == {"viking://resources/ab", "viking://resources/ab/z.md"}
    assert await index.count(IndexFilter(exclude_prefixes=("viking://",))) == 0

    assert await index.count(IndexFilter(account_id=ACC, levels=(0, 1))) == 3
    assert await index.count(IndexFilter(account_id=ACC, levels=(2,))) == 5
    assert await uris_of(index, IndexFilter(account_id=ACC, context_types=("memory", "skill"))) == {
        "viking://user/u1/memories/m.md",
        "viking://agent/skills/s",
    }
    # account isolation
    assert await index.count(IndexFilter(account_id="other")) == 1
    assert await index.count(IndexFilter(account_id="nobody")) == 0
    assert await index.count() == 9
    # direct children only
    children = IndexFilter(account_id=ACC, parent_uri="viking://resources/a")
    assert await uris_of(index, children) == {
        "viking://resources/a/x.md",
        "viking://resources/a/y.md",
    }
    several = IndexFilter(account_id=ACC, parent_uris=("viking://resources/a/", "viking://nope"))
    assert await uris_of(index, several) == await uris_of(index, children)
    # tags: every tag must be present
    assert await uris_of(index, IndexFilter(account_id=ACC, tags_all=("t1",))) == {
        "viking://resources/a/x.md",
        "viking://resources/a/y.md",
    }
    assert await uris_of(index, IndexFilter(account_id=ACC, tags_all=("t1", "t2"))) == {
        "viking://resources/a/x.md"
    }
    # time window
    window = IndexFilter(account_id=ACC, updated_after=150.0, updated_before=250.0)
    assert await uris_of(index, window) == {"viking://resources/a/y.md"}
    triples = await index.uris(IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/a",)))
    assert ("viking://resources/a/x.md", 2, "p0") in triples
    assert ("viking://resources/a", 0, "") in triples


@pytest.mark.parametrize(
    "name", ["it's", "a'b'c", "50%", "a_b", "back\\slash", "semi;colon", "new\nline", "日本"]
)
async def test_special_characters_in_uris(index: VectorIndex, name: str) -> None:
    base = f"viking://resources/{name}"
    # URIs a wildcard or escape-char reading of the prefix would wrongly match
    decoys = [
        "viking://resources/itXs/child.md",
        "viking://resources/a",
        "viking://resources/aXb/child.md",
        "viking://resources/50X/child.md",
        "viking://resources/50/child.md",
        "viking://resources/backslash/child.md",
        "viking://resources/back\\/slash/child.md",
        "viking://resources/semi;colonX/child.md",
    ]
    await index.upsert([rec(base), rec(f"{base}/child.md"), *(rec(d) for d in decoys if d != base)])
    flt = IndexFilter(account_id=ACC, uri_prefixes=(base,))
    assert await uris_of(index, flt) == {base, f"{base}/child.md"}
    assert await uris_of(index, IndexFilter(account_id=ACC, parent_uri=base)) == {
        f"{base}/child.md"
    }
    assert await index.delete(flt) == 2
    assert await index.count() == len([d for d in decoys if d != base])
    # a quote in the account id or a tag is data, not SQL
    assert await index.count(IndexFilter(account_id="x' OR '1'='1")) == 0
    assert await index.count(IndexFilter(tags_all=("a'],['b",))) == 0


# -- search --------------------------------------------------------------------------------


async def test_vector_ranking(index: VectorIndex) -> None:
    await index.upsert(
        [
            rec("viking://resources/exact", vector=vec(1, 0)),
            rec("viking://resources/close", vector=vec(1, 0.2)),
            rec("viking://resources/far", vector=vec(0.2, 1)),
            rec("viking://resources/opposite", vector=vec(-1, 0)),
            rec("viking://resources/scaled", vector=vec(5, 0.5)),
            rec("viking://resources/exact", account_id="other", vector=vec(1, 0)),
        ]
    )
    hits = await index.vector_search(vec(1, 0), IndexFilter(account_id=ACC), 10)
    assert [h.record.uri for h in hits] == [
        "viking://resources/exact",
        "viking://resources/scaled",
        "viking://resources/close",
        "viking://resources/far",
        "viking://resources/opposite",
    ]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[-1].score == pytest.approx(-1.0, abs=1e-5)
    assert hits[2].score == pytest.approx(1 / np.sqrt(1.04), abs=1e-5)
    assert all(h.record.account_id == ACC for h in hits)
    np.testing.assert_allclose(hits[0].record.vector, vec(1, 0))
    top2 = await index.vector_search(vec(1, 0), IndexFilter(account_id=ACC), 2)
    assert len(top2) == 2
    assert await index.vector_search(vec(1, 0), IndexFilter(account_id=ACC), 0) == []
    only = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/far",))
    assert [h.record.uri for h in await index.vector_search(vec(1, 0), only, 5)] == [
        "viking://resources/far"
    ]


_DOCS = {
    "viking://resources/xj": "The XJ-9000 is our new prototype accelerator.",
    "viking://resources/split": "The XJ series shipped 9000 units of the old model last year.",
    "viking://resources/gpu": "Training runs on a GPU cluster in the basement.",
    "viking://resources/acme": "Config key ACME_42 enables the fast path.",
    "viking://resources/run": "The runners were running quickly around the track.",
    "viking://resources/it": "The IT department manages US offices.",
    "viking://resources/noise": "Nothing to see here, just ordinary words about weather.",
}


async def _load_docs(index: VectorIndex) -> None:
    await index.upsert(
        [rec(uri, text=text, vector=axis(i % DIM)) for i, (uri, text) in enumerate(_DOCS.items())]
    )


async def fts_uris(index: VectorIndex, query: str, flt: IndexFilter | None = None) -> list[str]:
    hits = await index.fts_search(query, flt or IndexFilter(account_id=ACC), 10)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    return [h.record.uri for h in hits]


@pytest.mark.parametrize("optimized", [False, True])
async def test_fts_ranking_and_codenames(index: VectorIndex, optimized: bool) -> None:
    await _load_docs(index)
    if optimized:
        await index.optimize()  # indexed path; otherwise LanceDB's flat search over new rows
    found = await fts_uris(index, "XJ-9000")
    assert found[:2] == ["viking://resources/xj", "viking://resources/split"]
    assert (await fts_uris(index, "xj-9000"))[0] == "viking://resources/xj"
    assert (await fts_uris(index, "GPU"))[0] == "viking://resources/gpu"
    assert (await fts_uris(index, "gpu"))[0] == "viking://resources/gpu"
    assert (await fts_uris(index, "ACME_42"))[0] == "viking://resources/acme"
    assert (await fts_uris(index, "run"))[0] == "viking://resources/run"  # stemming
    assert (await fts_uris(index, "IT"))[0] == "viking://resources/it"  # no stop-word loss
    assert (await fts_uris(index, "US"))[0] == "viking://resources/it"
    assert await fts_uris(index, "zzzunknown") == []
    hits = await index.fts_search("accelerator", IndexFilter(account_id=ACC), 10)
    assert hits[0].score > 0
    assert hits[0].record.vector.shape == (DIM,)
    assert await fts_uris(index, "GPU", IndexFilter(account_id="other")) == []
    scoped = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/split",))
    assert await fts_uris(index, "XJ-9000", scoped) == ["viking://resources/split"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"',
        'he said "GPU',
        "text:GPU",
        "(GPU",
        "GPU)",
        "GPU AND",
        "OR",
        "NOT GPU",
        "+GPU -run",
        "GPU*",
        "GPU~2",
        "\\",
        "a' OR 1=1 --",
        "{[<>]}",
        "x" * 500,
        "GPU " * 200,
        "日本語のテキスト",
        "\x00\x01",
    ],
)
async def test_fts_queries_never_raise(index: VectorIndex, query: str) -> None:
    await _load_docs(index)
    hits = await index.fts_search(query, IndexFilter(account_id=ACC), 5)
    assert len(hits) <= 5
    if "GPU" in query and "run" not in query:
        assert hits[0].record.uri == "viking://resources/gpu"


def test_fts_query_building() -> None:
    assert plain_terms('he said "XJ-9000" (now)') == ["he", "said", "XJ-9000", "now"]
    assert plain_terms("  :: ") == []
    assert build_fts_query("") is None
    assert build_fts_query("?!") is None
    assert build_fts_query("gpu") is not None


async def test_fts_freshness_after_indexing(index: VectorIndex) -> None:
    await _load_docs(index)
    await index.optimize()
    await index.ensure_indexes()
    fresh = rec("viking://resources/fresh", text="Project ZEPHYR-7 kickoff notes")
    await index.upsert([fresh])
    assert (await fts_uris(index, "ZEPHYR-7"))[0] == "viking://resources/fresh"
    assert (await index.vector_search(axis(0), IndexFilter(account_id=ACC), 50))[0].score > 0.99
    # replaced text: the old words stop matching at once, the new ones match
    await index.upsert([rec("viking://resources/fresh", text="renamed to BOREAS")])
    assert await fts_uris(index, "ZEPHYR-7") == []
    assert await fts_uris(index, "boreas") == ["viking://resources/fresh"]
    await index.delete(IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/fresh",)))
    assert await fts_uris(index, "boreas") == []


# -- reads and maintenance -----------------------------------------------------------------


async def test_second_instance_sees_writes(tmp_path: Path) -> None:
    path = tmp_path / "index"
    writer = VectorIndex(path)
    reader = VectorIndex(path)
    await writer.open(MODEL, DIM)
    await reader.open(MODEL, DIM)
    try:
        assert await reader.count() == 0
        await writer.upsert([rec("viking://resources/a", text="shared codename KESTREL")])
        assert await reader.count() == 1
        assert (await reader.fts_search("KESTREL", IndexFilter(), 5))[0].record.uri == (
            "viking://resources/a"
        )
        assert len(await reader.vector_search(axis(0), IndexFilter(), 5)) == 1
        await reader.upsert([rec("viking://resources/b")])
        assert await writer.count() == 2
        await writer.delete(IndexFilter(uri_prefixes=("viking://resources/a",)))
        assert await uris_of(reader, IndexFilter()) == {"viking://resources/b"}
        await writer.optimize()
        assert await reader.count() == 1
    finally:
        await writer.close()
        await reader.close()


async def test_scroll_pagination(index: VectorIndex) -> None:
    rows = [rec(f"viking://resources/f{i:02d}") for i in range(23)]
    rows += [rec(f"viking://resources/f{i:02d}", account_id="other") for i in range(5)]
    await index.upsert(rows)
    flt = IndexFilter(account_id=ACC)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = await index.scroll(flt, 5, cursor)
        pages += 1
        seen.extend(r.id for r in page)
        assert all(r.account_id == ACC for r in page)
        if cursor is None:
            break
    assert pages == 5
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 23
    everything, cursor = await index.scroll(None, 100, None)
    assert len(everything) == 28
    assert cursor is None
    with pytest.raises(InvalidArgumentError):
        await index.scroll(None, 0, None)


async def test_get_keeps_requested_order(index: VectorIndex) -> None:
    rows = [rec(f"viking://resources/g{i}") for i in range(4)]
    await index.upsert(rows)
    got = await index.get([rows[2].id, "missing", rows[0].id, rows[2].id])
    assert [r.uri for r in got] == ["viking://resources/g2", "viking://resources/g0"]
    assert await index.get([]) == []


@lance_only
async def test_ensure_indexes_is_idempotent(index: VectorIndex) -> None:
    await index.upsert([rec("viking://resources/a", text="hello")])
    before = (await index.stats())["indexes"]
    await index.ensure_indexes()
    await index.ensure_indexes()
    after = (await index.stats())["indexes"]
    assert [(i["name"], i["type"]) for i in before] == [(i["name"], i["type"]) for i in after]
    kinds = {i["columns"][0]: i["type"] for i in after}
    assert kinds["text"] == "FTS"
    assert {kinds[c] for c in ("id", "account_id", "uri", "parent_uri", "level")} == {"BTree"}
    assert "vector" not in kinds  # brute force below VECTOR_INDEX_MIN_ROWS


@lance_only
async def test_stats_and_compaction_of_single_upserts(index: VectorIndex) -> None:
    for i in range(50):
        await index.upsert([rec(f"viking://resources/s{i}", text=f"row {i}")])
    stats = await index.stats()
    assert stats["rows"] == 50
    assert stats["model_id"] == MODEL
    assert stats["dimension"] == DIM
    assert stats["path"].endswith("index")
    assert stats["size_bytes"] > 0
    assert stats["fragments"] >= 50
    await index.optimize()
    after = await index.stats()
    assert after["rows"] == 50
    assert after["fragments"] < 5
    assert after["version"] > stats["version"]
    assert all(i["unindexed_rows"] == 0 for i in after["indexes"])
    assert (await fts_uris(index, "row 7"))[0] == "viking://resources/s7"


@lance_only
async def test_schedule_optimize_coalesces(index: VectorIndex) -> None:
    for i in range(20):
        await index.upsert([rec(f"viking://resources/c{i}")])
    for _ in range(10):
        index.schedule_optimize()
    task = index._optimize_task
    assert task is not None
    await asyncio.wait({task})
    assert (await index.stats())["fragments"] <= 2
    index.schedule_optimize()
    await index.close()  # waits for the background run
    assert index._optimize_task is None


@lance_only
async def test_optimize_while_writing(index: VectorIndex) -> None:
    """Compaction racing deletes/updates loses in Lance ("Retryable commit conflict"); the
    index retries or defers it, and never fails a write."""
    index.auto_optimize_commits = 0

    async def writer(n: int) -> None:
        for i in range(30):
            await index.upsert([rec(f"viking://resources/w{n}/{i}", text=f"w{n} {i}")])
            if i % 3 == 2:
                await index.delete(IndexFilter(uri_prefixes=(f"viking://resources/w{n}/{i - 1}",)))
                await index.increment_active(ACC, [f"viking://resources/w{n}/{i - 2}"])

    async def optimizer() -> None:
        for _ in range(8):
            await index.optimize()

    await asyncio.gather(writer(0), writer(1), writer(2), optimizer())
    assert await index.count() == 3 * 20
    assert await index.count(IndexFilter(uri_prefixes=("viking://resources/w1/0",))) == 1
    await index.optimize()
    assert (await index.stats())["fragments"] <= 2


@lance_only
async def test_many_small_commits_trigger_a_background_optimize(index: VectorIndex) -> None:
    index.auto_optimize_commits = 10
    for i in range(10):
        await index.upsert([rec(f"viking://resources/auto{i}")])
    task = index._optimize_task
    assert task is not None  # scheduled by the 10th commit
    await asyncio.wait({task})
    assert (await index.stats())["fragments"] <= 2


@lance_only
async def test_vector_index_above_threshold(
    index: VectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "VECTOR_INDEX_MIN_ROWS", 300)
    rng = np.random.default_rng(7)
    rows = []
    for i in range(400):
        v = rng.standard_normal(DIM).astype(np.float32)
        rows.append(rec(f"viking://resources/v{i}", vector=v, account_id=ACC if i % 2 else "b"))
    await index.upsert(rows)
    await index.ensure_indexes()
    kinds = {i["columns"][0]: i["type"] for i in (await index.stats())["indexes"]}
    assert kinds["vector"] == "IvfFlat"
    target = rows[101]
    hits = await index.vector_search(target.vector, IndexFilter(account_id=ACC), 5)
    assert hits[0].record.uri == target.uri
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert len(hits) == 5
    assert all(h.record.account_id == ACC for h in hits)
    # a narrow filter still fills the limit (all partitions may be probed)
    narrow = IndexFilter(account_id=ACC, uri_prefixes=("viking://resources/v1",))
    found = await index.vector_search(target.vector, narrow, 100)
    assert {h.record.uri for h in found} == await uris_of(index, narrow)


_CHILD = """
import asyncio, sys
import numpy as np
from openviking_mcp.storage.index import IndexRecord, VectorIndex

async def main() -> None:
    idx = VectorIndex(sys.argv[1])
    await idx.open(sys.argv[2], int(sys.argv[3]))
    vector = np.zeros(int(sys.argv[3]), dtype=np.float32)
    vector[0] = 1.0
    await idx.upsert([IndexRecord(uri="viking://resources/from-child", level=2, account_id="acme",
                                  context_type="resource", vector=vector, text="PELICAN-3")])
    await idx.close()

asyncio.run(main())
"""


@lance_only
@pytest.mark.slow
async def test_other_process_writes_are_visible(index: VectorIndex) -> None:
    root = os.path.dirname(os.path.dirname(openviking_mcp.__file__))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(index.path),
        MODEL,
        str(DIM),
        env={**os.environ, "PYTHONPATH": root},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert await index.count() == 1
    assert (await fts_uris(index, "PELICAN-3")) == ["viking://resources/from-child"]
