"""A fake OpenAI-compatible (and Cohere-style rerank) server on 127.0.0.1 for tests.

It answers ``POST .../chat/completions`` from a scripted handler (or queue of replies),
``POST .../embeddings`` with deterministic vectors and ``POST .../rerank`` by word overlap,
and records every request so a test can check what the client really sent.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["FakeOpenAIServer"]

ChatHandler = Callable[[dict[str, Any]], str]


class FakeOpenAIServer:
    def __init__(self, chat: ChatHandler | None = None) -> None:
        self.chat: ChatHandler = chat or (lambda body: "ok")
        self.requests: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((self.path, body))
                try:
                    payload = outer._answer(self.path, body)
                    status = 200
                except KeyError:
                    payload, status = {"error": {"message": "not found"}}, 404
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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
        if path.endswith("/chat/completions"):
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": self.chat(body)},
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
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


def _vector(text: str, dim: int = 16) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:dim]]
