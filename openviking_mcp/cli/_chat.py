"""`chat` and `chat-feedback`: talk to the bot over the store, locally or on a server.

``openviking-mcp chat "How do I deploy?"`` runs one turn and streams the answer to stdout as it
comes; tool calls and results, the cited contexts and the ``session:``/``response:`` ids go to
stderr (dim), so stdout holds only the answer. Without a message, on a terminal, it chats
interactively in one session (``you> ``; an empty line or Ctrl-D ends); from a pipe, stdin is
the message. ``-o json`` prints the whole reply (``ChatReply``) instead.

Like the other commands it runs on the local store (the embedded client) or, with ``--url`` or
an ``ovcli.conf``, on a server (the HTTP client, which resumes a dropped stream itself).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import typer

from openviking_mcp.cli._core import T, app, emit, err, fail, opts, run_async
from openviking_mcp.client._chat_wire import FeedbackType, image_data_url
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError, ProcessingError

if TYPE_CHECKING:
    from openviking_mcp.client.embedded import AsyncOpenViking
    from openviking_mcp.client.http import AsyncHTTPClient

__all__ = ["chat", "chat_feedback"]

_Client: TypeAlias = "AsyncOpenViking | AsyncHTTPClient"
_URL_PREFIXES = ("http://", "https://", "data:")
_PREVIEW = 160


def _with_client(work: Callable[[_Client], Awaitable[T]]) -> T:
    """Run ``work`` with a client of the chosen store: a server (``--url``, ``ovcli.conf``)
    or the local one (``--path``, ``--config``), acting as ``--account``/``--user``."""

    async def go() -> T:
        client: _Client
        if opts.remote():
            from openviking_mcp.client.http import AsyncHTTPClient

            client = AsyncHTTPClient(opts.url, opts.api_key, account=opts.account, user=opts.user)
        else:
            from openviking_mcp.client.embedded import AsyncOpenViking

            client = AsyncOpenViking(config=opts.load(), account=opts.account, user=opts.user)
        async with client:
            return await work(client)

    return run_async(go)


def _is_terminal() -> bool:
    return sys.stdin.isatty()


def _images(sources: list[str] | None) -> list[str] | None:
    """URLs pass as they are; a local file becomes a data URL (JPEG, PNG, GIF or WebP)."""
    if not sources:
        return None
    return [s if s.startswith(_URL_PREFIXES) else image_data_url(s) for s in sources]


def _dim(text: str) -> None:
    err.print(text, style="dim", markup=False, highlight=False)


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _show_tool(kind: str, data: Any) -> None:
    if not isinstance(data, dict):
        return
    name = data.get("name", "?")
    if kind == "tool_call":
        _dim(f"> {name} {_one_line(data.get('arguments'))}")
    else:
        marker = "error" if data.get("is_error") else "ok"
        _dim(f"< {name} [{marker}] {_one_line(data.get('result'))}")


def _show_end(reply: dict[str, Any]) -> None:
    """The cited contexts and the ids (stderr); a failed turn raises its error."""
    if reply.get("error"):
        raise ProcessingError(
            str(reply["error"]),
            {"session_id": reply.get("session_id"), "response_id": reply.get("response_id")},
        )
    citations = reply.get("citations") or []
    if citations:
        _dim("sources:")
        for number, cited in enumerate(citations, 1):
            _dim(f"  [{number}] {cited.get('uri')} ({cited.get('context_type', 'resource')})")
    _dim(f"session: {reply.get('session_id')}  response: {reply.get('response_id')}")


async def _streamed_turn(client: _Client, message: str, **options: Any) -> dict[str, Any]:
    """One turn, its answer written to stdout as it comes; returns the ``response`` data."""
    final: dict[str, Any] | None = None
    ends_line = True
    async for event in client.chat_stream(message, **options):
        kind, data = event["event"], event["data"]
        if kind == "content_delta" and isinstance(data, str) and data:
            sys.stdout.write(data)
            sys.stdout.flush()
            ends_line = data.endswith("\n")
        elif kind in ("tool_call", "tool_result"):
            if not ends_line:
                sys.stdout.write("\n")
                ends_line = True
            _show_tool(kind, data)
        elif kind == "response" and isinstance(data, dict):
            final = data
    if not ends_line:
        sys.stdout.write("\n")
    sys.stdout.flush()
    if final is None:  # the clients end a stream only with its response event
        raise ProcessingError("The chat stream ended without an answer")
    return final


async def _whole_turn(client: _Client, message: str, **options: Any) -> dict[str, Any]:
    """One turn through ``chat``: the tool events, then the answer."""
    reply = await client.chat(message, **options)
    for record in reply.get("events") or []:
        if record.get("type") in ("tool_call", "tool_result"):
            _show_tool(record["type"], record.get("data"))
    text = reply.get("message")
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    return reply


async def _turn(client: _Client, message: str, stream: bool, **options: Any) -> dict[str, Any]:
    final = await (_streamed_turn if stream else _whole_turn)(client, message, **options)
    _show_end(final)
    return final


async def _ask(prompt: str) -> str:
    """``input(prompt)`` without blocking the loop (the local store keeps working meanwhile).

    The read runs in a daemon thread, so Ctrl-C ends the command at once (a worker thread of
    the loop's executor would be waited for at exit, until the user pressed Enter)."""
    import asyncio  # loaded already: this runs on the loop (not imported by --version/--help)

    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(line: str | None, exc: BaseException | None) -> None:
        if answer.done():
            return
        if exc is not None:
            answer.set_exception(exc)
        else:
            answer.set_result(line or "")

    def read() -> None:
        try:
            line, exc = input(prompt), None
        except BaseException as problem:  # EOFError on Ctrl-D; handed to the loop
            line, exc = None, problem
        with contextlib.suppress(RuntimeError):  # the loop is gone: the command ended
            loop.call_soon_threadsafe(settle, line, exc)

    threading.Thread(target=read, name="chat-input", daemon=True).start()
    return await answer


async def _interactive(client: _Client, stream: bool, **options: Any) -> None:
    """``you> `` prompts in one session until an empty line or Ctrl-D; a failed turn is
    reported and the chat goes on."""
    _dim("Chatting with the bot (an empty line or Ctrl-D ends).")
    while True:
        try:
            line = await _ask("you> ")
        except EOFError:
            sys.stdout.write("\n")
            return
        if not line.strip():
            return
        try:
            final = await _turn(client, line, stream, **options)
        except OpenVikingError as exc:
            err.print(f"Error [{exc.code}]: {exc.message}", markup=False, highlight=False)
            continue
        options["session_id"] = final.get("session_id") or options.get("session_id")
        options["images"] = None  # the images went with the first message


@app.command("chat")
def chat(
    message: Annotated[
        str | None,
        typer.Argument(help="The message. Omitted: an interactive chat on a terminal, else stdin."),
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Continue this session (default: a new one).")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Chat as this user of the account (needs an ADMIN)."),
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help="Attach an image: a JPEG/PNG/GIF/WebP file or an https URL."),
    ] = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole answer, then print it.")
    ] = False,
    disable_tool: Annotated[
        list[str] | None,
        typer.Option(
            "--disable-tool", help="Hide a tool from the model (find, search, read, ...)."
        ),
    ] = None,
) -> None:
    """Ask the bot; it answers from the store, citing the contexts it used."""
    interactive = message is None and _is_terminal() and opts.output != "json"
    if message is None and not interactive:
        message = sys.stdin.read()
        if not message.strip() and not image:
            raise fail(InvalidArgumentError("No message: pass MESSAGE, or pipe it on stdin"))
    try:
        images = _images(image)
    except (OpenVikingError, OSError) as exc:
        raise fail(exc) from None
    options: dict[str, Any] = {
        "session_id": session,
        "images": images,
        "user_id": user,
        "disabled_tools": disable_tool,
    }
    stream = not no_stream

    if opts.output == "json":
        reply = _with_client(lambda c: c.chat(message or "", **options))
        emit(reply)
        if reply.get("error"):
            raise typer.Exit(1)
        return
    if interactive:
        _with_client(lambda c: _interactive(c, stream, **options))
        return
    _with_client(lambda c: _turn(c, message or "", stream, **options))


@app.command("chat-feedback")
def chat_feedback(
    response_id: Annotated[str, typer.Argument(help="The answer's response id (resp_...).")],
    session: Annotated[str, typer.Option("--session", help="The answer's session.")],
    up: Annotated[bool, typer.Option("--up", help="Thumbs up.")] = False,
    down: Annotated[bool, typer.Option("--down", help="Thumbs down.")] = False,
    rating: Annotated[
        int | None, typer.Option("--rating", min=1, max=5, help="A rating from 1 to 5.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="A comment.")] = None,
) -> None:
    """Thumbs up, thumbs down or a rating on one of the bot's answers."""
    chosen: list[FeedbackType] = []
    if up:
        chosen.append("thumb_up")
    if down:
        chosen.append("thumb_down")
    if rating is not None:
        chosen.append("rating")
    if len(chosen) != 1:
        raise fail(InvalidArgumentError("Give exactly one of --up, --down or --rating N"))
    score = float(rating) if rating is not None else None
    emit(
        _with_client(
            lambda c: c.chat_feedback(session, response_id, chosen[0], score=score, text=text)
        )
    )
