"""The ``filter`` DSL of find and search: parsing, each operator against a real LanceDB table,
bad filters (400 ``INVALID_FILTER``), injection attempts, and the readable space staying the
outer bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.search import ContextResult, FindRequest, SearchRequest
from openviking_mcp.search.filters import InvalidFilterError, parse_filter
from openviking_mcp.storage.index import IndexFilter, IndexRecord, VectorIndex
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio

DIM = 8
ACC = "acme"
DAY = 86_400.0
T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def _rec(uri: str, level: int, context_type: str, tags: list[str], day: int) -> IndexRecord:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[0] = 1.0
    return IndexRecord(
        uri=uri,
        level=level,
        account_id=ACC,
        context_type=context_type,
        vector=vector,
        name=uri.rsplit("/", 1)[-1],
        parent_uri=uri.rsplit("/", 1)[0],
        tags=tags,
        created_at=T0 + day * DAY,
        updated_at=T0 + day * DAY,
    )


ROWS = [
    _rec("viking://resources/docs", 0, "resource", [], 0),
    _rec("viking://resources/docs/guide.md", 2, "resource", ["team=ops", "lang=en"], 1),
    _rec("viking://resources/docs/deep/notes.md", 2, "resource", ["team=dev"], 2),
    _rec("viking://resources/docs2/other.md", 2, "resource", [], 3),
    _rec("viking://user/ann/memories/pref.md", 2, "memory", ["team=ops"], 4),
    _rec("viking://agent/skills/deploy", 0, "skill", [], 5),
]
ALL = {r.uri for r in ROWS}
GUIDE, NOTES, OTHER = (ROWS[1].uri, ROWS[2].uri, ROWS[3].uri)
DOCS, PREF, SKILL = ROWS[0].uri, ROWS[4].uri, ROWS[5].uri


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[VectorIndex]:
    idx = VectorIndex(tmp_path / "index")
    await idx.open("test-model", DIM)
    await idx.upsert(ROWS)
    try:
        yield idx
    finally:
        await idx.close()


async def _selected(index: VectorIndex, doc: dict[str, Any], **base: Any) -> set[str]:
    flt = IndexFilter(account_id=ACC, where=parse_filter(doc), **base)
    return {uri for uri, _, _ in await index.uris(flt)}


def _must(field: str, *values: Any, **extra: Any) -> dict[str, Any]:
    return {"op": "must", "field": field, "conds": list(values), **extra}


OPERATOR_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (_must("context_type", "memory", "skill"), {PREF, SKILL}),
    ({"op": "must_not", "field": "context_type", "conds": ["resource"]}, {PREF, SKILL}),
    (_must("uri", "viking://resources/docs"), {DOCS, GUIDE, NOTES}),  # subtree, not docs2
    (_must("uri", "/resources/docs", para="-d=1"), {DOCS, GUIDE}),  # the stored form, depth 1
    (_must("uri", "viking://resources/docs", para="-d=0"), {DOCS}),
    (_must("uri", "viking://", para="-d=3"), {DOCS, GUIDE, OTHER, SKILL}),
    (_must("level", 0), {DOCS, SKILL}),
    (_must("tags", "team=ops"), {GUIDE, PREF}),
    (_must("search_tags", "team=dev", "lang=en"), {GUIDE, NOTES}),
    ({"op": "prefix", "field": "uri", "prefix": "viking://resources/docs"}, ALL - {PREF, SKILL}),
    ({"op": "contains", "field": "name", "substring": "o"}, {DOCS, NOTES, OTHER, SKILL}),
    ({"op": "contains", "field": "tags", "substring": "lang"}, {GUIDE}),
    ({"op": "range", "field": "updated_at", "gte": T0 + DAY, "lt": T0 + 3 * DAY}, {GUIDE, NOTES}),
    ({"op": "range_out", "field": "level", "gte": 1}, {DOCS, SKILL}),
    (
        {"op": "time_range", "field": "created_at", "gte": "2023-11-18T00:00:00Z"},
        {PREF, SKILL},
    ),
    (
        {
            "op": "and",
            "conds": [
                _must("context_type", "resource"),
                {"op": "or", "conds": [_must("tags", "team=dev"), _must("level", 0)]},
            ],
        },
        {DOCS, NOTES},
    ),
    ({"filter": _must("name", "other.md")}, {OTHER}),
]


@pytest.mark.parametrize(("doc", "expected"), OPERATOR_CASES)
async def test_each_operator_narrows_the_index(
    index: VectorIndex, doc: dict[str, Any], expected: set[str]
) -> None:
    assert await _selected(index, {}) == ALL
    assert await _selected(index, doc) == expected


async def test_the_filter_only_narrows_the_other_terms(index: VectorIndex) -> None:
    inside = ("viking://resources",)
    widening = _must("uri", "viking://user/ann", "viking://agent")
    assert await _selected(index, widening) == {PREF, SKILL}
    assert await _selected(index, widening, uri_prefixes=inside) == set()
    either = {"op": "or", "conds": [_must("uri", "viking://"), _must("level", 0)]}
    assert await _selected(index, either, uri_prefixes=inside) == {DOCS, GUIDE, NOTES, OTHER}


INJECTIONS = [
    "resource' OR '1'='1",
    "x') OR true OR ('",
    "resource\\' OR 1=1 --",
    "'; DELETE FROM contexts; --",
]


@pytest.mark.parametrize("value", INJECTIONS)
async def test_injection_in_a_value_is_a_harmless_literal(index: VectorIndex, value: str) -> None:
    assert await _selected(index, _must("context_type", value)) == set()
    assert await _selected(index, {"op": "contains", "field": "name", "substring": value}) == set()
    assert await _selected(index, _must("uri", value)) == set()
    assert await _selected(index, {"op": "must_not", "field": "name", "conds": [value]}) == ALL
    assert await index.count(IndexFilter(account_id=ACC)) == len(ROWS)


BAD_FILTERS: list[tuple[Any, str]] = [
    ({"op": "nearby", "field": "uri"}, "nearby"),
    ({"op": "regex", "field": "name", "pattern": "a"}, "regex"),
    (_must("colour", "red"), "colour"),
    (_must("description", "x"), "description"),
    ({"op": "must", "field": "uri", "conds": ["a"], "depth": 2}, "depth"),
    ({"op": "and"}, "conds"),
    ({"op": "and", "conds": []}, "conds"),
    ({"op": "and", "conds": ["level"]}, "object"),
    (_must("level", "two"), "level"),
    (_must("level", True), "level"),
    (_must("context_type", 3), "context_type"),
    (_must("name"), "conds"),
    (_must("name", "a", para="-d=1"), "para"),
    (_must("uri", "a", para="deep"), "para"),
    ({"op": "range", "field": "name", "gte": 1}, "name"),
    ({"op": "range", "field": "level"}, "gte"),
    ({"op": "range", "field": "updated_at", "gte": "last tuesday"}, "updated_at"),
    ({"op": "time_range", "field": "level", "gte": 1}, "created_at"),
    ({"op": "prefix", "field": "tags", "prefix": "a"}, "tags"),
    ({"op": "contains", "field": "level", "substring": "1"}, "level"),
    (_must("name", "a\x00b"), "NUL"),
    ({"filter": "level"}, "object"),
]


@pytest.mark.parametrize(("doc", "named"), BAD_FILTERS)
def test_bad_filters_are_invalid_filter_naming_the_culprit(doc: Any, named: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        parse_filter(doc)
    assert caught.value.code == "INVALID_FILTER"
    assert caught.value.http_status == 400
    assert named in str(caught.value)


def test_oversized_filters_are_refused() -> None:
    deep: dict[str, Any] = _must("level", 0)
    for _ in range(20):
        deep = {"op": "and", "conds": [deep]}
    with pytest.raises(InvalidFilterError, match="too large"):
        parse_filter(deep)
    wide = {"op": "or", "conds": [_must("level", 0)] * 300}
    with pytest.raises(InvalidFilterError, match="too large"):
        parse_filter(wide)
    assert parse_filter({}) is None
    assert parse_filter(None) is None


# -- through the search service, with the hashing embedder ---------------------------------


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return hashing_config(workspace)


async def _find_uris(service: ContextService, ctx: Any, flt: dict[str, Any] | None) -> set[str]:
    request = FindRequest(query="rollback deploy canary", limit=50, filter=flt)
    result = await service.retrieval.find(ctx, request)
    return {hit.uri for hit in result.hits()}


async def test_find_applies_the_filter_within_the_callers_space(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    ben = await service.local_context("acme", "ben")
    text = "Rollback: revert the deploy tag, then canary."
    for ctx, uri in (
        (ann, "viking://user/ann/resources/private/plan.md"),
        (ann, "viking://resources/docs/guide.md"),
        (ann, "viking://resources/docs/ops/notes.md"),
        (ann, "viking://resources/other/readme.md"),
    ):
        await service.write(ctx, uri, text, mode="create")
    await service.wait_processing(ann, timeout=60)
    everything = await _find_uris(service, ann, None)
    assert "viking://user/ann/resources/private/plan.md" in everything
    assert "viking://resources/other/readme.md" in everything
    under_docs = await _find_uris(service, ann, _must("uri", "viking://resources/docs"))
    assert "viking://resources/docs/guide.md" in under_docs
    assert all(u.startswith("viking://resources/docs/") for u in under_docs)
    files = await _find_uris(service, ann, _must("level", 2))
    assert "viking://resources/docs/ops/notes.md" in files
    assert all(u.endswith(".md") and "/." not in u for u in files)
    # ben may not read ann's space: a filter naming it finds nothing of it
    for flt in (
        _must("uri", "viking://user/ann"),
        {"op": "or", "conds": [_must("uri", "viking://"), _must("context_type", "resource")]},
        {"op": "prefix", "field": "uri", "prefix": "viking://user/"},
    ):
        seen = await _find_uris(service, ben, flt)
        assert not any(u.startswith("viking://user/ann") for u in seen)
    with pytest.raises(InvalidFilterError, match="colour"):
        await _find_uris(service, ben, _must("colour", "red"))
    # the context mode has no use for a filter: accepted and reported as ignored
    context = await service.retrieval.search(
        ann, SearchRequest(query="rollback", mode="context", filter=_must("level", 2))
    )
    assert isinstance(context, ContextResult)
    assert "filter" in (context.stats.ignored or [])
