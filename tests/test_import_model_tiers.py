"""Model-written file summaries of a folder import, against the local fake chat server.

Each imported text file's L0 (the ``abstract`` of its index rows, which its folder's L1 lists)
comes from the model, several files per call; binaries and data files keep their extractive
summaries; a per-import token budget and a failing model leave files extractive, never failing
the import; without a model nothing changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.resources import AddResourceRequest, ImportResult
from openviking_mcp.contract.tasks import TaskRequest, WaitProcessingRequest
from openviking_mcp.indexing.import_summaries import BATCH_FILES, skip_by_name, skip_by_text
from openviking_mcp.parsers import parse_document
from openviking_mcp.storage.index import record_id
from openviking_mcp.storage.sidecar import OVERVIEW_FILE
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio

_BATCH_LABEL = re.compile(r"^=== FILE: (.+?) ===$", re.M)
_SINGLE_NAME = re.compile(r"^File name: (.+)$", re.M)
_FOLDER = re.compile(r'overview of the folder "([^"]+)"')
_BINARY = bytes(range(256)) * 4


def _prompt(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def _kind(body: dict[str, Any]) -> str:
    """``batch``, ``single`` (one file) or ``overview``: which prompt the request carries."""
    prompt = _prompt(body)
    if _BATCH_LABEL.search(prompt):
        return "batch"
    return "single" if _SINGLE_NAME.search(prompt) else "overview"


def writer(broken: Callable[[str], bool] = lambda prompt: False) -> Callable[..., Any]:
    """A chat handler writing ``MODEL(path)`` descriptions; a batch prompt for which
    ``broken`` holds gets an HTTP 500."""

    def chat(body: dict[str, Any]) -> Any:
        prompt, kind = _prompt(body), _kind(body)
        if kind == "batch":
            if broken(prompt):
                return {"status": 500, "error": "overloaded"}
            return json.dumps({label: f"MODEL({label})" for label in _BATCH_LABEL.findall(prompt)})
        if kind == "single":
            return f"MODEL({_SINGLE_NAME.findall(prompt)[0].strip()})"
        folder = _FOLDER.findall(prompt)
        return f"Folder {folder[0] if folder else '?'} as the model sees it."

    return chat


def _source_text(i: int, size: int = 200) -> str:
    line = f"def handler_{i}(event):\n    return 'topic {i} answer'\n"
    return line * max(1, size // len(line))


def _source(tmp_path: Path, texts: int, size: int = 200) -> Path:
    """A folder of ``texts`` Python files of about ``size`` bytes, a binary and a CSV file."""
    src = tmp_path / "proj"
    src.mkdir(parents=True)
    for i in range(texts):
        (src / f"mod{i:02d}.py").write_text(_source_text(i, size))
    (src / "blob.bin").write_bytes(_BINARY)
    (src / "table.csv").write_text("city,population\nOslo,700000\nBergen,290000\n")
    return src


@asynccontextmanager
async def _service(workspace: Path, server: FakeOpenAIServer | None, **semantic: Any) -> Any:
    sections: dict[str, Any] = {
        "storage": {"workspace": str(workspace)},
        "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        "semantic": semantic,
    }
    if server is not None:
        sections["vlm"] = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
    svc = ContextService(OpenVikingConfig.from_dict(sections))
    await svc.initialize()
    try:
        yield svc
    finally:
        await svc.close()


async def _import(svc: ContextService, src: Path) -> tuple[RequestContext, ImportResult]:
    ctx = await svc.local_context()
    result = await svc.resources.add_resource(
        ctx, AddResourceRequest(path=str(src), wait=True, timeout=120)
    )
    assert isinstance(result, ImportResult), result
    assert result.status == "success"
    return ctx, result


async def _abstracts(svc: ContextService, ctx: RequestContext, root: str) -> dict[str, str]:
    """``{file name: abstract}`` of the import's files, as their first index rows hold it."""
    names = [f"mod{i:02d}.py" for i in range(40)] + ["blob.bin", "table.csv"]
    ids = [record_id(ctx.account_id, f"{root}/{n}", 2, "p0") for n in names]
    rows = await svc.store.index.get(ids)
    return {row.uri.rsplit("/", 1)[-1]: row.abstract for row in rows}


def _file_calls(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [b for b in server.paths("/chat/completions") if _kind(b) != "overview"]


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], ImportResult]]:
    """The tiers of the six-file import without a model: the extractive ones."""
    async with _service(tmp_path / "plain", None) as svc:
        ctx, result = await _import(svc, _source(tmp_path / "a", 6))
        yield await _abstracts(svc, ctx, result.root_uri), result


async def test_text_files_get_model_summaries_in_few_calls(
    tmp_path: Path, plain: tuple[dict[str, str], ImportResult]
) -> None:
    extractive, _ = plain
    with FakeOpenAIServer(writer()) as server:
        async with _service(tmp_path / "ws", server) as svc:
            ctx, result = await _import(svc, _source(tmp_path / "b", 6))
            abstracts = await _abstracts(svc, ctx, result.root_uri)
            key = svc.store.key(ctx, svc.store.resolve(ctx, result.root_uri))
            overview = await svc.store.sidecar_body(key, OVERVIEW_FILE)
    file_calls = _file_calls(server)
    assert 0 < len(file_calls) < 6  # six small files share one prompt
    overviews = [b for b in server.paths("/chat/completions") if _kind(b) == "overview"]
    assert overviews  # folders still get their overview from the model
    for i in range(6):
        assert abstracts[f"mod{i:02d}.py"] == f"MODEL(mod{i:02d}.py)"
    # the folder's overview prompt lists the model's descriptions of its files
    proj_prompt = next(_prompt(b) for b in overviews if '"proj"' in _prompt(b))
    assert "MODEL(mod03.py)" in proj_prompt
    assert overview is not None
    assert "Folder proj as the model sees it." in overview
    assert (abstracts["blob.bin"], abstracts["table.csv"]) == (
        extractive["blob.bin"],
        extractive["table.csv"],
    )
    summaries = result.summaries
    assert summaries is not None
    assert summaries.files_summarized == 6
    assert summaries.files_skipped == {"binary": 1, "data": 1}
    assert {"path": "blob.bin", "reason": "binary"} in summaries.not_summarized
    assert {"path": "table.csv", "reason": "data"} in summaries.not_summarized
    assert summaries.model_calls == len(file_calls)
    assert 0 < summaries.tokens_used <= summaries.token_budget == 500_000


async def test_no_model_keeps_todays_tiers(plain: tuple[dict[str, str], ImportResult]) -> None:
    abstracts, result = plain
    assert result.summaries is None
    assert "summaries" not in result.wire()
    for i in range(6):
        name = f"mod{i:02d}.py"
        expected = parse_document(name, _source_text(i).encode()).files[0].summary
        assert abstracts[name] == expected
        assert not abstracts[name].startswith("MODEL")


async def test_a_tiny_budget_leaves_later_files_extractive(tmp_path: Path) -> None:
    # about 1,000 tokens per 4,000-byte file: a 3,000-token budget covers the first two
    with FakeOpenAIServer(writer()) as server:
        async with _service(tmp_path / "ws", server, import_summary_token_budget=3000) as svc:
            ctx = await svc.local_context()
            planned = await svc.resources.add_resource(
                ctx, AddResourceRequest(path=str(_source(tmp_path, 5, size=4000)))
            )
            await svc.tasks.wait_processing(ctx, WaitProcessingRequest(timeout=120))
            record = await svc.tasks.get_task(ctx, TaskRequest(task_id=planned.task_id))
            abstracts = await _abstracts(svc, ctx, planned.root_uri)
    assert record.status == "completed"
    summaries = (record.result or {})["summaries"]
    assert summaries["files_summarized"] == 2
    assert summaries["files_skipped"] == {"binary": 1, "budget": 3, "data": 1}
    assert summaries["token_budget"] == 3000
    assert 0 < summaries["tokens_used"] <= 3000
    budget_skipped = [e["path"] for e in summaries["not_summarized"] if e["reason"] == "budget"]
    assert budget_skipped == ["mod02.py", "mod03.py", "mod04.py"]
    assert [abstracts[f"mod0{i}.py"] for i in range(2)] == ["MODEL(mod00.py)", "MODEL(mod01.py)"]
    assert not any(abstracts[f"mod0{i}.py"].startswith("MODEL") for i in range(2, 5))
    assert len(_file_calls(server)) == summaries["model_calls"] == 1


async def test_a_failing_batch_keeps_its_files_extractive(tmp_path: Path) -> None:
    texts = BATCH_FILES + 4  # two prompts: the first one fails

    def broken(prompt: str) -> bool:
        return "=== FILE: mod00.py ===" in prompt

    with FakeOpenAIServer(writer(broken)) as server:
        async with _service(tmp_path / "ws", server) as svc:
            ctx, result = await _import(svc, _source(tmp_path, texts))
            abstracts = await _abstracts(svc, ctx, result.root_uri)
    summaries = result.summaries
    assert summaries is not None
    assert (summaries.files_failed, summaries.files_summarized) == (BATCH_FILES, 4)
    assert summaries.model_calls == len(_file_calls(server)) == 2
    failed = [e["path"] for e in summaries.not_summarized if e["reason"] == "model_error"]
    assert failed == [f"mod{i:02d}.py" for i in range(BATCH_FILES)]
    assert not abstracts["mod00.py"].startswith("MODEL")
    assert abstracts[f"mod{texts - 1:02d}.py"] == f"MODEL(mod{texts - 1:02d}.py)"


async def test_a_malformed_answer_asks_one_file_per_call(tmp_path: Path) -> None:
    def chat(body: dict[str, Any]) -> Any:
        if _kind(body) == "batch":
            return "Here are your descriptions: not JSON at all"
        return writer()(body)

    with FakeOpenAIServer(chat) as server:
        async with _service(tmp_path / "ws", server) as svc:
            ctx, result = await _import(svc, _source(tmp_path, 3))
            abstracts = await _abstracts(svc, ctx, result.root_uri)
    kinds = [_kind(b) for b in _file_calls(server)]
    assert (kinds.count("batch"), kinds.count("single")) == (1, 3)
    assert [abstracts[f"mod0{i}.py"] for i in range(3)] == [f"MODEL(mod0{i}.py)" for i in range(3)]
    assert result.summaries is not None
    assert result.summaries.files_summarized == 3


def test_skipped_files_by_name_and_text() -> None:
    assert skip_by_name("logo.png", "binary") == "binary"
    assert skip_by_name("rows.jsonl", "data") == "data"
    assert skip_by_name("package-lock.json", "data") == "lock_file"
    assert skip_by_name("app.min.js", "code") == "minified"
    assert skip_by_name("settings.yaml", "data") is None
    assert skip_by_name("main.py", "code") is None
    assert skip_by_text("  \n") == "empty"
    assert skip_by_text("var a=1;" * 2000) == "minified"
    assert skip_by_text("line\n" * 2000) is None
