"""A fixed slice guards ``find``'s ranking with the real default embedder (local MiniLM).

Thirty short documents on distinct topics, with distractors that share a query's words but
not its meaning, and queries whose relevant documents are known. The assertions are about
places in the ranking (in the top 10, or first), never about timings or exact scores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.identity import RequestContext

pytestmark = pytest.mark.anyio

DOCS = {
    "sourdough": "Feeding a sourdough starter: discard half, add equal weights of flour and "
    "water, and keep it warm until it doubles before baking bread.",
    "espresso": "Pulling an espresso shot: 18 grams of finely ground coffee, 9 bar of "
    "pressure and about 28 seconds for a 36 gram drink.",
    "tides": "Tides rise and fall twice a day because the Moon's gravity pulls the oceans "
    "into two bulges that the Earth rotates through.",
    "photosynthesis": "Plants turn light, water and carbon dioxide into glucose and oxygen "
    "in their chloroplasts; chlorophyll absorbs the red and blue light.",
    "volcano": "A stratovolcano is built from layers of ash and lava; its sticky magma traps "
    "gas, so its eruptions are explosive.",
    "marathon": "Training for a marathon: build weekly mileage slowly, do one long run a "
    "week and taper for three weeks before the race.",
    "chess": "The Sicilian Defence answers 1.e4 with c5 and leads to sharp, unbalanced "
    "positions that favour the side who calculates better.",
    "tax": "Self-employed workers pay estimated income tax every quarter to avoid a penalty "
    "at the end of the year.",
    "vaccines": "Vaccines train the immune system by showing it a harmless piece of a "
    "pathogen, so that memory cells respond quickly to a real infection.",
    "git-rebase": "git rebase moves a branch's commits on top of another branch, rewriting "
    "their history; never rebase commits that others have pulled.",
    "tcp": "TCP's three-way handshake: the client sends SYN, the server answers SYN-ACK and "
    "the client completes the connection with ACK.",
    "postgres-vacuum": "PostgreSQL's VACUUM reclaims the space of dead row versions left by "
    "updates and deletes; autovacuum runs it in the background.",
    "kubernetes": "A Kubernetes Deployment keeps a number of identical pods running and "
    "replaces them one by one during a rolling update.",
    "rust-borrow": "Rust's borrow checker allows either one mutable reference or any number "
    "of shared references to a value at a time.",
    "xj9000": "The XJ-9000 reactor needs quarterly maintenance by certified staff; log each "
    "inspection in the plant register.",
    "reactor-general": "Nuclear reactors use control rods to absorb neutrons and keep the "
    "chain reaction steady.",
    "oncall": "The on-call engineer answers pages within fifteen minutes and hands over the "
    "pager every Monday at ten.",
    "vacation": "Employees request paid leave two weeks ahead through the HR portal; the "
    "manager approves it.",
    "parse-config": "parse_config reads the YAML settings file, applies environment "
    "overrides and raises ConfigError on unknown keys.",
    "coffee-farming": "Coffee plants grow best at high altitude in the tropics; the cherries "
    "are picked by hand and dried in the sun.",
    "bread-history": "Bread was first baked in Egypt thousands of years ago from wild "
    "yeasts caught in the air.",
    "moon-landing": "Apollo 11 landed on the Moon in July 1969; Neil Armstrong and Buzz "
    "Aldrin walked on its surface.",
    "ocean-currents": "The Gulf Stream carries warm water from the Gulf of Mexico across the "
    "Atlantic towards Europe.",
    "immune": "White blood cells fight infections; fever is one of the body's defences.",
    "networking-dns": "DNS turns a host name into an IP address by asking resolvers, which "
    "cache the answers for their time to live.",
    "database-index": "A B-tree index lets a database find rows by key without scanning the "
    "whole table.",
    "guitar": "Standard guitar tuning is E A D G B E from the lowest string to the highest.",
    "tea": "Green tea is steeped in water below boiling, about 80 degrees, for two minutes.",
    "bees": "Honey bees tell each other where flowers are with a waggle dance.",
    "glaciers": "Glaciers carve U-shaped valleys as they slide downhill under their own weight.",
}

QUERIES = {
    "how do I keep my bread starter alive": "sourdough",
    "why does the sea level change during the day": "tides",
    "how do plants make food from sunlight": "photosynthesis",
    "what makes some eruptions violent": "volcano",
    "opening that responds to king pawn with the c pawn": "chess",
    "how does the body remember a disease after a shot": "vaccines",
    "cleaning up dead tuples in postgres": "postgres-vacuum",
    "XJ-9000 maintenance schedule": "xj9000",
    "who carries the pager this week": "oncall",
    "parse_config": "parse-config",
    "connection setup packets SYN ACK": "tcp",
    "first people to walk on the moon": "moon-landing",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def indexed(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[ContextService, RequestContext]]:
    work = tmp_path_factory.mktemp("ranking")
    corpus = work / "slice"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / f"{name}.md").write_text(text, encoding="utf-8")
    config = OpenVikingConfig.from_dict({"storage": {"workspace": str(work / "data")}})
    service = ContextService(config)
    await service.initialize()
    ctx = await service.local_context()
    await service.add_resource(ctx, str(corpus), wait=True, timeout=300)
    yield service, ctx
    await service.close()


def _document(uri: str) -> str:
    """The slice document a hit stands for (a file, or the folder an import gave it)."""
    parts = uri.removeprefix("viking://resources/slice/").split("/")
    return parts[0].removesuffix(".md")


async def _ranked(indexed: tuple[ContextService, RequestContext], query: str) -> list[str]:
    service, ctx = indexed
    result = await service.find(ctx, query, target_uri="viking://resources/slice", limit=10)
    return [hit["uri"] for hit in result["resources"]]


@pytest.mark.parametrize(("query", "relevant"), sorted(QUERIES.items()))
async def test_the_relevant_document_is_in_the_top_10(
    indexed: tuple[ContextService, RequestContext], query: str, relevant: str
) -> None:
    ranked = [_document(uri) for uri in await _ranked(indexed, query)]
    assert relevant in ranked, ranked


@pytest.mark.parametrize("query", ["XJ-9000 maintenance schedule", "parse_config"])
async def test_an_exact_identifier_ranks_its_document_first(
    indexed: tuple[ContextService, RequestContext], query: str
) -> None:
    ranked = [_document(uri) for uri in await _ranked(indexed, query)]
    assert ranked[0] == QUERIES[query], ranked


async def test_each_document_takes_one_place(
    indexed: tuple[ContextService, RequestContext],
) -> None:
    """An imported document's folder and its file are one result, not two."""
    for query in QUERIES:
        uris = await _ranked(indexed, query)
        documents = [_document(uri) for uri in uris]
        assert len(documents) == len(set(documents)), uris


def test_the_slice_is_the_committed_one(tmp_path: Path) -> None:
    """The slice is fixed: changing it must be a deliberate edit of this file."""
    assert len(DOCS) == 30
    assert len(QUERIES) == 12
    assert set(QUERIES.values()) <= set(DOCS)
