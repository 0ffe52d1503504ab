#!/usr/bin/env python3
"""OpenViking memory hooks for Claude Code: record each conversation, inject memories.

``python3 -S openviking_hook.py <event>`` with the hook's JSON on stdin; ``<event>`` is
``session-start``, ``prompt``, ``stop``, ``pre-compact`` or ``session-end`` (default: the
payload's ``hook_event_name``). ``prompt`` adds the prompt as a ``user`` message to the
session ``cc-<session_id>``; ``stop`` adds the finished turn from the transcript as one
``assistant`` message (its text, a line per tool call and a ``tool`` part per call; the
server keeps outputs over 20,000 characters beside the message); ``pre-compact`` and
``session-end`` commit the session; ``session-start`` prints the memories that
``search(mode="context")`` finds for the project as ``hookSpecificOutput.additionalContext``.

Every hook fails open: on any error it writes one line to stderr, nothing to stdout, and
exits 0. Settings are environment variables (docs/claude-code.md). Standard library only,
and few modules of it, so that a hook starts in a few milliseconds.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

__all__ = ["main"]

# Entries per category of the injected block: memories first, no skills.
DEFAULT_QUOTAS = dict(preferences=5, entities=3, events=3, experiences=3, memories=3)
DEFAULT_QUOTAS.update(resources=2, skills=0)
TAIL_BYTES = 4 * 1024 * 1024
MAX_RESPONSE = 8 * 1024 * 1024
MAX_TOOL_PARTS = 40
INPUT_VALUE_CHARS = 200
_OFF = ("off", "0", "false", "no")
_EVENTS = {  # lower-cased event names of Claude Code, Codex and Cursor
    **dict.fromkeys(("userpromptsubmit", "prompt", "beforesubmitprompt"), "prompt"),
    **dict.fromkeys(("stop", "afteragentresponse"), "stop"),
    **{"sessionstart": "session-start", "precompact": "pre-compact", "sessionend": "session-end"},
}
_BRIEF_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description")


class HookError(Exception):
    """The server answered an error (``code`` is its error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Config:
    """The hooks' settings, from the environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = (env.get("OPENVIKING_URL") or "http://127.0.0.1:1933").rstrip("/")
        self.api_key = (env.get("OPENVIKING_API_KEY") or "").strip()
        self.timeout = _number(env.get("OPENVIKING_HOOK_TIMEOUT"), 2.0)
        self.budget = int(_number(env.get("OPENVIKING_CONTEXT_TOKENS"), 1500))
        self.prefix = env.get("OPENVIKING_SESSION_PREFIX", "cc-")
        self.max_output = int(_number(env.get("OPENVIKING_MAX_TOOL_OUTPUT"), 100_000))
        self.quotas: Json = _quotas(env.get("OPENVIKING_CONTEXT_QUOTAS"))
        cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        self.state_dir = env.get("OPENVIKING_HOOK_STATE") or os.path.join(
            cache, "openviking-claude-code"
        )


def _quotas(raw: str | None) -> Json:
    try:
        quotas = json.loads(raw) if raw else None
    except ValueError:
        quotas = None
    return quotas if isinstance(quotas, dict) else dict(DEFAULT_QUOTAS)


def _number(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


# --- HTTP: a minimal HTTP/1.1 client (http.client would add ssl and email to the start-up) ---


def _split_url(url: str) -> tuple[str, str, str, int, str]:
    """``(scheme, netloc, host, port, base path)`` of an http(s) URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"OPENVIKING_URL must be an http(s) URL, not {url!r}")
    netloc, _, base = rest.partition("/")
    host, port = netloc, 443 if scheme == "https" else 80
    if netloc.startswith("["):
        end = netloc.index("]")
        host, after = netloc[1:end], netloc[end + 1 :]
        port = int(after[1:]) if after.startswith(":") else port
    elif ":" in netloc:
        host, raw_port = netloc.rsplit(":", 1)
        port = int(raw_port)
    base = base.strip("/")
    return scheme, netloc, host, port, f"/{base}" if base else ""


def _read_all(sock: socket.socket, deadline: float) -> bytes:
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the server did not answer in time")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > MAX_RESPONSE:
            raise ValueError("the answer is too large")


def _dechunk(body: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        start = eol + 2
        out += body[start : start + size]
        pos = start + size + 2


def _parse_response(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    elif headers.get("content-length", "").isdigit():
        body = body[: int(headers["content-length"])]
    return status, body


def request(cfg: Config, method: str, path: str, body: Json | None = None) -> Any:
    """The ``result`` of an OpenViking API call; :class:`HookError` for an error answer."""
    scheme, netloc, host, port, base = _split_url(cfg.url)
    data = json.dumps(body).encode() if body is not None else b""
    head = [
        f"{method} {base}{path} HTTP/1.1",
        f"Host: {netloc}",
        "Accept: application/json",
        "Connection: close",
        "User-Agent: openviking-claude-code",
        f"Content-Length: {len(data)}",
    ]
    if body is not None:
        head.append("Content-Type: application/json")
    if cfg.api_key and "\r" not in cfg.api_key and "\n" not in cfg.api_key:
        head.append(f"X-API-Key: {cfg.api_key}")
    deadline = time.monotonic() + cfg.timeout
    sock = socket.create_connection((host, port), timeout=cfg.timeout)
    try:
        if scheme == "https":
            import ssl

            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        status, raw = _parse_response(_read_all(sock, deadline))
    finally:
        sock.close()
    answer = json.loads(raw) if raw else {}
    if status >= 400 or not isinstance(answer, dict) or answer.get("status") != "ok":
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        raise HookError(str(error.get("code") or status), str(error.get("message") or ""))
    return answer.get("result")


def read_payload(stream_fd: int, wait: float = 1.0) -> Json:
    """The hook's JSON from ``stream_fd``: read until it parses, EOF or ``wait`` seconds (a
    caller that never closes stdin cannot hang the hook)."""
    import select

    data = bytearray()
    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            ready, _, _ = select.select([stream_fd], [], [], remaining)
        except (OSError, ValueError):  # no select on this kind of stream (Windows pipes)
            data += sys.stdin.buffer.read()
            break
        chunk = os.read(stream_fd, 65536) if ready else b""
        if not chunk:
            break
        data += chunk
        if data.rstrip().endswith(b"}"):
            try:
                parsed = json.loads(data)
                return parsed if isinstance(parsed, dict) else {}
            except ValueError:
                continue
    parsed = json.loads(data) if data.strip() else {}
    return parsed if isinstance(parsed, dict) else {}


def session_name(cfg: Config, payload: Json) -> str:
    """The OpenViking session of a Claude Code session: ``cc-<session_id>``, made safe."""
    raw = str(payload.get("session_id") or payload.get("conversation_id") or "").strip()
    if not raw:
        raise ValueError("the hook input has no session_id")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "_.@-") else "-" for c in raw)
    return (cfg.prefix + safe)[:128]


def read_transcript(path: object) -> list[Json]:
    """The entries of the transcript's last :data:`TAIL_BYTES` (a JSONL file)."""
    if not isinstance(path, str) or not path:
        return []
    with open(os.path.expanduser(path), "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - TAIL_BYTES))
        lines = handle.read().splitlines()
    if size > TAIL_BYTES:
        lines = lines[1:]  # the first line was cut in the middle
    entries: list[Json] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and not entry.get("isSidechain"):
            entries.append(entry)
    return entries


def _blocks(entry: Json) -> list[Json]:
    message = entry.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def is_prompt(entry: Json) -> bool:
    """Whether a transcript entry is a prompt the user typed (not a tool result)."""
    if entry.get("type") != "user" or entry.get("isMeta"):
        return False
    kinds = {b.get("type") for b in _blocks(entry)}
    return "text" in kinds and "tool_result" not in kinds


def last_turn(entries: list[Json], after_uuid: str | None) -> list[Json]:
    """The entries after the last prompt (and after ``after_uuid``, already recorded)."""
    start = 0
    for index in range(len(entries) - 1, -1, -1):
        if is_prompt(entries[index]):
            start = index + 1
            break
    turn = entries[start:]
    if after_uuid:
        for index, entry in enumerate(turn):
            if entry.get("uuid") == after_uuid:
                return turn[index + 1 :]
    return turn


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... {len(text) - limit} more characters not recorded]"


def _short(value: object) -> object:
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= INPUT_VALUE_CHARS:
        return text
    return f"{text[:INPUT_VALUE_CHARS]}... ({len(text)} chars)"


def short_input(tool_input: object) -> Json:
    """A tool call's input with every value cut to :data:`INPUT_VALUE_CHARS` characters."""
    if not isinstance(tool_input, dict):
        return {} if tool_input is None else {"input": _short(tool_input)}
    return {str(k): _short(v) for k, v in list(tool_input.items())[:8]}


def _brief(tool_input: Json) -> str:
    for key in _BRIEF_KEYS:
        if isinstance(tool_input.get(key), str):
            return str(tool_input[key]).splitlines()[0][:120] if tool_input[key] else ""
    first = next(iter(tool_input.values()), "")
    return json.dumps(first, ensure_ascii=False)[:120] if first != "" else ""


def _result_text(block: Json) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else json.dumps(content, ensure_ascii=False)
    texts = []
    for item in content:
        if isinstance(item, dict) and item.get("type") == "text":
            texts.append(str(item.get("text") or ""))
        elif isinstance(item, dict):
            texts.append(f"[{item.get('type') or 'block'}]")
    return "\n".join(texts)


def _tool_part(cfg: Config, call: Json, result: Json | None) -> tuple[Json, str]:
    """The ``tool`` part of a call and its one-line summary."""
    name = str(call.get("name") or "tool")
    tool_input = short_input(call.get("input"))
    output = _result_text(result) if result else ""
    status = "pending" if result is None else "error" if result.get("is_error") else "completed"
    line = f"{name}: {_brief(tool_input)}".rstrip(": ")
    if result is not None:
        line += f" -> {'error, ' if status == 'error' else ''}{len(output):,} chars of output"
    part = {
        "type": "tool",
        "tool_id": str(call.get("id") or ""),
        "tool_name": name,
        "tool_input": tool_input,
        "tool_output": _cut(output, cfg.max_output),
        "tool_status": status,
    }
    return part, line


def turn_message(cfg: Config, turn: list[Json]) -> list[Json]:
    """The parts of the ``assistant`` message for a turn (``[]``: nothing to record)."""
    texts: list[str] = []
    calls: list[Json] = []
    results: dict[str, Json] = {}
    for entry in turn:
        for block in _blocks(entry):
            kind = block.get("type")
            if entry.get("type") == "assistant" and kind == "text":
                texts.append(str(block.get("text") or "").strip())
            elif entry.get("type") == "assistant" and kind == "tool_use":
                calls.append(block)
            elif entry.get("type") == "user" and kind == "tool_result":
                results[str(block.get("tool_use_id"))] = block
    tools = [_tool_part(cfg, c, results.get(str(c.get("id")))) for c in calls[:MAX_TOOL_PARTS]]
    text = "\n\n".join(t for t in texts if t)
    if tools:
        lines = "\n".join(f"- {line}" for _, line in tools)
        text = f"{text}\n\nTool calls:\n{lines}".strip()
    if len(calls) > MAX_TOOL_PARTS:
        text += f"\n- ... and {len(calls) - MAX_TOOL_PARTS} more tool calls"
    parts = [{"type": "text", "text": text}] if text else []
    return parts + [part for part, _ in tools]


# --- State: the last transcript entry recorded per session (a Stop can fire twice a turn) ---


def _state_file(cfg: Config, session: str) -> str:
    return os.path.join(cfg.state_dir, f"{session}.last")


def recorded_until(cfg: Config, session: str) -> str | None:
    try:
        with open(_state_file(cfg, session), encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def remember_recorded(cfg: Config, session: str, entry_uuid: str) -> None:
    try:
        os.makedirs(cfg.state_dir, exist_ok=True)
        with open(_state_file(cfg, session), "w", encoding="utf-8") as handle:
            handle.write(entry_uuid)
    except OSError:
        pass


# --- The hooks ---


def on_prompt(cfg: Config, payload: Json) -> str | None:
    prompt = payload.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        session = session_name(cfg, payload)
        body = {"role": "user", "content": _cut(prompt, cfg.max_output)}
        request(cfg, "POST", f"/api/v1/sessions/{session}/messages", body)
    return None


def _transcript(payload: Json) -> list[Json]:
    try:
        return read_transcript(payload.get("transcript_path"))
    except OSError:
        return []


def on_stop(cfg: Config, payload: Json) -> str | None:
    session = session_name(cfg, payload)
    turn = last_turn(_transcript(payload), recorded_until(cfg, session))
    parts = turn_message(cfg, turn)
    # Codex sends the reply as last_assistant_message, Cursor's afterAgentResponse as text
    last_message = payload.get("last_assistant_message") or payload.get("text")
    if not parts and isinstance(last_message, str) and last_message.strip():
        parts = [{"type": "text", "text": _cut(last_message.strip(), cfg.max_output)}]
    if parts:
        body = {"role": "assistant", "parts": parts}
        request(cfg, "POST", f"/api/v1/sessions/{session}/messages", body)
    last = next((str(e["uuid"]) for e in reversed(turn) if e.get("uuid")), None)
    if last:
        remember_recorded(cfg, session, last)
    return None


def on_commit(cfg: Config, payload: Json) -> str | None:
    session = session_name(cfg, payload)
    try:
        request(cfg, "POST", f"/api/v1/sessions/{session}/commit", {})
    except HookError as exc:
        if exc.code != "NOT_FOUND":  # a session with no message was never created
            raise
    return None


def _recent_prompt(payload: Json) -> str:
    if payload.get("source") in (None, "startup"):
        return ""
    for entry in reversed(_transcript(payload)):
        if is_prompt(entry):
            return " ".join(str(b.get("text") or "") for b in _blocks(entry))[:300]
    return ""


def on_session_start(cfg: Config, payload: Json) -> str | None:
    roots = payload.get("workspace_roots")  # Cursor's name for the open folders
    root = roots[0] if isinstance(roots, list) and roots else None
    cwd = str(payload.get("cwd") or root or os.getcwd())
    project = os.path.basename(os.path.normpath(cwd)) or cwd
    query = f"{project} {_recent_prompt(payload)}".strip()
    body = {
        "query": query,
        "mode": "context",
        "max_tokens": max(64, min(cfg.budget, 32000)),
        "purpose": "coding",
        "quotas": cfg.quotas,
    }
    result = request(cfg, "POST", "/api/v1/search/search", body)
    rendered = str(result.get("rendered") or "").strip() if isinstance(result, dict) else ""
    if not rendered:
        return None
    context = (
        f"Memories from OpenViking that may help with {project} (recorded in earlier "
        f"sessions; apply them when relevant):\n{rendered}"
    )
    output = {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": context}}
    return json.dumps(output, ensure_ascii=False)


HANDLERS = {
    "session-start": on_session_start,
    "prompt": on_prompt,
    "stop": on_stop,
    "pre-compact": on_commit,
    "session-end": on_commit,
}


def main(argv: list[str]) -> int:
    """Run one hook; always 0 (Claude Code is never blocked by memory)."""
    event = argv[1] if len(argv) > 1 else ""
    try:
        if os.environ.get("OPENVIKING_HOOKS", "").strip().lower() in _OFF:
            return 0
        payload = read_payload(sys.stdin.fileno())
        event = event or str(payload.get("hook_event_name") or "")
        handler = HANDLERS.get(_EVENTS.get(event.replace("-", "").lower(), event))
        output = handler(Config(dict(os.environ)), payload) if handler else None
        if output:
            sys.stdout.write(output + "\n")
            sys.stdout.flush()
    except Exception as exc:  # fail open: one line on stderr, nothing on stdout
        sys.stderr.write(f"openviking hook {event or '?'}: {type(exc).__name__}: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
