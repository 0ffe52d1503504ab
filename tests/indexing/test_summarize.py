from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openviking_mcp.indexing.summarize import ChildInfo, abstract_from_overview, build_overview
from openviking_mcp.parsers.text import (
    clean_inline,
    estimate_tokens,
    split_sentences,
    summarize_text,
    truncate_text,
)

# -- helpers ------------------------------------------------------------------------------------


def test_estimate_tokens_takes_the_larger_of_words_and_chars() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("one two three four five six seven eight nine ten") == 13
    assert estimate_tokens("x" * 400) == 100


def test_clean_inline_keeps_words_only() -> None:
    text = "See **bold** and _em_ in [the docs](http://x) ![logo](l.png) `code` <b>tag</b>"
    assert clean_inline(text) == "See bold and em in the docs code tag"
    assert clean_inline("snake_case_name and List<String>") == "snake_case_name and List<String>"


def test_split_sentences_spares_abbreviations_and_handles_cjk() -> None:
    assert split_sentences("Use a tool, e.g. a hammer. Then stop! Ok?") == [
        "Use a tool, e.g. a hammer.",
        "Then stop!",
        "Ok?",
    ]
    assert split_sentences("第一句。第二句\uff01") == ["第一句。", "第二句\uff01"]
    assert split_sentences("Version 3.14 is out. Yes.") == ["Version 3.14 is out.", "Yes."]


def test_truncate_text_prefers_sentences_then_words() -> None:
    text = "First sentence here. Second sentence is longer than the first."
    assert truncate_text(text, 30) == "First sentence here."
    assert truncate_text(text, 200) == text
    assert truncate_text(text, 200, max_sentences=1) == "First sentence here."
    cut = truncate_text("averyveryverylongword " * 10, 50)
    assert cut.endswith("…")
    assert len(cut) <= 50


# -- summarize_text -----------------------------------------------------------------------------

README = """---
title: Frob
---
# Frob

[![build](https://ci/badge.svg)](https://ci) [![pypi](https://pypi/b.svg)](https://pypi)

```bash
pip install frob  # and a lot of other words that are not prose at all
```

| a | b |
|---|---|

https://example.com/only-a-link

Frob turns **widgets** into [gadgets](https://g). It is fast, e.g. very fast. It is small!
It has a fourth sentence. And a fifth.
"""


def test_summarize_text_skips_markup_and_keeps_three_sentences() -> None:
    assert summarize_text("Frob", README) == (
        "Frob turns widgets into gadgets. It is fast, e.g. very fast. It is small!"
    )


def test_summarize_text_respects_max_chars() -> None:
    summary = summarize_text("Frob", README, max_chars=40)
    assert summary == "Frob turns widgets into gadgets."


def test_summarize_text_lists_headings_when_there_is_no_prose() -> None:
    assert summarize_text("T", "# Intro\n\n## Install\n\n```\ncode\n```\n## Use\n") == (
        "Sections: Intro; Install; Use"
    )


@pytest.mark.parametrize("text", ["", "   \n\n", "```\nonly code\n```\n"])
def test_summarize_text_falls_back_to_the_title(text: str) -> None:
    assert summarize_text("My **Title**", text) == "My Title"


def test_summarize_text_uses_list_items_when_no_paragraph() -> None:
    assert summarize_text("T", "- installs the tool\n- runs the tests\n") == (
        "installs the tool. runs the tests."
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50), st.text(max_size=2000), st.integers(20, 500))
def test_summarize_text_is_never_empty_and_bounded(title: str, text: str, limit: int) -> None:
    summary = summarize_text(title, text, max_chars=limit)
    assert summary.strip()
    assert len(summary) <= limit


# -- build_overview -----------------------------------------------------------------------------

CHILDREN = [
    ChildInfo("02-configure.md", False, "Configure the frobnicator with YAML.", "markdown"),
    ChildInfo("main.py", False, "Python source file main.py: entry point.", "code"),
    ChildInfo("api", True, "Reference of the frobnicator HTTP API."),
    ChildInfo("01-install.md", False, "Install the frobnicator on Linux.", "markdown"),
    ChildInfo("Guides", True, "Step by step frobnicator guides."),
]


def test_build_overview_layout() -> None:
    overview = build_overview("frob", CHILDREN)
    head, contents = overview.split("\n\n## Contents\n\n")
    title, brief = head.split("\n\n")
    assert title == "# frob"
    assert brief.startswith("Contains 2 documents, 1 code file and 2 folders about frobnicator")
    assert contents.splitlines() == [
        "- **api**/ — Reference of the frobnicator HTTP API.",
        "- **Guides**/ — Step by step frobnicator guides.",
        "- **01-install.md** — Install the frobnicator on Linux.",
        "- **02-configure.md** — Configure the frobnicator with YAML.",
        "- **main.py** — Python source file main.py: entry point.",
    ]
    assert build_overview("frob", list(reversed(CHILDREN))) == overview


def test_build_overview_uses_the_intro() -> None:
    overview = build_overview("guide", CHILDREN, intro="  The guide  explains\nfrobbing. ")
    assert overview.startswith("# guide\n\nThe guide explains frobbing.\n\n## Contents\n")


def test_build_overview_of_an_empty_directory_is_informative() -> None:
    overview = build_overview("empty", [])
    assert abstract_from_overview(overview).startswith("Empty folder empty")


def test_build_overview_samples_many_children() -> None:
    children = [ChildInfo(f"note-{i:03d}.md", False, f"Note {i} about apples.") for i in range(100)]
    overview = build_overview("notes", children, sample_limit=10)
    bullets = [line for line in overview.splitlines() if line.startswith("- ")]
    assert len(bullets) == 10
    assert bullets[0].startswith("- **note-000.md**")
    assert bullets[1].startswith("- **note-010.md**")
    assert overview.rstrip().endswith("…and 90 more")
    assert "apples" in overview.split("## Contents")[0]


def test_build_overview_fits_max_chars_on_line_boundaries() -> None:
    children = [ChildInfo(f"doc{i}.md", False, "word " * 60) for i in range(50)]
    overview = build_overview("big", children, max_chars=1200)
    assert len(overview) <= 1200
    assert "## Contents" in overview
    lines = overview.rstrip("\n").splitlines()
    assert lines[-1].startswith("…and ")
    assert lines[5] == ""
    assert all(line.startswith("- **doc") for line in lines[6:-1])


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=30),
    st.lists(
        st.builds(ChildInfo, st.text(max_size=30), st.booleans(), st.text(max_size=300)),
        max_size=40,
    ),
    st.integers(200, 5000),
)
def test_build_overview_is_bounded_and_has_an_abstract(
    name: str, children: list[ChildInfo], limit: int
) -> None:
    overview = build_overview(name, children, max_chars=limit)
    assert len(overview) <= limit
    assert overview.startswith("# ")
    assert abstract_from_overview(overview).strip()


# -- abstract_from_overview ------------------------------------------------------------------------


def test_abstract_is_the_first_paragraph() -> None:
    overview = "# T\n\nFirst **para** line\ncontinues here.\n\nSecond para.\n\n## Contents\n"
    assert abstract_from_overview(overview) == "First para line continues here."


def test_abstract_is_cut_at_a_sentence_then_a_word() -> None:
    overview = "# T\n\n" + "This sentence has exactly forty chars.. " * 10
    abstract = abstract_from_overview(overview, max_chars=100)
    assert abstract.endswith(".")
    assert len(abstract) <= 100
    long_words = abstract_from_overview("# T\n\n" + "word " * 100, max_chars=30)
    assert long_words.endswith("…")
    assert len(long_words) <= 30


@pytest.mark.parametrize(
    ("overview", "expected"),
    [
        ("# T\n\n## Contents\n\n- **a.md** — about a\n", "a.md — about a"),
        ("# Only a title\n", "Only a title"),
        ("No heading at all.\n\nSecond.", "No heading at all."),
        ("", "No description."),
    ],
)
def test_abstract_fallbacks(overview: str, expected: str) -> None:
    assert abstract_from_overview(overview) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=1500), st.integers(10, 400))
def test_abstract_is_never_empty_and_bounded(overview: str, limit: int) -> None:
    abstract = abstract_from_overview(overview, max_chars=limit)
    assert abstract.strip()
    assert len(abstract) <= limit
