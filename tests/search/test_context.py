"""Context assembly (``search(mode="context")``): the pure budgeting/tier/rendering logic, then
the service end to end on a real store with the hashing embedder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openviking_mcp import AsyncOpenViking, OpenViking, OpenVikingConfig
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.search.context import (
    CATEGORIES,
    PURPOSE_QUOTAS,
    Candidate,
    ContextHit,
    category_of,
    context_hit,
    default_quotas,
    estimate_tokens,
    file_overview,
    parse_bullets,
    plan_budget,
    render_entry,
    requested_types,
    resolve_detail,
    resolve_quotas,
    select_hits,
    strip_memory_trailer,
    tier_bounds,
)
from tests.fakes import FakeOpenAIServer

MEM = "viking://user/default/memories"


# -- tokens and texts -------------------------------------------------------------------------


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10  # one 40-character word: chars / 4
    assert estimate_tokens("a b c d e f g h i j") == 13  # ten short words: words * 1.3
    assert estimate_tokens("你好世界") == 6  # wide characters weigh 1.5


def test_file_overview_prefers_the_summary_section_and_cuts_long_text() -> None:
    memory = "# Summary\nDeploy failed on Monday.\n\n# Details\nLong story."
    assert file_overview(memory) == "Deploy failed on Monday."
    assert file_overview("Short note.") == "Short note."
    long_text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(40))
    overview = file_overview(long_text, max_chars=500)
    assert overview.endswith("\n…")
    assert len(overview) <= 502
    assert long_text.startswith(overview.removesuffix("\n…"))


def test_strip_memory_trailer_and_parse_bullets() -> None:
    text = 'Body line.\n\n<!-- MEMORY_FIELDS\n{"memory_type": "events"}\n-->\n'
    assert strip_memory_trailer(text) == "Body line."
    assert strip_memory_trailer("No trailer.") == "No trailer."
    answer = "Here you go:\n- one\n* two\n3. three\n- four"
    assert parse_bullets(answer, 3) == "- one\n- two\n- three"
    assert parse_bullets("plain line\nanother", 5) == "- plain line\n- another"


# -- categories, hits, quotas ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "context_type", "is_dir", "category"),
    [
        (f"{MEM}/events/2026/01/05/outage.md", "memory", False, "events"),
        (f"{MEM}/entities/people/ann.md", "memory", False, "entities"),
        (f"{MEM}/preferences/default/editor.md", "memory", False, "preferences"),
        (f"{MEM}/experiences/deploys.md", "memory", False, "experiences"),
        (f"{MEM}/profile.md", "memory", False, "memories"),
        (f"{MEM}/cases/broken_build.md", "memory", False, "memories"),
        (f"{MEM}/events", "memory", True, "events"),
        (f"{MEM}/events.md", "memory", False, "memories"),
        ("viking://user/default/peers/bob/memories/entities/x.md", "memory", False, "entities"),
        ("viking://resources/guide/deploy.md", "resource", False, "resources"),
        ("viking://agent/skills/deploy/SKILL.md", "skill", False, "skills"),
    ],
)
def test_category_of(uri: str, context_type: str, is_dir: bool, category: str) -> None:
    assert category_of(uri, context_type, is_dir=is_dir) == category


def test_context_hit_converts_find_hits() -> None:
    directory = context_hit(
        {"uri": f"{MEM}/events/.overview.md", "context_type": "memory", "score": 0.5}
    )
    assert directory == ContextHit(f"{MEM}/events", "events", 0.5, True, "")
    file_hit = context_hit(
        {
            "uri": "viking://resources/a.md",
            "context_type": "resource",
            "score": float("nan"),
            "abstract": "",
            "match": "best passage",
        }
    )
    assert file_hit == ContextHit(
        "viking://resources/a.md", "resources", 0.0, False, "best passage"
    )
    for preset in ("viking://resources", f"{MEM}", "viking://agent/skills"):
        assert context_hit({"uri": f"{preset}/.abstract.md", "context_type": "memory"}) is None


def test_quotas() -> None:
    assert default_quotas(10) == {
        "events": 10,
        "entities": 10,
        "preferences": 3,
        "experiences": 0,
        "conversations": 3,
        "memories": 3,
        "resources": 10,
        "skills": 2,
    }
    assert default_quotas(1)["preferences"] == 1
    assert resolve_quotas(10, "coding", None) == PURPOSE_QUOTAS["coding"]
    chat = resolve_quotas(10, "chat", {"resources": 4, "memories": 2})
    assert chat == {**PURPOSE_QUOTAS["chat"], "resources": 4, "memories": 2}
    assert resolve_quotas(5, None, {"events": 0})["events"] == 0
    with pytest.raises(InvalidArgumentError, match=r"bogus, wat") as info:
        resolve_quotas(10, None, {"wat": 1, "bogus": 2, "events": 1})
    assert info.value.details["unknown"] == ["bogus", "wat"]
    with pytest.raises(InvalidArgumentError, match=r"quotas\.events"):
        resolve_quotas(10, None, {"events": -1})
    with pytest.raises(InvalidArgumentError, match="purpose"):
        resolve_quotas(10, "poetry", None)


def test_detail_and_tier_bounds() -> None:
    assert tier_bounds("events", "auto") == ("overview", "full")
    assert tier_bounds("preferences", "auto") == ("abstract", "abstract")
    assert tier_bounds("resources", "full") == ("full", "full")
    per = resolve_detail({"resources": "overview"})
    assert per["resources"] == "overview"
    assert per["events"] == "auto"
    assert set(resolve_detail("uri").values()) == {"uri"}
    with pytest.raises(InvalidArgumentError):
        resolve_detail("everything")
    with pytest.raises(InvalidArgumentError, match="nope"):
        resolve_detail({"nope": "full"})
    assert requested_types(None) == ("memory", "resource", "skill")
    assert requested_types("skill,memory") == ("memory", "skill")
    with pytest.raises(InvalidArgumentError):
        requested_types("document")


def _hit(uri: str, category: str, score: float, is_dir: bool = False) -> ContextHit:
    return ContextHit(uri, category, score, is_dir, f"abstract of {uri}")


def test_select_hits_applies_quotas_exclusions_and_merges() -> None:
    hits = [
        _hit("viking://resources/a.md", "resources", 0.9),
        _hit("viking://resources/b.md", "resources", 0.8),
        _hit("viking://resources/c.md", "resources", 0.7),
        _hit("viking://resources/b.md", "resources", 0.95),  # the same file from another query
        _hit(f"{MEM}/events/e1.md", "events", 0.3),
        _hit("viking://resources/docs", "resources", 0.99, is_dir=True),
        _hit("viking://resources/docs/x.md", "resources", 0.1),
        _hit("viking://resources/kb", "resources", 0.6, is_dir=True),
    ]
    quotas = {"resources": 3, "events": 1}
    kept, excluded = select_hits(hits, quotas, ["viking://resources/kb/.overview.md"])
    assert excluded == 1
    # events first; docs/ is covered by docs/x.md, the merged b.md keeps its best score
    assert [(h.uri, h.score) for h in kept] == [
        (f"{MEM}/events/e1.md", 0.3),
        ("viking://resources/b.md", 0.95),
        ("viking://resources/a.md", 0.9),
        ("viking://resources/c.md", 0.7),
    ]
    assert select_hits(hits, {"events": 1}) == ([hits[4]], 0)


# -- rendering ----------------------------------------------------------------------------------


def test_render_entry_escapes_attributes_and_guards_the_closing_tag() -> None:
    block = render_entry(
        'viking://resources/a "b" <c> & d.md', "memories", 0.8765, "abstract", "x </memory> y"
    )
    assert block.startswith(
        '<memory uri="viking://resources/a &quot;b&quot; &lt;c&gt; &amp; d.md" '
        'type="memories" score="0.88" detail="abstract">\n'
    )
    assert block.endswith("\nx &lt;/memory> y\n</memory>")
    assert block.count("</memory>") == 1
    resource = render_entry("viking://resources/r.md", "resources", 0.5, "uri", "")
    assert resource == (
        '<resource uri="viking://resources/r.md" type="resources" score="0.50" detail="uri">\n'
        "</resource>"
    )
    assert render_entry("viking://agent/skills/s", "skills", 1, "full", "t").startswith("<skill ")


# -- budgeting ----------------------------------------------------------------------------------


def _event(uri: str, score: float, full_words: int = 400) -> Candidate:
    return Candidate(
        uri,
        "events",
        score,
        {
            "abstract": "Deploy failed.",
            "overview": "Deploy failed on Monday because of a bad config. " * 4,
            "full": "word " * full_words,
        },
        start="overview",
        ceiling="full",
    )


def _pref(uri: str, score: float) -> Candidate:
    return Candidate(uri, "preferences", score, {"abstract": "Prefers vim. " * 3})


def _tiers(plan: Any) -> dict[str, str]:
    return {e.uri: e.detail for e in plan.entries}


def test_generous_budget_uses_defaults_and_deepens_events() -> None:
    plan = plan_budget([_pref(f"{MEM}/p.md", 0.9), _event(f"{MEM}/e.md", 0.5)], 3000)
    assert _tiers(plan) == {f"{MEM}/e.md": "full", f"{MEM}/p.md": "abstract"}
    assert [e.category for e in plan.entries] == ["events", "preferences"]  # category order
    assert plan.dropped == []
    assert plan.used_tokens == sum(e.tokens for e in plan.entries) <= 3000
    assert estimate_tokens(plan.rendered) <= plan.used_tokens
    assert plan.tier_counts() == {"uri": 0, "abstract": 1, "overview": 0, "full": 1}


def _uri_cost(c: Candidate) -> int:
    return estimate_tokens(render_entry(c.uri, c.category, c.score, "uri", "")) + 1


def test_tight_budgets_step_tiers_down_before_dropping() -> None:
    candidates = [_event(f"{MEM}/e{i}.md", 0.9 - i / 10) for i in range(3)]
    expected = {
        2000: ("full", "full", "full"),
        1000: ("full", "overview", "overview"),
        300: ("overview", "overview", "overview"),
        150: ("overview", "abstract", "abstract"),
        90: ("abstract", "uri", "uri"),
    }
    for budget, tiers in expected.items():
        plan = plan_budget(candidates, budget)
        assert plan.used_tokens <= budget
        assert plan.dropped == []
        assert tuple(e.detail for e in plan.entries) == tiers  # best score first
    plan = plan_budget(candidates, 64)  # three bare URIs no longer fit: the worst goes
    assert [c.uri for c in plan.dropped] == [f"{MEM}/e2.md"]
    assert sum(_uri_cost(c) for c in candidates) > 64
    assert [e.uri for e in plan.entries] == [f"{MEM}/e0.md", f"{MEM}/e1.md"]
    assert plan.used_tokens <= 64


def test_explicit_tier_is_a_ceiling_and_missing_tiers_step_down() -> None:
    only_abstract = Candidate("viking://resources/a.md", "resources", 0.7, {"abstract": "A."})
    only_abstract.start = only_abstract.ceiling = "full"
    pinned = _event(f"{MEM}/e.md", 0.5)
    pinned.start = pinned.ceiling = "overview"
    plan = plan_budget([only_abstract, pinned], 5000)
    assert _tiers(plan) == {"viking://resources/a.md": "abstract", f"{MEM}/e.md": "overview"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(CATEGORIES),
            st.integers(0, 300),
            st.integers(0, 2000),
        ),
        max_size=12,
    ),
    st.integers(64, 3000),
)
def test_budget_invariants(specs: list[tuple[float, str, int, int]], budget: int) -> None:
    candidates = [
        Candidate(
            f"viking://resources/doc{i}.md",
            category,
            score,
            {"abstract": "a " * small, "overview": "o " * (small * 2), "full": "f " * big},
            start="overview" if category == "events" else "abstract",
            ceiling="full" if category == "events" else "abstract",
        )
        for i, (score, category, small, big) in enumerate(specs)
    ]
    plan = plan_budget(candidates, budget)
    assert plan.used_tokens <= budget
    assert plan.used_tokens == sum(e.tokens for e in plan.entries)
    assert estimate_tokens(plan.rendered) <= plan.used_tokens
    assert len(plan.entries) + len(plan.dropped) == len(candidates)
    if plan.dropped:  # dropping was unavoidable: even bare URIs would not have fitted
        kept = sum(_uri_cost(c) for c in candidates if c.uri in {e.uri for e in plan.entries})
        assert kept + min(_uri_cost(c) for c in plan.dropped) > budget
        # a uniquely best-scored candidate that fits is never dropped for worse ones
        top = max(c.score for c in candidates)
        best = [c for c in candidates if c.score == top]
        if len(best) == 1 and _uri_cost(best[0]) <= budget:
            assert best[0].uri in {e.uri for e in plan.entries}


# -- the service ----------------------------------------------------------------------------------

EVENT = f"{MEM}/events/2026/01/05/falcon_outage.md"
PREF = f"{MEM}/preferences/default/editor.md"
PROFILE = f"{MEM}/profile.md"
GUIDE = "viking://resources/falcon/deploy.md"
EVENT_TEXT = (
    "# Summary\nThe Falcon deploy failed on 5 January because of a bad config flag.\n\n"
    "# Details\n" + "The rollback of the Falcon release took twenty minutes. " * 40
)
GUIDE_TEXT = "# Falcon deploy guide\n\nRun falconctl deploy; roll back with falconctl rollback."


def _config(workspace: Path, **extra: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            **extra,
        }
    )


def _seed(ov: OpenViking) -> None:
    ov.write(EVENT, EVENT_TEXT, mode="create")
    ov.write(PREF, "User prefers vim keybindings when editing Falcon deploy files.", mode="create")
    ov.write(PROFILE, "User is a release engineer who deploys Falcon.", mode="create")
    ov.write(GUIDE, GUIDE_TEXT, mode="create")
    ov.wait_processing(timeout=60)


@pytest.fixture
def seeded(workspace: Path) -> Iterator[OpenViking]:
    with OpenViking(config=_config(workspace)) as ov:
        _seed(ov)
        yield ov


@pytest.fixture
def empty(workspace: Path) -> Iterator[OpenViking]:
    with OpenViking(config=_config(workspace)) as ov:
        yield ov


def _by_uri(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["uri"]: e for e in result["entries"]}


def test_assemble_default(seeded: OpenViking) -> None:
    result = seeded.assemble_context("falcon deploy rollback")
    entries = _by_uri(result)
    assert set(entries) == {EVENT, PREF, PROFILE, GUIDE}
    assert [e["category"] for e in result["entries"]] == [
        "events",
        "preferences",
        "memories",
        "resources",
    ]
    assert entries[EVENT]["detail"] == "full"  # spare budget deepens the event
    assert entries[EVENT]["text"] == EVENT_TEXT.strip()
    assert entries[PREF]["detail"] == "abstract"
    assert "vim" in entries[PREF]["text"]
    stats = result["stats"]
    assert stats["max_tokens"] == 1600
    assert 0 < stats["used_tokens"] <= 1600
    assert stats["candidates"] == stats["returned"] == 4
    assert stats["dropped"] == 0
    assert sum(stats["tier_counts"].values()) == 4
    assert stats["query_expansion"] == "off"
    assert stats["planned_queries"] == ["falcon deploy rollback"]
    assert result["digest"] == ""
    assert stats["rewrite"] == "off"
    rendered = result["rendered"]
    assert rendered.startswith(f'<memory uri="{EVENT}" type="events" score="')
    assert f'<resource uri="{GUIDE}" type="resources"' in rendered
    assert rendered.count("</memory>") == 3
    assert rendered.index(PREF) < rendered.index(PROFILE) < rendered.index(GUIDE)


def test_assemble_within_tight_budgets(seeded: OpenViking) -> None:
    mid = seeded.assemble_context("falcon deploy rollback", max_tokens=300)
    assert mid["stats"]["used_tokens"] <= 300
    event = _by_uri(mid)[EVENT]
    assert event["detail"] == "overview"  # the full text no longer fits
    assert event["text"] == "The Falcon deploy failed on 5 January because of a bad config flag."
    tiny = seeded.assemble_context("falcon deploy rollback", max_tokens=64)
    stats = tiny["stats"]
    assert stats["used_tokens"] <= 64
    assert stats["dropped"] > 0
    assert stats["returned"] + stats["dropped"] == stats["candidates"] == 4
    assert stats["tier_counts"]["uri"] == stats["returned"]
    assert all(e["text"] == "" for e in tiny["entries"])


def test_assemble_quotas_purpose_and_filters(seeded: OpenViking) -> None:
    query = "falcon deploy rollback"
    no_resources = seeded.assemble_context(query, quotas={"resources": 0})
    assert GUIDE not in _by_uri(no_resources)
    assert EVENT in _by_uri(no_resources)
    coding = seeded.assemble_context(query, purpose="coding")
    assert coding["stats"]["quotas"] == PURPOSE_QUOTAS["coding"]
    assert PROFILE not in _by_uri(coding)  # other memories have no slot in the presets
    assert {EVENT, PREF, GUIDE} <= set(_by_uri(coding))
    only_resources = seeded.assemble_context(query, context_type="resource")
    assert {e["category"] for e in only_resources["entries"]} == {"resources"}
    excluded = seeded.assemble_context(
        query, exclude_uris=["viking://~/memories/profile.md", EVENT]
    )
    assert set(_by_uri(excluded)) == {PREF, GUIDE}
    assert excluded["stats"]["excluded"] == 2
    full = seeded.assemble_context(query, detail="full", context_type="resource")
    assert _by_uri(full)[GUIDE] == {**_by_uri(full)[GUIDE], "detail": "full", "text": GUIDE_TEXT}
    short = seeded.assemble_context(query, detail="abstract")
    assert {e["detail"] for e in short["entries"]} == {"abstract"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 63}, "max_tokens"),
        ({"max_tokens": 32_001}, "max_tokens"),
        ({"quotas": {"events": 1, "bogus": 2}}, "bogus"),
        ({"exclude_uris": [f"viking://resources/x{i}.md" for i in range(201)]}, "exclude_uris"),
        ({"detail": "everything"}, "detail"),
        ({"rewrite": "always"}, "rewrite"),
        ({"rewrite_max_bullets": 0}, "rewrite_max_bullets"),
        ({"purpose": "poetry"}, "purpose"),
    ],
)
def test_assemble_refuses_bad_arguments(
    empty: OpenViking, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        empty.assemble_context("falcon", **kwargs)


def test_search_modes(seeded: OpenViking) -> None:
    context = seeded.search("falcon deploy rollback", mode="context", max_tokens=800)
    assert set(context) == {"entries", "rendered", "digest", "stats"}
    assert context["stats"]["max_tokens"] == 800
    assert set(_by_uri(context)) == set(_by_uri(seeded.assemble_context("falcon deploy rollback")))
    listed = seeded.search("falcon deploy rollback")
    assert "query_plan" in listed
    assert listed["resources"]
    with pytest.raises(InvalidArgumentError, match="max_tokens, purpose"):
        seeded.search("falcon", max_tokens=500, purpose="chat")
    with pytest.raises(InvalidArgumentError, match="target_uri"):
        seeded.search("falcon", mode="context", target_uri="viking://resources")
    with pytest.raises(InvalidArgumentError, match="mode"):
        seeded.search("falcon", mode="summary")


@pytest.mark.anyio
async def test_search_context_reports_ignored_level(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        await aov.write(GUIDE, GUIDE_TEXT, mode="create", wait=True)
        result = await aov.service.search(aov.context, "falcon deploy", mode="context", level=2)
        assert result["stats"]["ignored"] == ["level"]
        assert [e["uri"] for e in result["entries"]] == [GUIDE]


@pytest.mark.anyio
async def test_session_expands_the_query(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        await aov.write(
            "viking://resources/okapi.md", "Okapi enclosure cleaning rota.", mode="create"
        )
        await aov.write(GUIDE, GUIDE_TEXT, mode="create", wait=True)
        await aov.wait_processing(timeout=60)
        message = {"role": "user", "content": "Tell me about the okapi enclosure"}
        await aov.service.store.content.write_bytes(
            "default/user/default/sessions/s1/messages.jsonl", json.dumps(message).encode()
        )
        result = await aov.assemble_context("cleaning rota", session_id="s1")
        stats = result["stats"]
        assert stats["query_expansion"] == "keywords"
        assert "okapi" in stats["planned_queries"][0]
        assert result["entries"][0]["uri"] == "viking://resources/okapi.md"
        await aov.service.store.content.mkdir("default/user/default/sessions/empty", exist_ok=True)
        plain = await aov.assemble_context("cleaning rota", session_id="empty")
        assert plain["stats"]["query_expansion"] == "none"
        assert plain["stats"]["planned_queries"] == ["cleaning rota"]
        missing = await aov.assemble_context("cleaning rota", session_id="no-such-session")
        assert missing["stats"]["query_expansion"] == "none"  # as a session without messages


def _digest_chat(body: dict[str, Any]) -> str:
    prompt = str(body["messages"][-1]["content"])
    if "bullet points" in prompt:
        if "FAIL" in prompt:
            raise KeyError("digest")  # the fake server answers 404
        return "Relevant:\n- Falcon deploys use falconctl\n- Roll back with falconctl\n- Extra"
    return "Summary of Falcon notes."


def test_rewrite_needs_an_llm(seeded: OpenViking) -> None:
    result = seeded.assemble_context("falcon deploy", rewrite="auto")
    assert (result["digest"], result["stats"]["rewrite"]) == ("", "unavailable")
    assert result["entries"]


@pytest.mark.slow  # imports litellm (seconds)
@pytest.mark.anyio
async def test_rewrite_digest(workspace: Path) -> None:
    with FakeOpenAIServer(_digest_chat) as server:
        vlm = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
        async with AsyncOpenViking(config=_config(workspace, vlm=vlm)) as aov:
            await aov.write(GUIDE, GUIDE_TEXT, mode="create", wait=True)
            result = await aov.assemble_context(
                "falcon deploy", rewrite="auto", rewrite_max_bullets=2
            )
            assert result["stats"]["rewrite"] == "ok"
            assert result["digest"] == "- Falcon deploys use falconctl\n- Roll back with falconctl"
            prompt = str(server.paths("/chat/completions")[-1]["messages"][-1]["content"])
            assert result["rendered"] in prompt
            off = await aov.assemble_context("falcon deploy")
            assert (off["digest"], off["stats"]["rewrite"]) == ("", "off")
            failed = await aov.assemble_context("FAIL falcon deploy", rewrite="auto")
            assert (failed["digest"], failed["stats"]["rewrite"]) == ("", "failed")
            assert failed["entries"]  # the assembly itself still succeeds


def test_rendered_blocks_parse_back(seeded: OpenViking) -> None:
    result = seeded.assemble_context("falcon deploy rollback", detail="overview")
    blocks = re.findall(
        r'<(memory|resource|skill) uri="([^"]*)" type="([^"]*)" score="([0-9.]+)" '
        r'detail="([a-z]+)">\n(.*?)\n?</\1>',
        result["rendered"],
        flags=re.DOTALL,
    )
    assert [(b[1], b[2], b[4]) for b in blocks] == [
        (e["uri"], e["category"], e["detail"]) for e in result["entries"]
    ]
    assert [b[5] for b in blocks] == [e["text"] for e in result["entries"]]


@pytest.mark.anyio
async def test_dedup_turns_cools_what_earlier_turns_injected(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        svc = aov.service
        for name in ("alpha", "beta"):
            await aov.write(
                f"viking://resources/{name}.md",
                f"Okapi enclosure cleaning rota, {name} shift.",
                mode="create",
            )
        await aov.wait_processing(timeout=60)
        await svc.store.content.mkdir("default/user/default/sessions/chat", exist_ok=True)
        first = await aov.assemble_context(
            "okapi cleaning rota", session_id="chat", dedup_turns=2, limit=1
        )
        assert first["stats"]["dedup"]["status"] == "applied"
        assert first["stats"]["dedup"]["turn"] == 1
        shown = {e["uri"] for e in first["entries"]}
        assert shown
        second = await aov.assemble_context(
            "okapi cleaning rota", session_id="chat", dedup_turns=2, limit=1
        )
        assert second["stats"]["dedup"]["cooled"] == len(shown)
        assert not shown & {e["uri"] for e in second["entries"]}
        plain = await aov.assemble_context("okapi cleaning rota", session_id="chat")
        assert shown & {e["uri"] for e in plain["entries"]}  # no dedup asked: all eligible
        with pytest.raises(InvalidArgumentError):
            await aov.assemble_context("okapi", dedup_turns=2)
