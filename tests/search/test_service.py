"""The search service's own seams: the find latency window, the injected recent-messages
reader, the wire form of find results, and the observer reading both."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.base import Empty, to_wire
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import FindRequest, FindResult, SearchRequest
from openviking_mcp.observer.service import ObserverService
from openviking_mcp.search.latency import LatencyWindow
from openviking_mcp.search.service import SearchService

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]


def test_latency_window_summarises_recent_calls() -> None:
    window = LatencyWindow(size=3)
    empty = window.summary()
    assert (empty.calls, empty.window, empty.p50_ms, empty.last_at) == (0, 0, None, None)
    for seconds, found in ((0.004, 2), (0.001, 0), (0.002, 5), (0.003, 0)):
        window.add(seconds, results=found)
    window.add(0.010, ok=False)
    summary = window.summary()
    assert (summary.calls, summary.errors, summary.window) == (5, 1, 3)
    assert (summary.results, summary.zero_results) == (7, 2)  # a failed call is no zero result
    assert (summary.p50_ms, summary.p95_ms, summary.max_ms) == (3.0, 10.0, 10.0)
    assert summary.mean_ms == 5.0
    assert summary.last_at is not None


def test_find_result_wire_keeps_only_what_a_hit_has() -> None:
    directory = {"context_type": "resource", "uri": "viking://resources/d/.abstract.md"}
    found = FindResult.model_validate(
        {"resources": [{**directory, "level": 0, "score": 0.5}], "total": 1}
    )
    assert to_wire(found) == {
        "memories": [],
        "resources": [
            {
                **directory,
                "level": 0,
                "score": 0.5,
                "abstract": "",
                "tags": [],
                "match_reason": "",
                "relations": [],
            }
        ],
        "skills": [],
        "total": 1,
    }


async def test_search_plans_from_the_injected_messages(service: ContextService) -> None:
    ctx = await service.local_context()
    await service.write(ctx, "viking://resources/okapi.md", "Okapi enclosure rota.", mode="create")
    await service.wait_processing(ctx, timeout=60)
    asked: list[tuple[str, int]] = []

    async def recent(ctx: RequestContext, session_id: str, n: int) -> list[str]:
        asked.append((session_id, n))
        return ["the okapi enclosure", "okapi"]

    search = SearchService(service.store, service.relations, recent)
    result = await search.search(ctx, SearchRequest(query="rota", session_id="chat"))
    assert asked == [("chat", 5)]
    assert isinstance(result, FindResult)
    assert result.query_plan is not None
    assert result.query_plan.queries[0].query == "rota okapi enclosure"
    assert result.resources[0].uri == "viking://resources/okapi.md"
    assert all(h.relations == [] for h in result.hits())
    assert search.latency.summary().calls == 1
    with pytest.raises(InvalidArgumentError, match="limit"):
        await search.find(ctx, FindRequest(query="rota", limit=0))
    assert (search.latency.calls, search.latency.errors) == (2, 1)


async def test_search_with_a_session_that_does_not_exist_is_a_plain_find(
    service: ContextService,
) -> None:
    ctx = await service.local_context()
    await service.write(ctx, "viking://resources/tapir.md", "Tapir feeding times.", mode="create")
    await service.wait_processing(ctx, timeout=60)
    for mode in ("list", "context"):
        request = SearchRequest(query="tapir feeding", session_id="never-made", mode=mode)
        result = await service.retrieval.search(ctx, request)
        assert "viking://resources/tapir.md" in json.dumps(to_wire(result)), mode
    listed = await service.retrieval.search(ctx, SearchRequest(query="tapir", session_id="gone"))
    assert isinstance(listed, FindResult)
    assert listed.query_plan is not None
    assert listed.query_plan.queries[0].query == "tapir"


async def test_search_reports_the_provenance_of_each_planned_query(
    service: ContextService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = await service.local_context()
    await service.write(ctx, "viking://resources/zebu.md", "Zebu grazing plan.", mode="create")
    await service.wait_processing(ctx, timeout=60)
    search = service.retrieval

    async def planned(ctx: RequestContext, query: str, session_id: str | None) -> object:
        return [query, "zebu grazing"], "llm"

    monkeypatch.setattr(search.planner, "queries", planned)
    request = SearchRequest(query="zebu", session_id="chat", include_provenance=True)
    result = await search.search(ctx, request)
    assert isinstance(result, FindResult)
    assert result.provenance is not None
    assert [p.query for p in result.provenance] == ["zebu", "zebu grazing"]
    assert "viking://resources/zebu.md" in {
        m.uri for p in result.provenance for m in p.matched_contexts
    }
    without = await search.search(ctx, SearchRequest(query="zebu", session_id="chat"))
    assert isinstance(without, FindResult)
    assert without.provenance is None


@dataclass
class _Streams:
    ids: list[str] = field(default_factory=list)

    async def running(self) -> list[str]:
        return self.ids


@dataclass
class _Bot:
    turns: Counter[tuple[str, str]]
    streams: _Streams


async def test_observer_reads_the_latency_window_and_the_bot(service: ContextService) -> None:
    ctx = await service.local_context()
    window = LatencyWindow()
    window.add(0.002)
    bot = _Bot(Counter({("llm", "answered"): 2}), _Streams(["resp_1"]))
    observer = ObserverService(service.store, window, bot=lambda: bot)
    snapshot = await observer.metrics_snapshot()
    assert snapshot.find_latency.calls == 1
    assert (snapshot.bot_turns, snapshot.bot_running) == ({("llm", "answered"): 2}, 1)
    assert (await ObserverService(service.store, window).metrics_snapshot()).bot_turns == {}
    retrieval = await observer.retrieval(ctx, Empty())
    assert retrieval.details.find_latency.calls == 1
    assert "| Zero-Result Rate" in retrieval.status
    assert "100.0%" in retrieval.status
    system = to_wire(await service.observer.system(ctx, Empty()))
    assert system["components"]["queue"]["details"]["workers"]["owner"]
    assert system["components"]["models"]["details"]["embedding"]["kind"] == "embedding"
