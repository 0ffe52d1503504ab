from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from openviking_mcp.indexing.passages import split_passages


def words(text: str) -> int:
    return len(text.split())


def test_small_text_is_one_passage() -> None:
    assert split_passages("One short paragraph.", words) == ["One short paragraph."]


def test_paragraphs_are_packed_up_to_the_target() -> None:
    text = "\n\n".join(" ".join(["w"] * 100) for _ in range(7))
    passages = split_passages(text, words, target_tokens=300, max_tokens=400)
    assert [words(p) for p in passages] == [300, 300, 100]


def test_oversized_paragraph_is_cut_at_sentences_then_words() -> None:
    sentence = " ".join(["word"] * 50) + "."
    text = " ".join([sentence] * 20) + " " + " ".join(["x"] * 900)
    passages = split_passages(text, words, target_tokens=300, max_tokens=400)
    assert all(words(p) <= 400 for p in passages)
    assert sum(words(p) for p in passages) == words(text)


def test_blank_text_has_no_passages() -> None:
    assert split_passages("  \n\n \n", words) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab .\n", max_size=300), max_size=12))
def test_no_word_is_lost_and_no_passage_is_oversized(parts: list[str]) -> None:
    text = "\n\n".join(parts)
    passages = split_passages(text, words, target_tokens=20, max_tokens=30)
    assert all(words(p) <= 30 for p in passages)
    assert [w for p in passages for w in p.split()] == text.split()
