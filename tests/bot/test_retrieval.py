"""Retrieval-only answers list what a person wants to read, not the store's scaffolding."""

from __future__ import annotations

from openviking_mcp.bot.retrieval import retrieval_answer, useful_hits


def _hit(uri: str, score: float, abstract: str = "x") -> dict[str, object]:
    return {"uri": uri, "score": score, "abstract": abstract}


def test_preset_folders_and_repeats_are_left_out() -> None:
    result = {
        "skills": [
            _hit("viking://agent/skills/.overview.md", 0.51),  # preset folder
            _hit("viking://agent/skills/research/.abstract.md", 0.43, "research skill"),
            _hit("viking://agent/skills/research/SKILL.md", 0.36),  # inside a listed folder
            _hit("viking://user/ann/skills/.overview.md", 0.33),  # preset folder
        ],
        "resources": [
            _hit("viking://agent/.overview.md", 0.35),  # preset folder
            _hit("viking://resources/ops/deploy.md", 0.40),
            _hit("viking://resources/ops/.overview.md", 0.30),  # a file of it is listed
            _hit("viking://resources/guide.md", 0.20),
        ],
        "memories": [_hit("viking://user/ann/memories/preferences/tea.md", 0.25)],
    }
    kept = useful_hits(result, "ann", limit=10)
    assert [h["uri"] for h in kept] == [
        "viking://agent/skills/research/.abstract.md",
        "viking://resources/ops/deploy.md",
        "viking://user/ann/memories/preferences/tea.md",
        "viking://resources/guide.md",
    ]
    assert [h["context_type"] for h in kept] == ["skill", "resource", "memory", "resource"]
    assert len(useful_hits(result, "ann", limit=2)) == 2


def test_answer_text() -> None:
    hits = useful_hits({"resources": [_hit("viking://resources/a.md", 0.5, "About  A")]}, "u", 5)
    text = retrieval_answer(hits, asked=True)
    assert text.startswith("No language model is configured")
    assert "1. [resource 50%] viking://resources/a.md\n   About A" in text
    assert "nothing in the store matches" in retrieval_answer([], asked=True)
    assert "send a text message" in retrieval_answer([], asked=False)
