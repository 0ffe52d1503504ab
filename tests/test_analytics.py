"""Usage analytics on both backends: a scripted workload of reads, searches and misses, then
gaps, top-accessed, stale, queries and by-channel; who may read them; retention; no content
in the stored rows."""

from __future__ import annotations

import time

import pytest
from mcp import Client

from openviking_mcp import ContextService
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server import build_mcp_server
from openviking_mcp.storage.usage import UsageRecord
from tests.conftest import hashing_config

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

KB = "viking://resources/kb"
DOCS = {
    "postgres-backup.md": "How to back up the PostgreSQL database with pg_dump and restore it.",
    "oauth-login.md": "The OAuth login flow: redirect to the identity provider, exchange a token.",
    "release-process.md": "Release process: tag the version, build the wheel, publish it.",
    "office-plants.md": "Notes about the office plants and the watering schedule.",
}
HITS = ["postgres backup pg_dump", "oauth login token", "postgres backup pg_dump"]
#: Three missing topics, each asked in two or three ways (one phrasing twice).
MISSING = {
    "kubernetes": ["kubernetes deployment rollback", "rollback kubernetes deployments"],
    "grafana": ["grafana dashboard alerts", "grafana alerts dashboards", "grafana alert dashboard"],
    "slack": ["slack notification webhook", "slack webhook notifications"],
}
THRESHOLD = 0.4


@pytest.fixture
def config(workspace, storage_section) -> OpenVikingConfig:  # type: ignore[no-untyped-def]
    return hashing_config(workspace, storage_section)


async def _kb(service: ContextService, ctx: RequestContext) -> None:
    for name, text in DOCS.items():
        await service.write(ctx, f"{KB}/{name}", text, mode="create")
    await service.wait_processing(ctx)


async def _workload(service: ContextService, ctx: RequestContext) -> dict[str, float]:
    """Reads, hits and misses; the best score of each query as find answered it."""
    best: dict[str, float] = {}
    for _ in range(3):
        await service.read(ctx, f"{KB}/postgres-backup.md")
    await service.read_level(ctx, f"{KB}/oauth-login.md", "full")
    queries = [*HITS]
    for phrasings in MISSING.values():
        queries.extend(phrasings)
    queries.append(MISSING["slack"][0])  # asked twice
    for query in queries:
        found = await service.find(ctx, query)
        scores = [h["score"] for k in ("memories", "resources", "skills") for h in found[k]]
        best[query] = max(scores, default=0.0)
    return best


async def test_gaps_list_exactly_the_missing_topics(service: ContextService) -> None:
    ctx = service.dev_context()
    await _kb(service, ctx)
    best = await _workload(service, ctx)
    assert all(best[q] >= THRESHOLD for q in HITS)  # the workload is what it claims
    assert all(best[q] < THRESHOLD for p in MISSING.values() for q in p)
    gaps = (await service.analytics_gaps(ctx, threshold=THRESHOLD))["gaps"]
    assert len(gaps) == 3
    topic_of = {q: t for t, phrasings in MISSING.items() for q in phrasings}
    by_topic = {topic_of[g["query"]]: g for g in gaps}
    assert {t: sorted(g["queries"]) for t, g in by_topic.items()} == {
        t: sorted(p) for t, p in MISSING.items()
    }
    assert {t: g["count"] for t, g in by_topic.items()} == {
        "kubernetes": 2,
        "grafana": 3,
        "slack": 3,
    }
    assert by_topic["slack"]["query"] == "slack notification webhook"  # most asked phrasing
    assert [g["count"] for g in gaps] == sorted((g["count"] for g in gaps), reverse=True)
    assert all(g["best_score"] < THRESHOLD for g in gaps)
    none = await service.analytics_gaps(ctx, threshold=0.0)
    assert none["gaps"] == []


async def test_top_accessed_and_queries(service: ContextService) -> None:
    ctx = service.dev_context()
    await _kb(service, ctx)
    best = await _workload(service, ctx)
    by_reads = (await service.analytics_top_accessed(ctx, by="reads"))["contexts"]
    assert [(c["uri"], c["reads"]) for c in by_reads[:2]] == [
        (f"{KB}/postgres-backup.md", 3),
        (f"{KB}/oauth-login.md", 1),
    ]
    by_hits = (await service.analytics_top_accessed(ctx, by="hits"))["contexts"]
    hits = [c["hits"] for c in by_hits]
    assert hits == sorted(hits, reverse=True)
    assert hits[0] >= 2
    counts = {c["uri"]: c["hits"] for c in by_hits}
    assert counts[f"{KB}/postgres-backup.md"] >= 2  # the top hit of both of its queries
    assert not any(c["uri"].endswith((".abstract.md", ".overview.md")) for c in by_hits)
    total = (await service.analytics_top_accessed(ctx, limit=3))["contexts"]
    sums = [c["reads"] + c["hits"] for c in total]
    assert sums == sorted(sums, reverse=True)
    recent = (await service.analytics_queries(ctx, limit=3))["queries"]
    assert [q["query"] for q in recent] == [
        MISSING["slack"][0],
        MISSING["slack"][1],
        MISSING["slack"][0],
    ]
    assert all(q["hit_count"] > 0 and q["surface"] == "python" for q in recent)
    assert recent[0]["best_score"] == pytest.approx(best[MISSING["slack"][0]], abs=1e-5)
    every = (await service.analytics_queries(ctx, limit=100))["queries"]
    first = every[-1]
    assert first["query"] == HITS[0]
    assert first["best_score"] == pytest.approx(best[HITS[0]])
    with pytest.raises(InvalidArgumentError):
        await service.analytics_top_accessed(ctx, by="nonsense")


async def test_stale_lists_the_untouched_contexts(service: ContextService) -> None:
    ctx = service.dev_context()
    await _kb(service, ctx)
    await service.read(ctx, f"{KB}/postgres-backup.md")
    await service.abstract(ctx, f"{KB}/oauth-login.md")
    old = time.time() - 20 * 86400  # within the retention (30 days)
    service.store.usage.add(
        UsageRecord(old, "default", "default", "python", "read", "read", f"{KB}/release-process.md")
    )
    stale = await service.analytics_stale(ctx, days=10)
    listed = {c["uri"]: c["last_access"] for c in stale["contexts"]}
    assert set(listed) == {f"{KB}/office-plants.md", f"{KB}/release-process.md"}
    assert listed[f"{KB}/office-plants.md"] is None
    assert listed[f"{KB}/release-process.md"] is not None
    assert stale["contexts"][-1]["uri"] == f"{KB}/release-process.md"  # never used first
    longer = await service.analytics_stale(ctx, days=25)
    assert f"{KB}/release-process.md" not in {c["uri"] for c in longer["contexts"]}


async def test_by_channel_counts_python_and_mcp(service: ContextService) -> None:
    ctx = service.dev_context()
    await _kb(service, ctx)
    await service.read(ctx, f"{KB}/postgres-backup.md")
    await service.find(ctx, "postgres backup")
    async with Client(build_mcp_server(service, caller=ctx)) as mcp:
        await mcp.call_tool("read", {"uri": f"{KB}/oauth-login.md"})
        await mcp.call_tool("read", {"uri": f"{KB}/oauth-login.md"})
        await mcp.call_tool("find", {"query": "oauth login"})
    channels = {c["surface"]: c for c in (await service.analytics_by_channel(ctx))["channels"]}
    assert (channels["python"]["reads"], channels["python"]["queries"]) == (1, 1)
    assert channels["python"]["changes"] == len(DOCS)  # the writes, from the audit log
    assert (channels["mcp"]["reads"], channels["mcp"]["queries"]) == (2, 1)
    assert channels["http"]["reads"] == 0


async def test_only_admins_read_analytics_and_nothing_but_queries_is_stored(
    service: ContextService,
) -> None:
    root = RequestContext.root()
    made = await service.create_account(root, "acme", "ann")
    ann = await service.auth.resolve_api_key(made["user_key"])
    ben_key = (await service.create_user(ann, "acme", "ben"))["user_key"]
    ben = await service.auth.resolve_api_key(ben_key)
    await service.write(ben, "viking://resources/secret.md", "zebra-quartz body", mode="create")
    await service.read(ben, "viking://resources/secret.md")
    await service.find(ben, "where is the zebra")
    for name in ("analytics_queries", "analytics_gaps", "analytics_stale"):
        with pytest.raises(PermissionDeniedError):
            await getattr(service, name)(ben)
    with pytest.raises(PermissionDeniedError):
        await service.analytics_queries(ann, account_id="default")
    mine = (await service.analytics_queries(ann))["queries"]
    assert [(q["user_id"], q["query"]) for q in mine] == [("ben", "where is the zebra")]
    as_root = (await service.analytics_queries(root, account_id="acme"))["queries"]
    assert as_root == mine
    assert (await service.analytics_queries(service.dev_context()))["queries"] == []
    rows = await service.store.db.fetchall("SELECT uri, query FROM usage_log", ())
    assert not any("body" in str(r["uri"]) + str(r["query"]) for r in rows)
    with pytest.raises(InvalidArgumentError):
        await service.analytics_queries(ann, days=0)


async def test_retention_and_disabled(service: ContextService) -> None:
    ctx = service.dev_context()
    old = time.time() - 100 * 86400
    usage = service.store.usage
    usage.add(UsageRecord(old, "default", "default", "cli", "query", "find", query="q1"))
    await usage.flush()  # the first flush prunes
    usage.add(UsageRecord(old, "default", "default", "cli", "query", "find", query="q2"))
    await usage.flush()  # the next only after an hour
    assert await usage.prune() == 1
    assert await service.store.db.fetchall("SELECT seq FROM usage_log", ()) == []
    service.analytics._config = service.analytics._config.model_copy(update={"enabled": False})
    await service.find(ctx, "anything at all")
    assert (await service.analytics_queries(ctx))["queries"] == []
