"""The pure filter documents of ``vector_count`` and the typed debug operations."""

from __future__ import annotations

import math

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.base import parse_request, to_wire
from openviking_mcp.contract.debug import VectorCountRequest, VectorScrollRequest
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.debug.filters import InvalidFilterError, collect_filter


def test_plain_fields_and_query_arguments_merge() -> None:
    values = collect_filter(
        '{"uri": "viking://resources/a", "tags": "x", "updated_after": 5}',
        uri="viking://resources/b",
        level=2,
    )
    assert values == {
        "uri": ["viking://resources/a", "viking://resources/b"],
        "tags": ["x"],
        "updated_after": 5.0,
        "level": [2],
    }


def test_conditions_turn_inclusive_bounds_exclusive() -> None:
    doc = (
        '{"op": "and", "conds": ['
        '{"op": "must", "field": "context_type", "conds": ["resource"]},'
        '{"op": "prefix", "field": "uri", "prefix": "viking://resources/docs"},'
        '{"op": "range", "field": "updated_at", "gte": 10, "lte": 20}]}'
    )
    values = collect_filter(doc)
    assert values["context_type"] == ["resource"]
    assert values["uri"] == ["viking://resources/docs"]
    assert values["updated_after"] == math.nextafter(10.0, -math.inf)
    assert values["updated_before"] == math.nextafter(20.0, math.inf)


@pytest.mark.parametrize(
    ("doc", "kwargs"),
    [
        ("{not json", {}),
        ("[1]", {}),
        ('{"colour": "red"}', {}),
        ('{"level": true}', {}),
        ('{"op": "or", "conds": []}', {}),
        ('{"context_type": "memory"}', {"context_type": "resource"}),
        ('{"account_id": "a"}', {"account_id": "b"}),
    ],
)
def test_bad_filters_are_invalid_filter(doc: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        collect_filter(doc, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "INVALID_FILTER"


def test_count_request_takes_the_wire_name_and_the_python_name() -> None:
    assert parse_request(VectorCountRequest, {"filter": "{}"}).filter_json == "{}"
    assert parse_request(VectorCountRequest, {"filter_json": "{}"}).filter_json == "{}"
    with pytest.raises(InvalidArgumentError):
        parse_request(VectorScrollRequest, {"limit": True})


@pytest.mark.anyio
async def test_typed_scroll_and_count_on_an_empty_index(service: ContextService) -> None:
    ctx = service.dev_context()
    page = await service.debug.vector_scroll(ctx, VectorScrollRequest(limit=5))
    assert to_wire(page) == {"records": [], "next_cursor": None, "count": 0}
    counted = await service.debug.vector_count(ctx, VectorCountRequest())
    assert to_wire(counted) == {"count": 0}
    with pytest.raises(InvalidArgumentError):
        await service.debug.vector_scroll(ctx, VectorScrollRequest(limit=0))
