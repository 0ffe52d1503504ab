"""A fake OpenAI-compatible (and Cohere-style rerank) server on 127.0.0.1 for tests.

It answers ``POST .../chat/completions`` from a scripted handler (or queue of replies),
``POST .../embeddings`` with deterministic vectors and ``POST .../rerank`` by word overlap,
and records every request so a test can check what the client really sent.

A chat handler returns either the answer text, or a dict scripting a richer reply::

    {
        "content": str | None,
        "tool_calls": [{"name": str, "arguments": dict | str, "id": str (optional)}],
        "reasoning": str,  # optional, sent as ``reasoning_content``
        "delay": float,  # optional, seconds to wait before answering (timeout tests)
        "status": int,  # optional, answer with this HTTP error status instead
        "error": str,  # optional, the error message sent with ``status``
        "stream_error": str,  # optional, a stream breaks off with this error after the content
    }

A request with ``"stream": true`` is answered as a server-sent event stream in OpenAI's chunk
format: the role, the content word by word, each tool call's arguments in several pieces, a
finish chunk, a usage chunk when ``stream_options.include_usage`` asks for it, then ``[DONE]``.
Usage is always ``prompt_tokens = 11 * len(messages)`` and ``completion_tokens = 7``.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tests.fakes.quiet_http import QuietHTTPServer

__all__ = ["ChatHandler", "ChatReply", "FakeOpenAIServer", "chat_reply", "scripted", "tool_call"]

ChatReply = str | dict[str, Any]
ChatHandler = Callable[[dict[str, Any]], ChatReply]

PROMPT_TOKENS_PER_MESSAGE = 11
COMPLETION_TOKENS = 7


def tool_call(name: str, /, *, call_id: str | None = None, **arguments: Any) -> dict[str, Any]:
    """One scripted tool call, for the ``tool_calls`` list of a chat reply."""
    call: dict[str, Any] = {"name": name, "arguments": arguments}
    if call_id:
        call["id"] = call_id
    return call


def chat_reply(
    content: str | None = None,
    *tool_calls: dict[str, Any],
    reasoning: str | None = None,
    delay: float | None = None,
    status: int | None = None,
    error: str | None = None,
    stream_error: str | None = None,
) -> dict[str, Any]:
    """A scripted chat reply (see the module docstring); unset fields are left out."""
    fields = {
        "content": content,
        "tool_calls": list(tool_calls) or None,
        "reasoning": reasoning,
        "delay": delay,
        "status": status,
        "error": error,
        "stream_error": stream_error,
    }
    return {key: value for key, value in fields.items() if value is not None}


def scripted(*replies: ChatReply) -> ChatHandler:
    """A handler answering the given replies in order (an extra request gets an HTTP 500)."""
    queue = list(replies)

    def handler(body: dict[str, Any]) -> ChatReply:
        if not queue:
            return {"status": 500, "error": "the fake server's script ran out of replies"}
        return queue.pop(0)

    return handler


class FakeOpenAIServer:
    def __init__(self, chat: ChatHandler | None = None) -> None:
        self.chat: ChatHandler = chat or (lambda body: "ok")
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.request_headers: list[dict[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((self.path, body))
                outer.request_headers.append({k.lower(): v for k, v in self.headers.items()})
                try:
                    if self.path.endswith("/chat/completions"):
                        self._chat(body)
                    else:
                        self._json(200, outer._answer(self.path, body))
                except KeyError:
                    self._json(404, {"error": {"message": "not found"}})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nobody is listening any more

            def _chat(self, body: dict[str, Any]) -> None:
                reply = outer.chat(body)
                script: dict[str, Any] = {"content": reply} if isinstance(reply, str) else reply
                if script.get("delay"):
                    time.sleep(float(script["delay"]))
                status = int(script.get("status") or 200)
                if status != 200:
                    message = str(script.get("error") or f"fake error {status}")
                    error = {"message": message, "type": "fake_error", "code": status}
                    self._json(status, {"error": error})
                elif body.get("stream"):
                    self._events(_stream_chunks(body, script, len(outer.requests)))
                else:
                    self._json(200, _completion(body, script, len(outer.requests)))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _events(self, chunks: Iterator[dict[str, Any]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()  # no length: the body ends when the connection closes
                self.close_connection = True
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if "error" in chunk:
                        return  # a broken stream ends without [DONE]
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def log_message(self, *args: object) -> None:
                return None

        self._server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown waits up to one interval
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def paths(self, suffix: str) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path.endswith(suffix)]

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path.endswith("/embeddings"):
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return {
                "object": "list",
                "model": body.get("model", "fake"),
                "data": [
                    {"object": "embedding", "index": i, "embedding": _vector(t)}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        if path.endswith("/rerank"):
            query = set(str(body["query"]).lower().split())
            docs = [d if isinstance(d, str) else d.get("text", "") for d in body["documents"]]
            scores = [len(query & set(d.lower().split())) / (len(query) or 1) for d in docs]
            order = sorted(range(len(docs)), key=lambda i: -scores[i])
            return {
                "id": "rerank-fake",
                "results": [{"index": i, "relevance_score": scores[i]} for i in order],
                "meta": {"billed_units": {"search_units": 1}},
            }
        raise KeyError(path)


def _usage(body: dict[str, Any]) -> dict[str, int]:
    prompt = PROMPT_TOKENS_PER_MESSAGE * len(body.get("messages") or [])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": prompt + COMPLETION_TOKENS,
    }


def _tool_calls(script: dict[str, Any], number: int) -> list[dict[str, str]]:
    """The scripted calls as ``{"id", "name", "arguments"}`` with arguments as JSON text."""
    calls = []
    for i, call in enumerate(script.get("tool_calls") or []):
        arguments = call.get("arguments") or {}
        calls.append(
            {
                "id": str(call.get("id") or f"call_{number}_{i}"),
                "name": str(call["name"]),
                "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
            }
        )
    return calls


def _completion(body: dict[str, Any], script: dict[str, Any], number: int) -> dict[str, Any]:
    calls = _tool_calls(script, number)
    message: dict[str, Any] = {"role": "assistant", "content": script.get("content")}
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in calls
        ]
    if script.get("reasoning"):
        message["reasoning_content"] = script["reasoning"]
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}
        ],
        "usage": _usage(body),
    }


def _stream_chunks(
    body: dict[str, Any], script: dict[str, Any], number: int
) -> Iterator[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    yield chunk({"role": "assistant", "content": ""})
    for word in _words(script.get("reasoning") or ""):
        yield chunk({"reasoning_content": word})
    for word in _words(script.get("content") or ""):
        yield chunk({"content": word})
    if script.get("stream_error"):
        yield {"error": {"message": str(script["stream_error"]), "type": "fake_error"}}
        return
    calls = _tool_calls(script, number)
    for i, call in enumerate(calls):
        head = {"index": i, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        for piece in _pieces(call["arguments"]):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(body)}


def _words(text: str) -> list[str]:
    """``text`` cut after each run of spaces, so the pieces join back to it exactly."""
    return re.findall(r"\s*\S+\s*|\s+", text)


def _pieces(text: str, count: int = 3) -> list[str]:
    """``text`` in ``count`` roughly equal pieces (at least two when it has two characters)."""
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _vector(text: str, dim: int = 16) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:dim]]
