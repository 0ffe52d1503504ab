"""Written file summaries and directory overviews, when an LLM is configured.

:class:`LLMSummarizer` renders the Jinja2 prompts of ``processing/prompts/``, sends them through
an injected ``complete`` coroutine (the service wires it to litellm) and cleans the answer. Any
failure — an exception, an empty or unusable answer — falls back to the extractive functions of
:mod:`.summarize` and the parsers, so a summary is never empty. The ``write_*`` methods have no
fallback (a failed call raises): callers that count what the model wrote use them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from openviking_mcp.indexing.summarize import ChildInfo, build_overview
from openviking_mcp.parsers import code_skeleton, parse_document
from openviking_mcp.parsers.text import summarize_text, truncate_text

__all__ = ["BatchFile", "LLMSummarizer", "clean_file_summary", "prompt_environment"]

logger = logging.getLogger("openviking_mcp.indexing")

_FILE_SUMMARY_CHARS = 400
_OVERVIEW_SAMPLE = 64
_CHILD_SUMMARY_CHARS = 300
_FENCED = re.compile(r"^\s*(`{3,}|~{3,})[^\n]*\n(.*?)\n?\s*\1\s*$", re.S)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:summary|description|answer)(?:\*\*)?\s*:\s*", re.I)
_H1 = re.compile(r"^#[ \t]+.*$", re.M)
_WS = re.compile(r"\s+")


def prompt_environment() -> Environment:
    """The Jinja2 environment of the packaged prompt templates (strict: a missing variable is
    an error, not an empty string)."""
    return Environment(
        loader=PackageLoader("openviking_mcp.indexing", "prompts"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True, slots=True)
class BatchFile:
    """One file of a several-files prompt: ``label`` names it in the prompt and the answer
    (unique within the prompt), ``text`` is what the model sees of it (``total_chars``: the
    file's full length, when ``text`` is only its start)."""

    label: str
    kind: str
    text: str
    total_chars: int

    @property
    def truncated(self) -> bool:
        return self.total_chars > len(self.text)


def clean_file_summary(answer: str) -> str:
    """A model's file description as one line of at most 400 characters (``""`` if empty)."""
    answer = _LABEL.sub("", _H1.sub("", _strip_fences(answer)))
    answer = _WS.sub(" ", answer).strip()
    return truncate_text(answer, _FILE_SUMMARY_CHARS) if answer else ""


def _strip_fences(answer: str) -> str:
    """The answer without a code fence wrapped around all of it."""
    answer = answer.strip()
    match = _FENCED.match(answer)
    return match.group(2).strip() if match else answer


class LLMSummarizer:
    """LLM-written summaries with extractive fallbacks.

    ``complete`` takes a prompt and returns the model's answer; it is awaited once per call.
    """

    def __init__(
        self,
        complete: Callable[[str], Awaitable[str]],
        *,
        env: Environment | None = None,
        complete_json: Callable[[str], Awaitable[str]] | None = None,
    ) -> None:
        self._complete = complete
        self._complete_json = complete_json or complete
        self._env = env or prompt_environment()

    async def _ask(self, template: str, **variables: Any) -> str:
        """Render ``template`` and ask the model; ``""`` (logged) if the call fails."""
        try:
            return await self._ask_strict(template, **variables)
        except Exception as exc:
            logger.warning(
                "LLM call for %s failed (%s: %s); using the extractive text",
                template,
                type(exc).__name__,
                exc,
            )
            return ""

    async def _ask_strict(self, template: str, *, json_mode: bool = False, **variables: Any) -> str:
        """Render ``template`` and ask the model (in JSON mode with ``json_mode``); a failed call
        raises."""
        prompt = self._env.get_template(template).render(**variables)
        ask = self._complete_json if json_mode else self._complete
        return _strip_fences(await ask(prompt) or "")

    async def summarize_file(
        self, name: str, text: str, kind: str, max_input_chars: int = 30000
    ) -> str:
        """A 1-3 sentence description of one file (≤ 400 characters).

        Text beyond ``max_input_chars`` is cut; for a long code file the prompt also carries
        its declaration skeleton, so the model sees the whole file's structure.
        """
        try:
            answer = await self.write_file_summary(name, text, kind, max_input_chars)
        except Exception as exc:
            logger.warning(
                "LLM call for file_summary.md.j2 failed (%s: %s); using the extractive text",
                type(exc).__name__,
                exc,
            )
            answer = ""
        return answer or self._fallback_file_summary(name, text, kind)

    async def write_file_summary(
        self, name: str, text: str, kind: str, max_input_chars: int = 30000
    ) -> str:
        """The model's description of one file (see :meth:`summarize_file`), ``""`` when its
        answer is unusable; a failed call raises (no extractive fallback)."""
        total = len(text)
        truncated = total > max_input_chars
        skeleton = ""
        if kind == "code" and truncated:
            skeleton = code_skeleton(name, text, max_chars=max(1000, max_input_chars // 3))
        shown = text[: max(0, max_input_chars - len(skeleton))] if truncated else text
        answer = await self._ask_strict(
            "file_summary.md.j2",
            name=name,
            kind=kind or "text",
            text=shown,
            truncated=truncated,
            shown_chars=len(shown),
            total_chars=total,
            skeleton=skeleton,
            max_chars=_FILE_SUMMARY_CHARS,
        )
        return clean_file_summary(answer)

    async def write_file_summaries(self, files: list[BatchFile]) -> dict[str, str] | None:
        """The model's descriptions of several files in one call, keyed by
        :attr:`BatchFile.label` (files it did not describe usably are left out); ``None`` when
        the answer is not a JSON object. A failed call raises."""
        answer = await self._ask_strict(
            "file_summaries.md.j2",
            json_mode=True,
            files=files,
            max_chars=_FILE_SUMMARY_CHARS,
        )
        try:
            parsed = json.loads(answer)
        except ValueError:
            return None
        if not isinstance(parsed, dict):
            return None
        labels = {f.label for f in files}
        found: dict[str, str] = {}
        for key, value in parsed.items():
            if isinstance(value, dict):  # {"summary": "..."}, as some models nest it
                value = next((v for v in value.values() if isinstance(v, str)), "")
            if key in labels and isinstance(value, str) and (clean := clean_file_summary(value)):
                found[key] = clean
        return found

    @staticmethod
    def _fallback_file_summary(name: str, text: str, kind: str) -> str:
        if kind in ("code", "data"):
            parsed = parse_document(name or "file", text.encode("utf-8"), no_split=True)
            if parsed.files and parsed.files[0].summary:
                return parsed.files[0].summary
        return summarize_text(name, text)

    async def overview(
        self, dir_name: str, children: list[ChildInfo], max_chars: int = 4000
    ) -> str:
        """The L1 overview of a directory: ``# {dir_name}``, a 50-150 word paragraph, then
        ``## Contents`` with one bullet per child (at most ``max_chars`` characters)."""
        ordered = sorted(children, key=lambda c: (not c.is_dir, c.name.casefold(), c.name))
        shown = [
            {
                "name": _WS.sub(" ", c.name).strip(),
                "is_dir": c.is_dir,
                "kind": c.kind,
                "summary": truncate_text(c.summary, _CHILD_SUMMARY_CHARS) or c.name,
            }
            for c in ordered[:_OVERVIEW_SAMPLE]
        ]
        answer = await self._ask(
            "overview.md.j2",
            dir_name=dir_name,
            children=shown,
            total=len(children),
            max_chars=max_chars,
            min_words=50,
            max_words=150,
        )
        if not answer.strip():
            return build_overview(dir_name, children, max_chars=max_chars)
        return self._clean_overview(answer, dir_name, children, max_chars)

    @staticmethod
    def _clean_overview(
        answer: str, dir_name: str, children: list[ChildInfo], max_chars: int
    ) -> str:
        """Start with ``# {dir_name}``, keep a ``## Contents`` list, fit in ``max_chars``."""
        lines = answer.replace("\r\n", "\n").strip().split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and lines[0].startswith("# "):
            lines.pop(0)
        body = "\n".join(lines).strip()
        if not body:
            return build_overview(dir_name, children, max_chars=max_chars)
        if "## Contents" not in body and children:
            extractive = build_overview(dir_name, children, max_chars=max_chars)
            contents = extractive[extractive.index("## Contents") :]
            body = f"{body}\n\n{contents}"
        text = f"# {dir_name}\n\n{body}".rstrip() + "\n"
        if len(text) > max_chars:
            cut = text[: max_chars - 1]
            newline = cut.rfind("\n")
            text = (cut[:newline] if newline > len(dir_name) + 2 else cut).rstrip() + "\n"
        return text
