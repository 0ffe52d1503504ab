"""The in-memory search mirror: same answers as LanceDB, kept current by every writer.

Each comparison opens two indexes on the same folder: one searches its mirror, the other
(``memory_max_rows=0``) searches LanceDB only.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openviking_mcp.storage.index import IndexFilter, IndexRecord, VectorIndex
from openviking_mcp.storage.index import _cache as cache_module
from openviking_mcp.storage.index import _sketch as sketch_module
from openviking_mcp.storage.index._bm25 import Postings, query_tokens, text_tokens
from openviking_mcp.storage.index._model import Condition

pytestmark = pytest.mark.anyio

DIM = 8
MODEL = "test-model"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "river",
    "stone",
    "cloud",
    "paper",
    "engine",
    "garden",
    "XJ-9000",
    "parse_config",
]


def record(i: int, rng: random.Random, *, account: str = "acme") -> IndexRecord:
    folder = f"viking://resources/f{i % 4}/sub{i % 3}"
    level = 2 if i % 5 else rng.choice((0, 1))
    uri = f"{folder}/doc{i}.md" if level == 2 else folder + f"/d{i}"
    parent = uri.rsplit("/", 1)[0]
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
    return IndexRecord(
        uri=uri,
        level=level,
        account_id=account,
        context_type=rng.choice(("resource", "memory")),
        vector=np.asarray([rng.uniform(-1, 1) for _ in range(DIM)], dtype=np.float32),
        text=text,
        parent_uri=parent,
        tags=["red"] if i % 7 == 0 else [],
        updated_at=1000.0 + i,
    )


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[VectorIndex, VectorIndex]]:
    memory = VectorIndex(tmp_path / "index")
    lance = VectorIndex(tmp_path / "index", memory_max_rows=0)
    await memory.open(MODEL, DIM)
    await lance.open(MODEL, DIM)
    try:
        yield memory, lance
    finally:
        await memory.close()
        await lance.close()


FILTERS = [
    IndexFilter(account_id="acme"),
    IndexFilter(account_id="acme", uri_prefixes=("viking://resources/f1",)),
    IndexFilter(account_id="acme", uri_prefixes=("viking://resources/f1/sub2/doc7.md",)),
    IndexFilter(account_id="acme", exclude_prefixes=("viking://resources/f2",), levels=(2,)),
    IndexFilter(account_id="acme", levels=(0, 1), context_types=("memory",)),
    IndexFilter(account_id="acme", parent_uris=("viking://resources/f0/sub0",)),
    IndexFilter(account_id="acme", tags_all=("red",), updated_after=1010.0),
    IndexFilter(account_id="acme", updated_before=1030.0),
    IndexFilter(account_id="other"),
    IndexFilter(account_id="acme", uri_prefixes=("viking://resources/f",)),  # not a folder
]


async def test_vector_search_matches_lancedb(pair: tuple[VectorIndex, VectorIndex]) -> None:
    memory, lance = pair
    rng = random.Random(7)
    await memory.upsert([record(i, rng) for i in range(120)])
    assert memory._cache.rows == 120
    for flt in FILTERS:
        query = np.asarray([rng.uniform(-1, 1) for _ in range(DIM)], dtype=np.float32)
        got = await memory.vector_search(query, flt, 15)
        want = await lance.vector_search(query, flt, 15)
        assert [h.record.id for h in got] == [h.record.id for h in want], flt
        assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-4)
        assert all(
            np.allclose(g.record.vector, w.record.vector) for g, w in zip(got, want, strict=False)
        )


async def test_keyword_search_finds_the_rows_lancedb_finds(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, lance = pair
    rng = random.Random(11)
    await memory.upsert([record(i, rng) for i in range(120)])
    for query in ("river", "stones garden", "XJ-9000", "parse_config engine", "absent"):
        for flt in FILTERS:
            got = await memory.fts_search(query, flt, 500)
            want = await lance.fts_search(query, flt, 500)
            assert {h.record.id for h in got} == {h.record.id for h in want}, (query, flt)
            assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)


async def test_exact_codename_outranks_its_words_apart(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, _ = pair
    rng = random.Random(3)
    apart, exact = record(1, rng), record(2, rng)
    apart.text, exact.text = "xj model with 9000 parts", "the XJ-9000 model"
    await memory.upsert([apart, exact])
    hits = await memory.fts_search("XJ-9000", IndexFilter(account_id="acme"), 5)
    assert [h.record.id for h in hits] == [exact.id, apart.id]


def test_tokens_fold_stem_and_join_codenames() -> None:
    assert set(text_tokens("Running CAFÉS parse_config")) == {
        "run",
        "cafe",
        "pars",
        "config",
        "pars config",
    }
    assert query_tokens("runs, runs: XJ-9000") == ["run", "xj", "9000", "xj 9000"]


async def test_writes_deletes_and_updates_reach_the_mirror(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, _ = pair
    rng = random.Random(5)
    rows = [record(i, rng) for i in range(40)]
    await memory.upsert(rows)
    everything = IndexFilter(account_id="acme")
    query = rows[3].vector
    assert (await memory.vector_search(query, everything, 1))[0].record.id == rows[3].id

    await memory.delete_ids([rows[3].id])
    assert rows[3].id not in {
        h.record.id for h in await memory.vector_search(query, everything, 40)
    }
    await memory.delete(IndexFilter(account_id="acme", uri_prefixes=("viking://resources/f1",)))
    left = {h.record.uri for h in await memory.vector_search(query, everything, 100)}
    assert left
    assert not any(u.startswith("viking://resources/f1/") for u in left)

    target = rows[4]
    await memory.set_tags("acme", [target.uri], ["blue"])
    tagged = IndexFilter(account_id="acme", tags_all=("blue",))
    assert [h.record.uri for h in await memory.vector_search(query, tagged, 5)] == [target.uri]
    await memory.increment_active("acme", [target.uri])
    (hit,) = await memory.vector_search(query, tagged, 5)
    assert hit.record.active_count == 1
    assert hit.record.tags == ["blue"]


async def test_where_conditions_are_answered_by_lancedb(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, _ = pair
    rng = random.Random(9)
    await memory.upsert([record(i, rng) for i in range(30)])
    flt = IndexFilter(
        account_id="acme", where=Condition("prefix", "uri", ("viking://resources/f2",))
    )
    hits = await memory.vector_search(np.ones(DIM, dtype=np.float32), flt, 50)
    assert hits
    assert all(h.record.uri.startswith("viking://resources/f2") for h in hits)


async def test_another_writer_is_noticed_and_the_mirror_rebuilt(tmp_path: Path) -> None:
    reader = VectorIndex(tmp_path / "index")
    writer = VectorIndex(tmp_path / "index")
    await reader.open(MODEL, DIM)
    await writer.open(MODEL, DIM)
    try:
        rng = random.Random(2)
        row = record(1, rng)
        await writer.upsert([row])
        flt = IndexFilter(account_id="acme")
        # the reader's mirror is stale: this search goes to LanceDB and sees the row
        assert [h.record.id for h in await reader.vector_search(row.vector, flt, 5)] == [row.id]
        await _settled(reader)
        assert reader._cache.rows == 1
        await writer.delete_ids([row.id])
        assert await reader.vector_search(row.vector, flt, 5) == []
        await _settled(reader)
        assert reader._cache.rows == 0
    finally:
        await reader.close()
        await writer.close()


async def test_large_tables_are_mirrored_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "SYNC_LOAD_ROWS", 10)
    rng = random.Random(4)
    rows = [record(i, rng) for i in range(60)]
    first = VectorIndex(tmp_path / "index")
    await first.open(MODEL, DIM)
    await first.upsert(rows[:50])
    await first.close()
    index = VectorIndex(tmp_path / "index")
    await index.open(MODEL, DIM)
    try:
        assert index._cache.rows is None  # loading
        await index.upsert(rows[50:])  # committed during the load: replayed on the mirror
        await _settled(index)
        assert index._cache.rows == 60
        flt = IndexFilter(account_id="acme")
        assert len(await index.vector_search(rows[0].vector, flt, 100)) == 60
    finally:
        await index.close()


async def test_replacing_rows_many_times_compacts_slots(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, lance = pair
    rng = random.Random(8)
    for _ in range(12):
        await memory.upsert([record(i, rng) for i in range(200)])
    mirror = memory._cache._mirror
    assert mirror is not None
    assert mirror.rows == await lance.count()
    assert len(mirror._records) < 3 * mirror.rows  # dead slots were dropped along the way
    flt = IndexFilter(account_id="acme", uri_prefixes=("viking://resources/f3",))
    query = np.ones(DIM, dtype=np.float32)
    got = await memory.vector_search(query, flt, 20)
    want = await lance.vector_search(query, flt, 20)
    assert [h.record.id for h in got] == [h.record.id for h in want]
    words = {h.record.id for h in await memory.fts_search("river", flt, 500)}
    assert words == {h.record.id for h in await lance.fts_search("river", flt, 500)}


async def test_reset_empties_the_mirror(pair: tuple[VectorIndex, VectorIndex]) -> None:
    memory, _ = pair
    rng = random.Random(1)
    await memory.upsert([record(i, rng) for i in range(10)])
    await memory.reset("other-model", DIM)
    assert memory._cache.rows == 0
    assert await memory.vector_search(np.ones(DIM, np.float32), IndexFilter(), 5) == []


async def _settled(index: VectorIndex) -> None:
    task: Any = index._cache._task
    if task is not None:
        await task


async def test_big_tables_preselect_by_sketch_and_score_exactly(
    pair: tuple[VectorIndex, VectorIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    memory, lance = pair
    monkeypatch.setattr(sketch_module, "SKETCH_MIN_ROWS", 250)
    rng = random.Random(12)
    await memory.upsert([record(i, rng) for i in range(400)])
    mirror = memory._cache._mirror
    assert mirror is not None
    assert mirror._vectors.sketch is not None  # 8-d vectors: the sketch keeps every direction
    for flt in FILTERS[:3]:
        query = np.asarray([rng.uniform(-1, 1) for _ in range(DIM)], dtype=np.float32)
        got = await memory.vector_search(query, flt, 5)
        want = await lance.vector_search(query, flt, 5)
        assert [h.record.id for h in got] == [h.record.id for h in want]
        assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-4)
    for folder in ("f0", "f1", "f2"):
        await memory.delete(
            IndexFilter(account_id="acme", uri_prefixes=(f"viking://resources/{folder}",))
        )
    assert mirror.rows == 100
    assert mirror._vectors.sketch is None  # shrank well below the threshold


def test_keyword_scores_of_a_few_rows_equal_the_full_scores() -> None:
    rng = random.Random(21)
    postings = Postings()
    for slot in range(300):
        postings.add(slot, text_tokens(" ".join(rng.choice(WORDS) for _ in range(8))))
    for slot in range(0, 300, 7):  # removed rows only lose their statistics
        postings.remove(slot, text_tokens(""))
    tokens = query_tokens("river stone XJ-9000")
    full = postings.scores(tokens, 300)
    wanted = np.asarray(sorted(rng.sample(range(300), 25)), dtype=np.int64)
    assert np.allclose(postings.scores_of(tokens, wanted), full[wanted])
    assert (full[wanted] > 0).any()


async def test_the_mirror_limit_is_a_setting(tmp_path: Path) -> None:
    from openviking_mcp import ContextService, OpenVikingConfig

    for limit, held in ((0, None), (1000, 0)):
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(tmp_path / f"ws{limit}")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
                "index": {"memory_max_rows": limit},
            }
        )
        service = ContextService(config, background_tasks=False)
        await service.initialize()
        try:
            rows = service.store.index._cache.rows
            assert (rows is None) if held is None else (rows is not None and rows >= held)
        finally:
            await service.close()


def _ranked(hits: list[Any]) -> list[tuple[float, str]]:
    """Hits as (score, id), ties in id order: rows sharing a vector tie."""
    return sorted((round(h.score, 4), h.record.id) for h in hits)


async def test_rows_sharing_a_vector_hold_it_once_and_rank_as_lancedb(
    pair: tuple[VectorIndex, VectorIndex],
) -> None:
    memory, lance = pair
    rng = random.Random(31)
    records = [record(i, rng) for i in range(3600)]
    for i in range(0, 3600, 3):  # a file and its folder's tiers: one vector for three rows
        records[i + 1].vector = records[i + 2].vector = records[i].vector.copy()
    await memory.upsert(records)
    mirror = memory._cache._mirror
    assert mirror is not None
    assert mirror.rows == 3600
    assert mirror._vectors.distinct == 1200
    query = np.asarray([rng.uniform(-1, 1) for _ in range(DIM)], dtype=np.float32)
    for flt in FILTERS:
        got = await memory.vector_search(query, flt, 4000)
        want = await lance.vector_search(query, flt, 4000)
        assert _ranked(got) == _ranked(want), flt
    held = (await memory.vector_search(query, FILTERS[0], 1))[0].record
    kept_vector = np.array(held.vector)
    gone = [r.id for i, r in enumerate(records) if (i // 3) % 2 and r.id != held.id]
    await memory.delete_ids(gone)
    assert mirror._vectors.size < 1200  # half the vectors freed: the matrix was renumbered
    assert np.array_equal(held.vector, kept_vector)  # a held record's vector never changes
    for flt in FILTERS:
        got = await memory.vector_search(query, flt, 4000)
        want = await lance.vector_search(query, flt, 4000)
        assert _ranked(got) == _ranked(want), flt
        stored = {h.record.id: h.record.vector for h in want}
        assert all(np.allclose(h.record.vector, stored[h.record.id]) for h in got)


def test_cached_keyword_weights_follow_every_change() -> None:
    """Weights are cached between searches; a change must never leave them stale."""
    rng = random.Random(8)
    texts = [" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(200)]
    postings = Postings()
    for slot, text in enumerate(texts):
        postings.add(slot, text_tokens(text))
    tokens = query_tokens("river stone garden")
    postings.scores(tokens, 200)  # fills the cache
    postings.remove(3, text_tokens(texts[3]))  # a replaced row: same length, other words
    other = " ".join(["river"] * sum(text_tokens(texts[3]).values()))
    postings.add(200, text_tokens(other))
    fresh = Postings()
    for slot, text in enumerate([*texts, other]):
        if slot != 3:
            fresh.add(slot, text_tokens(text))
    got, want = postings.scores(tokens, 201), fresh.scores(tokens, 201)
    got[3] = 0.0  # a removed row keeps stale postings until compaction; callers mask it out
    assert np.allclose(got, want)
