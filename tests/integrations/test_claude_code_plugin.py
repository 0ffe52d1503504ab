"""The Claude Code plugin: its hooks record a conversation into a session, commit it into a
memory, and inject that memory when the next session starts; with the server down they do
nothing and never block. Its manifests are valid and name files that exist."""

from __future__ import annotations

import http.server
import importlib.util
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integrations._claude_code import (
    EVENTS,
    HOOKS_JSON,
    PLUGIN,
    PREFERENCE,
    PROMPT,
    big_output,
    hook_env,
    live_server,
    payload,
    run_hook,
    wait_for_commit,
    write_transcript,
)
from tests.servers import free_port, loopback_http

HOOK_SCRIPT = "hooks/openviking_hook.py"
SESSION_1 = "4f6b2c1e-8d3a-4e7f-9b21-0c5d7a3e9f10"
SESSION_2 = "a9e3d7c5-1b2f-4c6a-8e0d-3f7b9c2a5e41"
KNOWN_EVENTS = {
    "PreToolUse",
    "PostToolUse",
    "Notification",
    "UserPromptSubmit",
    "Stop",
    "SubagentStop",
    "PreCompact",
    "SessionStart",
    "SessionEnd",
}


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _expand(value: str, env: dict[str, str]) -> str:
    """Claude Code's ``${VAR}`` / ``${VAR:-default}`` expansion of ``.mcp.json`` values."""

    def one(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        return env.get(name) or default

    return re.sub(r"\$\{([^}]+)\}", one, value)


def test_manifests_parse_and_name_files_that_exist() -> None:
    manifest = _json(PLUGIN / ".claude-plugin" / "plugin.json")
    assert manifest["name"] == "openviking"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(manifest["version"]))
    # hooks/hooks.json and .mcp.json load from their standard places; naming them again in
    # the manifest makes Claude Code report a duplicate
    assert "hooks" not in manifest
    assert "mcpServers" not in manifest
    market = _json(PLUGIN / ".claude-plugin" / "marketplace.json")
    assert isinstance(market["owner"], dict)
    assert market["owner"]["name"]
    [entry] = market["plugins"]
    assert entry["name"] == manifest["name"]
    assert entry["version"] == manifest["version"]
    assert entry["source"].startswith("./")
    assert (PLUGIN / entry["source"] / ".claude-plugin" / "plugin.json").is_file()

    hooks = _json(HOOKS_JSON)["hooks"]
    assert isinstance(hooks, dict)
    assert set(hooks) == set(EVENTS) <= KNOWN_EVENTS
    for groups in hooks.values():
        for group in groups:
            for hook in group["hooks"]:
                assert hook["type"] == "command"
                assert 0 < hook["timeout"] <= 30
                script = re.search(r'"\$\{CLAUDE_PLUGIN_ROOT\}/([^"]+)"', hook["command"])
                assert script, hook["command"]
                assert (PLUGIN / script.group(1)).is_file()

    servers = _json(PLUGIN / ".mcp.json")["mcpServers"]
    assert isinstance(servers, dict)
    server = servers["openviking"]
    assert server["type"] == "http"
    assert _expand(server["url"], {}) == "http://127.0.0.1:1933/mcp"
    assert _expand(server["headers"]["X-API-Key"], {}) == ""  # no key: dev mode on loopback
    env = {"OPENVIKING_URL": "http://10.0.0.5:2000", "OPENVIKING_API_KEY": "k"}
    assert _expand(server["url"], env) == "http://10.0.0.5:2000/mcp"
    assert _expand(server["headers"]["X-API-Key"], env) == "k"


@pytest.mark.slow
def test_two_sessions_remember_by_themselves(tmp_path: Path) -> None:
    cwd = tmp_path / "acme-api"
    cwd.mkdir()
    output = big_output()
    with live_server(tmp_path / "data") as live:
        env = hook_env(tmp_path / "home", live.url, live.key)
        transcript = tmp_path / "home" / ".claude" / "projects" / f"{SESSION_1}.jsonl"

        # session 1: nothing to inject yet; the prompt, then the turn, are recorded
        start = run_hook("SessionStart", payload("SessionStart", SESSION_1, transcript, cwd), env)
        assert (start.returncode, start.stdout, start.stderr) == (0, "", "")
        prompt = run_hook(
            "UserPromptSubmit", payload("UserPromptSubmit", SESSION_1, transcript, cwd), env
        )
        assert (prompt.returncode, prompt.stdout, prompt.stderr) == (0, "", "")
        write_transcript(transcript, SESSION_1, str(cwd), output)
        stop = run_hook("Stop", payload("Stop", SESSION_1, transcript, cwd), env)
        assert (stop.returncode, stop.stdout, stop.stderr) == (0, "", "")
        again = run_hook("Stop", payload("Stop", SESSION_1, transcript, cwd), env)
        assert again.returncode == 0  # a second Stop of the same turn records nothing new

        session = f"cc-{SESSION_1}"
        messages = live.client.session_context(session)["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[0]["parts"] == [{"type": "text", "text": PROMPT}]
        text, bash, read = messages[1]["parts"]
        assert text["type"] == "text"
        assert text["text"].startswith("Running the suite with pytest.\n\nTwo tests fail")
        assert f"- Bash: pytest -q -> error, {len(output):,} chars of output" in text["text"]
        assert "- Read: " + str(cwd / "tests" / "test_billing.py") in text["text"]
        assert "SUBAGENT NOTE" not in json.dumps(messages)  # sidechain lines are not the turn
        assert bash["tool_name"] == "Bash"
        assert bash["tool_status"] == "error"
        assert bash["tool_input"] == {"command": "pytest -q", "description": "Run the test suite"}
        assert bash["tool_output_truncated"] is True
        assert bash["tool_output_chars"] == len(output)
        assert len(bash["tool_output"]) <= 2000
        assert output[:2000] == bash["tool_output"]
        assert output not in json.dumps(messages)  # the big output is not in the message...
        assert live.client.read(bash["tool_output_uri"]) == output  # ...but kept beside it
        assert read["tool_name"] == "Read"
        assert read["tool_status"] == "completed"
        assert "invoice_total" in read["tool_output"]

        # the end of session 1 commits it; the model extracts the stated preference
        end = run_hook("SessionEnd", payload("SessionEnd", SESSION_1, transcript, cwd), env)
        assert (end.returncode, end.stdout, end.stderr) == (0, "", "")
        archive = wait_for_commit(live.client, session)
        assert archive["status"] == "done", archive
        extraction = [
            str(body["messages"][-1]["content"])
            for _, body in live.model.requests
            if "## Memory categories" in str(body["messages"][-1]["content"])
        ]
        assert len(extraction) == 1
        assert PROMPT in extraction[0]
        assert output[-300:] not in extraction[0]
        memories: list[dict[str, Any]] = live.client.ls(  # type: ignore[assignment]
            "viking://user/ann/memories/preferences"
        )
        files = [m for m in memories if not str(m["uri"]).rsplit("/", 1)[-1].startswith(".")]
        assert len(files) == 1
        assert PREFERENCE in live.client.read(str(files[0]["uri"]))

        # session 2 starts with that memory
        fresh = tmp_path / "home" / ".claude" / "projects" / f"{SESSION_2}.jsonl"
        start = run_hook("SessionStart", payload("SessionStart", SESSION_2, fresh, cwd), env)
    assert (start.returncode, start.stderr) == (0, "")
    injected = json.loads(start.stdout)["hookSpecificOutput"]
    assert injected["hookEventName"] == "SessionStart"
    assert "acme-api" in injected["additionalContext"]
    assert PREFERENCE in injected["additionalContext"]
    assert str(files[0]["uri"]) in injected["additionalContext"]


@pytest.mark.slow
def test_mcp_entry_reaches_the_servers_mcp_endpoint(tmp_path: Path) -> None:
    server = _json(PLUGIN / ".mcp.json")["mcpServers"]["openviking"]
    with live_server(tmp_path / "data") as live:
        env = {"OPENVIKING_URL": live.url, "OPENVIKING_API_KEY": live.key}
        headers = {k: _expand(v, env) for k, v in server["headers"].items()}
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "claude-code", "version": "2.0.14"},
            },
        }
        answer = httpx.post(
            _expand(server["url"], env),
            json=initialize,
            headers={**headers, "Accept": "application/json, text/event-stream"},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text
    assert '"serverInfo"' in answer.text


class _Silent(http.server.BaseHTTPRequestHandler):
    """Takes a request and answers nothing for a long while (a hung server)."""

    def do_POST(self) -> None:
        time.sleep(5)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["closed port", "hung server"])
def test_hooks_fail_open(tmp_path: Path, server: str) -> None:
    transcript = write_transcript(tmp_path / "t.jsonl", SESSION_1, str(tmp_path), big_output(50))
    with loopback_http(_Silent) as hung_port:
        port = hung_port if server == "hung server" else free_port()
        env = hook_env(
            tmp_path / "home", f"http://127.0.0.1:{port}", "key", OPENVIKING_HOOK_TIMEOUT="0.5"
        )
        runs = {e: run_hook(e, payload(e, SESSION_1, transcript, tmp_path), env) for e in EVENTS}
    for event, run in runs.items():
        assert run.returncode == 0, (event, run)
        assert run.stdout == "", (event, run)  # nothing for Claude Code to act on
        assert run.seconds < 3, (event, run.seconds)  # well within the 10 s of hooks.json
        assert "Traceback" not in run.stderr, (event, run)
        assert run.stderr.count("\n") == 1, (event, run)
        assert run.stderr.startswith("openviking hook "), (event, run)


@pytest.mark.slow
def test_hooks_ignore_bad_input_and_can_be_switched_off(tmp_path: Path) -> None:
    env = hook_env(tmp_path / "home", f"http://127.0.0.1:{free_port()}", None)
    odd = run_hook("Stop", {"session_id": 42, "transcript_path": ["x"]}, env)
    assert (odd.returncode, odd.stdout) == (0, "")
    off = {**env, "OPENVIKING_HOOKS": "off"}
    quiet = run_hook("SessionStart", {"session_id": "s", "cwd": str(tmp_path)}, off)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


@pytest.mark.slow
def test_codex_and_cursor_payloads_are_recorded_too(tmp_path: Path) -> None:
    """Codex sends the same snake_case fields, a Stop with ``last_assistant_message`` and no
    Claude Code transcript: the turn is recorded from that message. Cursor's
    ``afterAgentResponse`` (``conversation_id``, ``text``) is recorded the same way."""
    codex = {"session_id": "019a-codex", "cwd": str(tmp_path), "transcript_path": None}
    with live_server(tmp_path / "data") as live:
        env = hook_env(tmp_path / "home", live.url, live.key)
        prompt = {**codex, "hook_event_name": "UserPromptSubmit", "turn_id": "t1", "prompt": "hi"}
        stop = {
            **codex,
            "hook_event_name": "Stop",
            "turn_id": "t1",
            "stop_hook_active": False,
            "last_assistant_message": "Hello! What shall we build?",
        }
        runs = [run_hook("UserPromptSubmit", prompt, env), run_hook("Stop", stop, env)]
        messages = live.client.session_context("cc-019a-codex")["messages"]
        # Cursor names the session conversation_id and sends the reply as text
        cursor = {"conversation_id": "conv-7", "workspace_roots": [str(tmp_path)]}
        reply = {**cursor, "hook_event_name": "afterAgentResponse", "text": "Done."}
        runs.append(run_hook("Stop", reply, {**env, "OPENVIKING_SESSION_PREFIX": "cursor-"}))
        cursor_messages = live.client.session_context("cursor-conv-7")["messages"]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [(0, "", "")] * 3
    assert [(m["role"], m["parts"][0]["text"]) for m in messages] == [
        ("user", "hi"),
        ("assistant", "Hello! What shall we build?"),
    ]
    assert [(m["role"], m["parts"][0]["text"]) for m in cursor_messages] == [("assistant", "Done.")]


def _hook_module() -> Any:
    spec = importlib.util.spec_from_file_location("openviking_hook", PLUGIN / HOOK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hook_helpers() -> None:
    hook = _hook_module()
    assert hook._split_url("http://127.0.0.1:1933") == (
        "http",
        "127.0.0.1:1933",
        "127.0.0.1",
        1933,
        "",
    )
    assert hook._split_url("https://ov.example/base/") == (
        "https",
        "ov.example",
        "ov.example",
        443,
        "/base",
    )
    assert hook._split_url("http://[::1]:8080")[2:4] == ("::1", 8080)
    assert hook._dechunk(b"5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n") == b"hello world"
    cfg = hook.Config({"OPENVIKING_SESSION_PREFIX": "cc-"})
    assert hook.session_name(cfg, {"session_id": "a b/c\u00e9"}) == "cc-a-b-c-"
    assert len(hook.session_name(cfg, {"session_id": "x" * 300})) == 128
    short = hook.short_input({"content": "y" * 5000, "n": 3, "list": [1, 2]})
    assert short == {"content": "y" * 200 + "... (5000 chars)", "n": 3, "list": "[1, 2]"}
    assert hook.Config({}).url == "http://127.0.0.1:1933"
    assert hook.Config({"OPENVIKING_HOOK_TIMEOUT": "soon"}).timeout == 2.0
    assert hook.Config({"OPENVIKING_CONTEXT_QUOTAS": "{bad"}).quotas == hook.DEFAULT_QUOTAS
    assert hook.Config({"OPENVIKING_CONTEXT_QUOTAS": '{"skills": 1}'}).quotas == {"skills": 1}
