"""The per-query fusion weight: the lexical gap of the vector results."""

from __future__ import annotations

import pytest

from openviking_mcp.config import RetrievalConfig
from openviking_mcp.search.find import Retriever
from openviking_mcp.search.fusion import lexical_gap, query_terms, vector_share


def test_terms_are_stems_without_stop_words_or_single_letters() -> None:
    terms = [t.stem for t in query_terms("What are the cities of the U.S. with rivers?")]
    assert terms == ["citi", "river"]


def test_a_query_of_stop_words_has_no_terms_and_no_gap() -> None:
    assert query_terms("what is it") == ()
    assert lexical_gap(query_terms("what is it"), ["anything"]) == 0.0


def test_words_match_by_stem_not_by_spelling() -> None:
    terms = query_terms("cities flooding")
    assert lexical_gap(terms, ["The city was flooded last spring."]) == 0.0


def test_the_gap_is_the_share_of_terms_no_text_holds() -> None:
    terms = query_terms("XJ-9000 reactor maintenance")
    texts = ["Reactor maintenance happens every quarter.", "Maintenance crews rotate."]
    assert lexical_gap(terms, texts) == pytest.approx(2 / 4)  # "xj" and "9000" are missing
    assert lexical_gap(terms, [*texts, "The XJ-9000 is new."]) == 0.0


def test_a_prefix_that_is_another_word_does_not_count() -> None:
    """``cat`` is not held by a text that only says ``catalogue``."""
    assert lexical_gap(query_terms("cat"), ["the catalogue of parts"]) == 1.0


def test_the_vector_share_moves_from_covered_to_missing() -> None:
    assert vector_share(0.0, 0.9, 0.5) == pytest.approx(0.9)
    assert vector_share(1.0, 0.9, 0.5) == pytest.approx(0.5)
    assert vector_share(0.5, 1.0, 0.5) == pytest.approx(0.75)
    assert vector_share(7.0, 0.9, 0.5) == pytest.approx(0.5)  # clamped


def test_memories_and_documents_have_their_own_shares() -> None:
    config = RetrievalConfig(
        hybrid_vector_weight=1.0,
        identifier_vector_weight=0.8,
        memory_vector_weight=0.7,
        memory_identifier_vector_weight=0.2,
    )
    retriever = Retriever(None, None, config)  # type: ignore[arg-type]
    assert retriever.vector_weight(0.0, "resource") == pytest.approx(1.0)
    assert retriever.vector_weight(1.0, "skill") == pytest.approx(0.8)
    assert retriever.vector_weight(0.0, "memory") == pytest.approx(0.7)
    assert retriever.vector_weight(0.5, "memory") == pytest.approx(0.45)
