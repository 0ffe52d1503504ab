"""The LangChain retriever and chat-message history against a live server (both HTTP
clients), and the example with the fake OpenAI-compatible model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from openviking_mcp import AsyncHTTPClient, SyncHTTPClient
from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.integrations.langchain import (
    OpenVikingChatMessageHistory,
    OpenVikingRetriever,
)
from tests.fakes import FakeOpenAIServer
from tests.integrations._toolkits import NOTE_URI, live_server, run_example

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

NOTE = "# Releases\n\nTo roll back a release, redeploy the previous tag.\n"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("langchain") / "data") as base:
        with SyncHTTPClient(base) as ov:
            ov.write(NOTE_URI, NOTE, mode="create", wait=True)
        yield base


def test_the_retriever_answers_documents_with_their_place_and_score(url: str) -> None:
    with SyncHTTPClient(url) as ov:
        documents = OpenVikingRetriever(client=ov, k=2).invoke("roll back a release")
        full = OpenVikingRetriever(client=ov, k=1, read_full=True).invoke("roll back a release")
    assert 1 <= len(documents) <= 2
    best = documents[0]
    assert best.id == NOTE_URI
    assert best.metadata["uri"] == NOTE_URI
    assert best.metadata["level"] == 2
    assert best.metadata["context_type"] == "resource"
    assert best.metadata["score"] > 0
    assert "redeploy the previous tag" in best.page_content
    assert full[0].page_content == NOTE


async def test_the_retriever_is_async_with_an_async_client(url: str) -> None:
    async with AsyncHTTPClient(url) as ov:
        documents = await OpenVikingRetriever(client=ov, k=1).ainvoke("previous tag")
        with pytest.raises(TypeError, match="blocking client"):
            OpenVikingRetriever(client=ov).invoke("previous tag")
    assert [d.metadata["uri"] for d in documents] == [NOTE_URI]


def test_the_history_keeps_the_conversation_in_a_session(url: str) -> None:
    turn = [
        SystemMessage("Be brief."),
        HumanMessage("I prefer green tea over coffee."),
        AIMessage("", tool_calls=[{"name": "find", "args": {"query": "tea"}, "id": "c1"}]),
        ToolMessage("[]", tool_call_id="c1", name="find"),
        AIMessage("Noted."),
    ]
    with SyncHTTPClient(url) as ov:
        history = OpenVikingChatMessageHistory(ov, "lc-sync", wait=True)
        assert history.messages == []  # no session yet
        history.add_messages(turn)
        assert ov.get_session("lc-sync")["message_count"] == 5
        stored = history.messages
        commit = history.commit()
        after_commit = history.messages
        history.clear()
        with pytest.raises(NotFoundError):
            ov.get_session("lc-sync")
        history.clear()  # clearing twice is fine
        memories = ov.find("green tea", context_type="memory")["memories"]
    assert [type(m) for m in stored] == [type(m) for m in turn]
    assert [m.text for m in stored] == [m.text for m in turn]
    assert stored[2].tool_calls[0]["name"] == "find"  # type: ignore[attr-defined]
    assert stored[2].tool_calls[0]["args"] == {"query": "tea"}  # type: ignore[attr-defined]
    assert stored[3].tool_call_id == "c1"  # type: ignore[attr-defined]
    assert commit["status"] == "accepted"
    assert commit["result"]["memories_extracted"]["preferences"] == 1
    assert after_commit == []  # the commit archived the live messages
    assert "User prefers green tea over coffee." in [m["abstract"] for m in memories]


async def test_the_history_is_async_with_an_async_client(url: str) -> None:
    async with AsyncHTTPClient(url) as ov:
        history = OpenVikingChatMessageHistory(ov, "lc-async")
        await history.aadd_messages([HumanMessage("hello"), AIMessage("hi there")])
        texts = [m.text for m in await history.aget_messages()]
        await history.aclear()
        emptied = await history.aget_messages()
    assert texts == ["hello", "hi there"]
    assert emptied == []


def test_the_example_retrieves_records_and_commits(tmp_path: Path) -> None:
    replies = iter(["Redeploy the previous tag.", "I named make deploy."])
    with live_server(tmp_path / "data") as url:
        with FakeOpenAIServer(lambda body: next(replies)) as llm:
            done = run_example("langchain_memory.py", tmp_path, url, llm.base_url)
        with SyncHTTPClient(url) as ov:
            session = ov.get_session("langchain-example")
            memories = ov.find("green tea", context_type="memory")["memories"]
    out = done.stdout
    assert f"retrieved> {NOTE_URI}" in out
    assert "assistant> I named make deploy." in out
    assert "history: 4 messages in session langchain-example" in out
    first, second = (body["messages"] for body in llm.paths("/chat/completions"))
    assert "redeploy the previous tag with `make deploy`" in first[0]["content"]  # retrieved
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]  # history
    assert second[2]["content"] == "Redeploy the previous tag."
    assert session["commit_count"] == 1
    assert "User prefers green tea over coffee." in [m["abstract"] for m in memories]
