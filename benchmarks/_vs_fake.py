"""The fake OpenAI-compatible model server for ``vs_upstream.py``, run as its own process.

It reuses ``tests/fakes/openai_server.py`` and changes two things: embeddings are a hashed
bag of words (384 dimensions, L2-normalised, so related texts really are close) instead of a
digest of the whole text, and accepted sockets get ``TCP_NODELAY`` (without it every reply,
written as headers then body, waits ~40 ms for a delayed ACK).

    python benchmarks/_vs_fake.py   # prints the base URL, serves until stdin closes
"""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.fakes

from tests.fakes.openai_server import FakeOpenAIServer

DIMENSION = 384
SUMMARY = "A short Markdown note about the topic named in its title, with a few facts."
_WORD = re.compile(r"[a-z0-9]+")


def bow_vector(text: str, dim: int = DIMENSION) -> list[float]:
    """A deterministic hashed bag of words: each word adds +-1 to one of ``dim`` slots."""
    vector = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dim
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


def _chat(body: dict[str, Any]) -> str:
    """Every chat answer: "nothing to extract" in the format the prompt asks for, else a summary.

    The original server's memory extraction wants a restricted Python program (``sdk.commit()``
    alone means no change), ours a JSON object ``{"operations": [...]}``.
    """
    prompt = " ".join(str(m.get("content") or "") for m in body.get("messages") or [])
    if "sdk.commit()" in prompt:
        return "sdk.commit()"
    if '"operations"' in prompt:
        return '{"operations": []}'
    if "json" in prompt.lower() or body.get("response_format"):
        return "{}"
    return SUMMARY


class BenchModelServer(FakeOpenAIServer):
    """``FakeOpenAIServer`` with bag-of-words embeddings and Nagle's algorithm off."""

    def __init__(self) -> None:
        super().__init__(_chat)
        # StreamRequestHandler.setup() sets TCP_NODELAY when this class attribute is true; the
        # handler class is made per server instance, so this changes nothing for the tests.
        setattr(self._server.RequestHandlerClass, "disable_nagle_algorithm", True)  # noqa: B010

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.clear()  # a long benchmark would otherwise keep every request body
        self.request_headers.clear()
        if not path.endswith("/embeddings"):
            return super()._answer(path, body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": bow_vector(str(t))}
            for i, t in enumerate(texts)
        ]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return {"object": "list", "model": body.get("model", "fake"), "data": data, "usage": usage}


def start() -> tuple[subprocess.Popen[str], str]:
    """Start the fake in a child process (so it never competes with the load generator's GIL)."""
    proc = subprocess.Popen(
        [sys.executable, __file__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http"):
        proc.kill()
        raise RuntimeError(f"the fake model server did not start: {base_url!r}")
    return proc, base_url


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()  # the child serves until its stdin closes
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    with BenchModelServer() as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
