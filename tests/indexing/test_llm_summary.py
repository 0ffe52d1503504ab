from __future__ import annotations

import logging

import pytest
from jinja2 import UndefinedError

from openviking_mcp.indexing.llm_summary import LLMSummarizer, prompt_environment
from openviking_mcp.indexing.summarize import ChildInfo

pytestmark = pytest.mark.anyio

CHILDREN = [
    ChildInfo("install.md", False, "How to install frob.", "markdown"),
    ChildInfo("api", True, "HTTP API reference."),
]


class FakeLLM:
    """A ``complete`` coroutine that records prompts and replays canned answers."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    async def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_templates_are_strict() -> None:
    template = prompt_environment().get_template("file_summary.md.j2")
    with pytest.raises(UndefinedError):
        template.render(name="x")


async def test_file_summary_is_cleaned_and_bounded() -> None:
    llm = FakeLLM("```\nSummary: Frob turns widgets into gadgets.\nIt is fast.\n```")
    summary = await LLMSummarizer(llm).summarize_file("frob.md", "# Frob\n\nText.", "markdown")
    assert summary == "Frob turns widgets into gadgets. It is fast."
    prompt = llm.prompts[0]
    assert "File name: frob.md" in prompt
    assert "<content>\n# Frob\n\nText.\n</content>" in prompt
    long = await LLMSummarizer(FakeLLM("Sentence one is here. " * 40)).summarize_file(
        "x.md", "text", "markdown"
    )
    assert len(long) <= 400
    assert long.endswith(".")


async def test_long_code_input_is_cut_and_carries_a_skeleton() -> None:
    source = "\n".join(f"def function_{i}(a):\n    return a * {i}\n" for i in range(2000))
    llm = FakeLLM("Defines many small functions.")
    await LLMSummarizer(llm).summarize_file("big.py", source, "code", max_input_chars=3000)
    prompt = llm.prompts[0]
    assert f"of {len(source)} characters" in prompt
    assert "<skeleton>\ndef function_0(a)\ndef function_1(a)" in prompt
    content = prompt.split("<content>\n", 1)[1].split("\n</content>", 1)[0]
    skeleton = prompt.split("<skeleton>\n", 1)[1].split("\n</skeleton>", 1)[0]
    assert len(content) + len(skeleton) <= 3000
    assert source.startswith(content)


@pytest.mark.parametrize("failure", [RuntimeError("model down"), "", "   ", "```\n```"])
async def test_file_summary_falls_back_to_extractive(
    failure: str | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    summarizer = LLMSummarizer(FakeLLM(failure, failure))
    with caplog.at_level(logging.WARNING, logger="openviking_mcp.indexing"):
        text = await summarizer.summarize_file("doc.md", "# Doc\n\nThe doc explains frob.", "")
    assert text == "The doc explains frob."
    code = await summarizer.summarize_file(
        "m.py", '"""Math helpers."""\ndef add(a, b): ...', "code"
    )
    assert code.startswith("Python source file m.py: Math helpers.")
    if isinstance(failure, Exception):
        assert "model down" in caplog.text


async def test_overview_is_normalised() -> None:
    answer = (
        "```markdown\n# Some Other Title\n\nThe folder holds frob docs.\n\n## Contents\n\n"
        "- **api**/ — API\n- **install.md** — install\n```"
    )
    llm = FakeLLM(answer)
    overview = await LLMSummarizer(llm).overview("docs", CHILDREN)
    assert overview == (
        "# docs\n\nThe folder holds frob docs.\n\n## Contents\n\n"
        "- **api**/ — API\n- **install.md** — install\n"
    )
    prompt = llm.prompts[0]
    assert prompt.index("- api/ (folder): HTTP API reference.") < prompt.index(
        "- install.md (markdown): How to install frob."
    )
    assert "50 to 150 words" in prompt


async def test_overview_without_heading_or_contents_is_completed() -> None:
    overview = await LLMSummarizer(FakeLLM("Frob documentation and API.")).overview(
        "docs", CHILDREN
    )
    assert overview.startswith("# docs\n\nFrob documentation and API.\n\n## Contents\n\n")
    assert "- **api**/ — HTTP API reference." in overview


async def test_overview_is_truncated_on_a_line_boundary() -> None:
    answer = "# docs\n\nIntro.\n\n## Contents\n\n" + "\n".join(
        f"- **f{i}** — x" * 3 for i in range(200)
    )
    overview = await LLMSummarizer(FakeLLM(answer)).overview("docs", CHILDREN, max_chars=500)
    assert len(overview) <= 500
    assert overview.endswith("— x\n")


@pytest.mark.parametrize("failure", [TimeoutError("slow"), "", "# docs\n"])
async def test_overview_falls_back_to_extractive(failure: str | Exception) -> None:
    overview = await LLMSummarizer(FakeLLM(failure)).overview("docs", CHILDREN)
    assert overview.startswith("# docs\n\nContains 1 document and 1 folder about ")
    assert "- **install.md** — How to install frob." in overview
