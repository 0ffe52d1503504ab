"""The bot's logic with a scripted pydantic-ai FunctionModel: tools, citations, session records,
limits, timeouts, retrieval-only mode and feedback."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from pydantic_ai.messages import BinaryContent, ImageUrl, ModelRequest, UserPromptPart

from openviking_mcp import RequestContext
from openviking_mcp.bot.streams import StreamRegistry
from openviking_mcp.contract.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.bot.conftest import Script, seed

pytestmark = pytest.mark.anyio

DEPLOY = "viking://resources/ops/deploy.md"
FILES = [
    (DEPLOY, "# Deploying\n\nTo deploy the shop run `make ship` from the release branch."),
    ("viking://resources/ops/oncall.md", "# On call\n\nThe pager rotates every Monday."),
]


def _answer_steps() -> list[Any]:
    return [
        ("find", {"query": "how to deploy"}),
        ("read", {"uri": DEPLOY}),
        ["Run `make ship` ", "from the release branch ", f"[{DEPLOY}]."],
    ]


async def test_agent_finds_reads_and_cites(make_bot: Any) -> None:
    script = Script(_answer_steps())
    async with make_bot(script) as (svc, bot):
        await seed(svc, FILES)
        ctx = svc.dev_context()
        reply = await bot.chat(ctx, {"message": "How do I deploy?"})

        assert reply["mode"] == "llm"
        assert reply["error"] is None
        assert reply["message"] == f"Run `make ship` from the release branch [{DEPLOY}]."
        assert reply["citations"] == [{"uri": DEPLOY, "context_type": "resource"}]
        assert reply["response_id"].startswith("resp_")
        assert reply["token_usage"]["total_tokens"] > 0
        # the tools really ran: find's hits and read's text went back to the model
        assert "Found" in script.tool_returns(1)[0].model_response_str()
        assert DEPLOY in script.tool_returns(1)[0].model_response_str()
        assert "make ship" in script.tool_returns(2)[-1].model_response_str()
        kinds = [e["type"] for e in reply["events"]]
        assert kinds == ["iteration", "tool_call", "tool_result"] * 2 + ["iteration"]
        assert reply["events"][1]["data"] == {
            "id": "call-1-0",
            "name": "find",
            "arguments": {"query": "how to deploy"},
        }

        # the turn is in the session: the question, then the answer with its contexts and tools
        context = await svc.session_context(ctx, reply["session_id"])
        user, assistant = context["messages"]
        assert user["role"] == "user"
        assert user["parts"][0]["text"] == "How do I deploy?"
        types = [p["type"] for p in assistant["parts"]]
        assert types == ["text", "context", "tool", "tool"]
        assert assistant["parts"][1]["uri"] == DEPLOY
        session = await svc.get_session(ctx, reply["session_id"])
        assert [c["uri"] for c in session["used"]["contexts"]] == [DEPLOY]


async def test_stream_events_and_deltas(make_bot: Any, registry: StreamRegistry) -> None:
    async with make_bot(Script(_answer_steps()), registry) as (svc, bot):
        await seed(svc, FILES)
        stream = await bot.chat_start(svc.dev_context(), {"message": "deploy?"})
        seen = [e async for e in stream.follow(-1, heartbeat=5) if e is not None]
        assert [e.index for e in seen] == list(range(len(seen)))
        deltas = [e.data for e in seen if e.event == "content_delta"]
        assert deltas == ["Run `make ship` ", "from the release branch ", f"[{DEPLOY}]."]
        final = seen[-1]
        assert final.event == "response"
        assert final.data["content"] == "".join(deltas)
        assert final.data["response_id"] == stream.response_id
        assert final.data["citations"][0]["uri"] == DEPLOY
        frame = final.sse()
        assert frame.startswith(f"id: {final.index}\ndata: {{")
        assert frame.endswith("\n\n")


async def test_history_reaches_the_second_turn(make_bot: Any) -> None:
    script = Script(["Hello Ana.", "You are Ana."])
    async with make_bot(script) as (svc, bot):
        ctx = svc.dev_context()
        first = await bot.chat(ctx, {"message": "I am Ana."})
        await bot.chat(ctx, {"message": "Who am I?", "session_id": first["session_id"]})
        texts = [str(m) for m in script.calls[1][0]]
        assert any("I am Ana." in t for t in texts)
        assert any("Hello Ana." in t for t in texts)


async def test_relevant_memories_are_given_and_returned(make_bot: Any) -> None:
    script = Script(["Noted."])
    async with make_bot(script) as (svc, bot):
        memory = "viking://~/memories/preferences/editor.md"
        ctx = svc.dev_context()
        await svc.write(ctx, memory, "The user prefers the Helix editor.", mode="create")
        await svc.wait_processing(ctx)
        reply = await bot.chat(ctx, {"message": "Which editor do I prefer?"})
        assert reply["relevant_memories"] is not None
        assert "Helix" in reply["relevant_memories"]
        assert "Helix" in (script.calls[0][2] or "")  # in the instructions


async def test_disabled_tools_are_hidden(make_bot: Any) -> None:
    script = Script(["ok"])
    async with make_bot(script) as (svc, bot):
        ctx = svc.dev_context()
        await bot.chat(ctx, {"message": "hi", "disabled_tools": ["remember", "grep"]})
        assert script.calls[0][1] == ["find", "search", "read", "list"]
        with pytest.raises(InvalidArgumentError) as info:
            await bot.chat(ctx, {"message": "hi", "disabled_tools": ["rm"]})
        assert "unknown tools" in info.value.message


async def test_max_loop_count_forces_an_answer(make_bot: Any) -> None:
    script = Script([("find", {"query": "x"})] * 10)
    async with make_bot(script, max_loop_count=3) as (svc, bot):
        reply = await bot.chat(svc.dev_context(), {"message": "loop"})
        assert len(script.calls) == 3
        assert script.calls[2][1] == []  # the last request gets no tools
        assert reply["message"] == "done"
        assert reply["error"] is None
        iterations = [e for e in reply["events"] if e["type"] == "iteration"]
        assert [e["data"]["iteration"] for e in iterations] == [1, 2, 3]


async def test_a_model_ignoring_the_loop_limit_gets_an_error(make_bot: Any) -> None:
    script = Script([("find", {"query": "x"})] * 10, obey_tools=False)
    async with make_bot(script, max_loop_count=2) as (svc, bot):
        reply = await bot.chat(svc.dev_context(), {"message": "loop"})
        assert reply["message"] is None
        assert reply["error"] is not None
        assert "model" in reply["error"].lower()
        assert "Internal error" not in reply["error"]


async def test_a_stalled_model_ends_with_an_error_event(make_bot: Any) -> None:
    script = Script(["never"], delay=30)
    async with make_bot(script, timeout=1.5) as (svc, bot):
        stream = await bot.chat_start(svc.dev_context(), {"message": "hello"})
        reply = await asyncio.wait_for(stream.wait(), 20)
        assert reply["error"] is not None
        assert "timed out" in reply["error"]
        assert len(script.calls) == 1  # the model was asked, and never answered
        assert stream.events[-1].event == "response"
        assert stream.events[-1].data["error"] == reply["error"]
        # the session is free for the next turn
        script.delay, script.steps = 0, ["fine"] * 5
        again = await bot.chat(
            svc.dev_context(), {"message": "hi", "session_id": reply["session_id"]}
        )
        assert again["message"] == "fine"


async def test_tool_errors_go_back_to_the_model(make_bot: Any) -> None:
    script = Script([("read", {"uri": "viking://resources/nope.md"}), "It does not exist."])
    async with make_bot(script) as (svc, bot):
        reply = await bot.chat(svc.dev_context(), {"message": "read nope"})
        returned = script.tool_returns(1)[0].model_response_str()
        assert returned.startswith("Error [NOT_FOUND]")
        result = next(e for e in reply["events"] if e["type"] == "tool_result")
        assert result["data"]["is_error"] is True
        assert reply["citations"] == []


async def test_tools_are_scoped_to_the_caller(make_bot: Any) -> None:
    script = Script([("read", {"uri": "viking://user/ann/notes/secret.md"}), "no"])
    async with make_bot(script) as (svc, bot):
        ann = await svc.local_context("default", "ann")
        bob = await svc.local_context("default", "bob")
        await svc.write(ann, "viking://~/notes/secret.md", "ann's secret", mode="create")
        await bot.chat(bob, {"message": "read ann's secret"})
        returned = script.tool_returns(1)[0].model_response_str()
        assert returned.startswith("Error [PERMISSION_DENIED]")
        assert "ann's secret" not in returned


async def test_remember_tool_commits_facts(make_bot: Any) -> None:
    script = Script([("remember", {"facts": ["I prefer dark roast coffee"]}), "Saved."])
    async with make_bot(script) as (svc, bot):
        ctx = svc.dev_context()
        await bot.chat(ctx, {"message": "Remember that I prefer dark roast coffee"})
        assert script.tool_returns(1)[0].model_response_str().startswith("Stored 1 fact(s)")
        sessions = [s["session_id"] for s in await svc.list_sessions(ctx)]
        assert any(s.startswith("bot-remember-") for s in sessions)


async def test_need_reply_false_only_stores(make_bot: Any) -> None:
    script = Script(["unused"])
    async with make_bot(script) as (svc, bot):
        ctx = svc.dev_context()
        reply = await bot.chat(ctx, {"message": "FYI: build is green", "need_reply": False})
        assert reply["mode"] == "store"
        assert reply["message"] is None
        assert script.calls == []
        context = await svc.session_context(ctx, reply["session_id"])
        assert [m["role"] for m in context["messages"]] == ["user"]


async def test_retrieval_only_without_a_model(make_bot: Any) -> None:
    async with make_bot(None) as (svc, bot):
        await seed(svc, FILES)
        assert bot.bot_health()["mode"] == "retrieval"
        ctx = svc.dev_context()
        reply = await bot.chat(ctx, {"message": "how do I deploy the shop"})
        assert reply["mode"] == "retrieval"
        assert reply["error"] is None
        assert "No language model is configured" in reply["message"]
        assert DEPLOY in reply["message"]
        assert DEPLOY in [c["uri"] for c in reply["citations"]]
        assert reply["token_usage"]["total_tokens"] == 0
        context = await svc.session_context(ctx, reply["session_id"])
        assert [m["role"] for m in context["messages"]] == ["user", "assistant"]


async def test_auto_commit_archives_the_chat(make_bot: Any) -> None:
    async with make_bot(Script(["Hi!"]), auto_commit=True) as (svc, bot):
        ctx = svc.dev_context()
        reply = await bot.chat(ctx, {"message": "I like tea."})
        archives = await svc.list_archives(ctx, reply["session_id"])
        assert len(archives) == 1


async def test_one_turn_at_a_time_per_session(make_bot: Any, registry: StreamRegistry) -> None:
    async with make_bot(Script(["slow", "x"], delay=0.5), registry) as (svc, bot):
        ctx = svc.dev_context()
        stream = await bot.chat_start(ctx, {"message": "one", "session_id": "s1"})
        with pytest.raises(ConflictError):
            await bot.chat_start(ctx, {"message": "two", "session_id": "s1"})
        await stream.wait()


async def test_resume_replays_after_an_index(make_bot: Any, registry: StreamRegistry) -> None:
    async with make_bot(Script([["a", "b", "c", "d"]], delay=0.05), registry) as (svc, bot):
        ctx = svc.dev_context()
        stream = await bot.chat_start(ctx, {"message": "go", "session_id": "s2"})
        first = [e async for e in _take(stream, 2)]
        assert [e.index for e in first] == [0, 1]
        resumed = await bot.chat_resume(ctx, "s2")
        rest = [e async for e in resumed.follow(first[-1].index, heartbeat=5) if e is not None]
        assert rest[0].index == 2
        assert rest[-1].event == "response"
        assert "".join(e.data for e in [*first, *rest] if e.event == "content_delta") == "abcd"
        # finished turns stay resumable, from the start as well
        again = await bot.chat_resume(ctx, "s2")
        replayed = [e async for e in again.follow(-1, heartbeat=5) if e is not None]
        assert replayed == [*first, *rest]
        assert await again.history() == replayed
        with pytest.raises(NotFoundError):
            await bot.chat_resume(ctx, "no-such-session")
        other = await svc.local_context("default", "eve")
        with pytest.raises(NotFoundError):  # streams are private to their user
            await bot.chat_resume(other, "s2")


async def _take(stream: Any, count: int) -> Any:
    got = 0
    async for event in stream.follow(-1, heartbeat=5):
        if event is None:
            continue
        yield event
        got += 1
        if got == count:
            return


async def test_feedback_is_stored_with_the_answer(make_bot: Any) -> None:
    async with make_bot(Script(["Answer."])) as (svc, bot):
        ctx = svc.dev_context()
        reply = await bot.chat(ctx, {"message": "q"})
        ids = {"session_id": reply["session_id"], "response_id": reply["response_id"]}
        receipt = await bot.chat_feedback(ctx, {**ids, "feedback_type": "thumb_up"})
        assert receipt["accepted"] is True
        assert receipt["feedback_delay_sec"] >= 0
        assert set(receipt) == {
            "accepted",
            "response_id",
            "session_id",
            "feedback_type",
            "feedback_delay_sec",
            "timestamp",
        }
        await bot.chat_feedback(
            ctx, {**ids, "feedback_type": "rating", "feedback_score": 4, "feedback_text": "ok"}
        )
        stored = await bot.chat_response(ctx, reply["response_id"])
        assert stored["feedback"]["feedback_type"] == "rating"
        assert stored["feedback"]["feedback_score"] == 4
        assert stored["message"] == "Answer."
        with pytest.raises(InvalidArgumentError):
            await bot.chat_feedback(ctx, {**ids, "feedback_type": "rating"})
        with pytest.raises(NotFoundError):
            await bot.chat_feedback(
                ctx, {**ids, "response_id": "resp_x", "feedback_type": "thumb_up"}
            )
        with pytest.raises(NotFoundError):
            await bot.chat_feedback(
                ctx, {**ids, "session_id": "other", "feedback_type": "thumb_down"}
            )
        eve = await svc.local_context("default", "eve")
        with pytest.raises(NotFoundError):
            await bot.chat_feedback(eve, {**ids, "feedback_type": "thumb_down"})


async def test_chatting_as_another_user(make_bot: Any) -> None:
    async with make_bot(Script(["a", "b"])) as (svc, bot):
        admin = svc.dev_context()
        reply = await bot.chat(admin, {"message": "hi", "user_id": "zoe"})
        zoe = await svc.local_context("default", "zoe")
        assert (await svc.get_session(zoe, reply["session_id"]))["session_id"]
        plain = RequestContext("default", "zoe")
        with pytest.raises(PermissionDeniedError):
            await bot.chat(plain, {"message": "hi", "user_id": "admin-wannabe"})


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"message": ""}, "message or at least one image"),
        ({"message": "x", "context": [{"a": 1}]}, "context is not accepted"),
        ({"message": "x", "images": ["http://example.com/a.png"]}, "https URL"),
        ({"message": "x", "images": ["https://e.com/a.png"] * 5}, "At most 4 images"),
        ({"message": "x", "images": ["data:image/png;base64,AAAA"]}, "not a PNG image"),
        ({"message": "x", "images": ["data:image/png;base64,@@@"]}, "not valid base64"),
        ({"message": "x", "images": ["data:text/html;base64,AAAA"]}, "data URL must be"),
        ({"message": "x", "session_id": "../etc"}, "session_id"),
        ({"message": "x", "surprise": 1}, "surprise"),
    ],
)
async def test_bad_requests_are_refused(make_bot: Any, body: dict[str, Any], needle: str) -> None:
    script = Script(["unused"])
    async with make_bot(script) as (svc, bot):
        with pytest.raises(InvalidArgumentError) as info:
            await bot.chat(svc.dev_context(), body)
        assert needle in info.value.message
        assert script.calls == []
        assert await svc.list_sessions(svc.dev_context()) == []


PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


async def test_images_reach_the_model(make_bot: Any) -> None:
    script = Script(["A tiny image."])
    async with make_bot(script) as (svc, bot):
        ctx = svc.dev_context()
        reply = await bot.chat(
            ctx,
            {
                "message": "What is this?",
                "images": [
                    {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
                    "https://example.com/cat.jpg",
                ],
            },
        )
        prompt = script.calls[0][0][-1]
        assert isinstance(prompt, ModelRequest)
        content = next(p for p in prompt.parts if isinstance(p, UserPromptPart)).content
        assert isinstance(content, list)
        assert content[0] == "What is this?"
        assert isinstance(content[1], BinaryContent)
        assert content[1].media_type == "image/png"
        assert isinstance(content[2], ImageUrl)
        assert content[2].url.endswith("cat.jpg")
        stored = (await svc.session_context(ctx, reply["session_id"]))["messages"][0]["parts"]
        assert stored[1] == {"type": "text", "text": "[image attached: image/png, 40 bytes]"}
        assert stored[2]["image_url"]["url"] == "https://example.com/cat.jpg"


async def test_reasoning_is_streamed_and_summed_up(make_bot: Any) -> None:
    from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, FunctionModel

    async def thinking(messages: list[Any], info: AgentInfo) -> Any:
        yield {1: DeltaThinkingPart(content="The user greets; ")}
        yield {1: DeltaThinkingPart(content="greet back.")}
        yield "Hello!"

    script = Script([])
    script.model = lambda: FunctionModel(stream_function=thinking)  # type: ignore[method-assign]
    async with make_bot(script) as (svc, bot):
        stream = await bot.chat_start(svc.dev_context(), {"message": "hi"})
        reply = await stream.wait()
        deltas = [e.data for e in stream.events if e.event == "reasoning_delta"]
        assert deltas == ["The user greets; ", "greet back."]
        whole = [e for e in reply["events"] if e["type"] == "reasoning"]
        assert [e["data"] for e in whole] == ["The user greets; greet back."]
        assert reply["message"] == "Hello!"
