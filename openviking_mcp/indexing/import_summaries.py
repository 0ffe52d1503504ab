"""Model-written summaries of an import's files: batched, bounded, within a token budget.

:class:`ImportSummarizer` plans the calls first, in path order: binaries, data files, lock
files and minified files are skipped (they keep their extractive summaries); the other files
are packed into prompts of up to :data:`BATCH_FILES` files and :data:`BATCH_TEXT_CHARS`
characters of text (the model answers one JSON object keyed by file path), a file longer than
:data:`BATCH_FILE_CHARS` gets a prompt of its own, and each prompt's approximate cost is
reserved from the import's token budget: once a file does not fit, it and every later file keep
their extractive summaries. The planned calls then run :data:`~.bounded.CONCURRENCY` at a time,
each reading its files' text only then (through the ``read`` coroutine), so no file's text is
held longer than its call. A malformed answer asks again one file per call (files missing from
an answer too); a failed call leaves its files extractive and counted, never failing the import.

Tokens are counted approximately, as characters / 4 (:func:`approx_tokens`), of each prompt and
answer: no tokenizer is loaded for it, and providers count differently anyway.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from openviking_mcp.config import SemanticConfig
from openviking_mcp.contract.resources import ImportSummaries
from openviking_mcp.indexing.bounded import CONCURRENCY, run_bounded
from openviking_mcp.indexing.llm_summary import BatchFile, LLMSummarizer

__all__ = [
    "BATCH_FILES",
    "BATCH_FILE_CHARS",
    "BATCH_TEXT_CHARS",
    "ImportFile",
    "ImportSummarizer",
    "approx_tokens",
    "skip_by_name",
    "skip_by_text",
]

logger = logging.getLogger("openviking_mcp.indexing")

BATCH_FILES = 16
"""Files described by one prompt at most."""
BATCH_TEXT_CHARS = 24_000
"""Characters of file text in one several-files prompt at most (about 6,000 tokens)."""
BATCH_FILE_CHARS = 6_000
"""A file longer than this gets a prompt of its own (with up to ``max_file_content_chars``)."""
_PROMPT_TOKENS = 300  # the instructions of one prompt
_FILE_TOKENS = 30  # the lines that introduce one file in a prompt
_ANSWER_TOKENS = 120  # one file's description in an answer (≤ 400 characters, quoted)
_LISTED = 100  # files named in ``not_summarized``

_LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "flake.lock",
        "mix.lock",
        "packages.lock.json",
        "pubspec.lock",
        "podfile.lock",
    }
)
_DATA_NAMES = (
    ".csv .tsv .json .jsonl .ndjson .geojson .ipynb .webmanifest .xml .plist .svg .parquet "
    ".arrow .feather .avro .orc .sqlite .db .npy .npz .pkl .h5"
)
_DATA_EXTENSIONS = frozenset(_DATA_NAMES.split())
_BINARY_NAMES = (
    ".zip .gz .tgz .bz2 .xz .7z .rar .tar .zst .jar .war .png .jpg .jpeg .gif .bmp .webp .ico "
    ".tif .tiff .heic .psd .mp3 .mp4 .wav .ogg .flac .mov .avi .mkv .webm .exe .dll .so "
    ".dylib .bin .class .o .a .wasm .woff .woff2 .ttf .otf .eot"
)
_BINARY_EXTENSIONS = frozenset(_BINARY_NAMES.split())
_MINIFIED_LINE_CHARS = 1_000  # average line length of a minified file's start


def approx_tokens(chars: int) -> int:
    """Tokens of ``chars`` characters, approximately (characters / 4, rounded up)."""
    return -(-max(0, chars) // 4)


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def skip_by_name(name: str, kind: str) -> str | None:
    """Why a file is not worth a model's description, from its name and parsed kind: a
    ``binary`` (or archive, image, media), a ``data`` file, a ``lock_file``, a ``minified``
    bundle; ``None`` for a file to describe."""
    lower, ext = name.lower(), _extension(name)
    if kind == "binary" or ext in _BINARY_EXTENSIONS:
        return "binary"
    if lower in _LOCK_FILES or ext == ".lock":
        return "lock_file"
    if ".min." in lower or ext == ".map":
        return "minified"
    if ext in _DATA_EXTENSIONS:
        return "data"
    return None


def skip_by_text(text: str) -> str | None:
    """Why a file's text is not worth a model's description: ``empty``, ``binary`` (it holds
    NUL characters) or ``minified`` (very long lines); ``None`` for a file to describe."""
    if not text.strip():
        return "empty"
    if "\x00" in text:
        return "binary"
    head = text[:8_000]
    if len(head) >= 4 * _MINIFIED_LINE_CHARS and len(head) / (head.count("\n") + 1) > (
        _MINIFIED_LINE_CHARS
    ):
        return "minified"
    return None


@dataclass(frozen=True, slots=True)
class ImportFile:
    """One stored file of an import: ``label`` is its path below the import's root (unique),
    ``size`` its stored bytes."""

    uri: str
    label: str
    name: str
    kind: str
    size: int


ReadText = Callable[[ImportFile, int], Awaitable[str | None]]
"""Reads a stored file's text, at most the given number of characters (``None``: gone)."""


class _Meter:
    """The model's ``complete`` coroutine, counting the calls and approximate tokens."""

    def __init__(self, complete: Callable[..., Awaitable[str]]) -> None:
        self._complete = complete
        self.calls = 0
        self.tokens = 0

    async def text(self, prompt: str) -> str:
        return await self._ask(prompt, False)

    async def json(self, prompt: str) -> str:
        return await self._ask(prompt, True)

    async def _ask(self, prompt: str, json_mode: bool) -> str:
        self.calls += 1
        self.tokens += approx_tokens(len(prompt))  # sent, whether or not an answer comes
        answer = await (
            self._complete(prompt, json_mode=True) if json_mode else self._complete(prompt)
        )
        self.tokens += approx_tokens(len(answer or ""))
        return answer


class ImportSummarizer:
    """See the module docs. ``complete(prompt, json_mode=...)`` asks the chat model."""

    def __init__(
        self, complete: Callable[..., Awaitable[str]], config: SemanticConfig, read: ReadText
    ) -> None:
        self._meter = _Meter(complete)
        self._llm = LLMSummarizer(self._meter.text, complete_json=self._meter.json)
        self._config = config
        self._read = read
        self._budget = config.import_summary_token_budget
        self._reserved = 0
        self._written: dict[str, str] = {}
        self._skipped: dict[str, str] = {}  # label → reason
        self._failed: set[str] = set()

    async def run(
        self,
        files: list[ImportFile],
        on_progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> tuple[dict[str, str], ImportSummaries]:
        """Describe ``files``; returns ``{uri: description}`` of those the model described and
        the report. ``on_progress`` gets the count of files described after each call."""
        batches = self._plan(sorted(files, key=lambda f: f.label))

        async def step(batch: list[ImportFile]) -> None:
            await self._run_batch(batch)
            if on_progress is not None:
                await on_progress(len(self._written))

        await run_bounded([partial(step, b) for b in batches], CONCURRENCY)
        by_label = {f.label: f for f in files}
        written = {by_label[label].uri: text for label, text in self._written.items()}
        return written, self._report()

    def _reserve(self, tokens: int) -> bool:
        """Take ``tokens`` from the budget, if that many are left."""
        if self._reserved + tokens > self._budget:
            return False
        self._reserved += tokens
        return True

    def _plan(self, files: list[ImportFile]) -> list[list[ImportFile]]:
        """The prompts to send, their cost reserved (see the module docs)."""
        batches: list[list[ImportFile]] = []
        current: list[ImportFile] = []
        current_chars = 0
        spent = False
        for file in files:
            reason = skip_by_name(file.name, file.kind) or ("empty" if file.size == 0 else None)
            if reason is not None or spent:
                self._skipped[file.label] = reason or "budget"
                continue
            solo = file.size > BATCH_FILE_CHARS
            shown = min(file.size, self._config.max_file_content_chars) if solo else file.size
            fresh = (
                solo
                or not current
                or len(current) >= BATCH_FILES
                or current_chars + shown > BATCH_TEXT_CHARS
            )
            cost = approx_tokens(shown) + _FILE_TOKENS + _ANSWER_TOKENS
            if not self._reserve(cost + (_PROMPT_TOKENS if fresh else 0)):
                spent = True
                self._skipped[file.label] = "budget"
                continue
            if solo:
                batches.append([file])
                continue
            if fresh:
                current, current_chars = [], 0
                batches.append(current)
            current.append(file)
            current_chars += shown
        return batches

    async def _texts(self, batch: list[ImportFile]) -> list[tuple[ImportFile, str]]:
        """The text of each file of ``batch`` worth describing (the others are skipped)."""
        limit = self._config.max_file_content_chars
        found: list[tuple[ImportFile, str]] = []
        for file in batch:
            text = await self._read(file, 2 * limit if len(batch) == 1 else BATCH_FILE_CHARS)
            reason = "empty" if text is None else skip_by_text(text)
            if reason is not None or text is None:
                self._skipped[file.label] = reason or "empty"
            else:
                found.append((file, text))
        return found

    async def _run_batch(self, batch: list[ImportFile]) -> None:
        """Describe the files of one planned prompt (one per call after a malformed answer)."""
        texts = await self._texts(batch)
        if len(texts) == 1:
            await self._one(*texts[0])
            return
        if not texts:
            return
        entries = [BatchFile(f.label, f.kind, text, len(text)) for f, text in texts]
        try:
            answer = await self._llm.write_file_summaries(entries)
        except Exception as exc:
            self._fail([f for f, _ in texts], exc)
            return
        if answer is None:
            logger.warning(
                "A model's answer for %d files was not JSON; asking per file", len(texts)
            )
        self._written.update(answer or {})
        for file, text in texts:
            if file.label in self._written:
                continue
            cost = _PROMPT_TOKENS + _FILE_TOKENS + _ANSWER_TOKENS + approx_tokens(len(text))
            if self._reserve(cost):
                await self._one(file, text)
            else:
                self._skipped[file.label] = "budget"

    async def _one(self, file: ImportFile, text: str) -> None:
        """Describe one file in a prompt of its own."""
        try:
            summary = await self._llm.write_file_summary(
                file.name, text, file.kind, self._config.max_file_content_chars
            )
        except Exception as exc:
            self._fail([file], exc)
            return
        if summary:
            self._written[file.label] = summary
        else:
            self._failed.add(file.label)

    def _fail(self, files: list[ImportFile], exc: Exception) -> None:
        logger.warning(
            "Model summaries of %d imported files failed (%s: %s); they keep extractive ones",
            len(files),
            type(exc).__name__,
            str(exc)[:300],
        )
        self._failed.update(f.label for f in files)

    def _report(self) -> ImportSummaries:
        missed: dict[str, Any] = {label: "model_error" for label in self._failed}
        missed.update(self._skipped)
        listed = [{"path": label, "reason": missed[label]} for label in sorted(missed)]
        return ImportSummaries(
            files_summarized=len(self._written),
            files_failed=len(self._failed),
            files_skipped=dict(sorted(Counter(self._skipped.values()).items())),
            not_summarized=listed[:_LISTED],
            model_calls=self._meter.calls,
            tokens_used=self._meter.tokens,
            token_budget=self._budget,
        )
