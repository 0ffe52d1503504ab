"""Driving the Claude Code plugin's hooks the way Claude Code does: the command of
``hooks/hooks.json`` run by a shell with ``CLAUDE_PLUGIN_ROOT`` set, the hook's JSON on stdin.

The payloads come from ``fixtures/hook_payloads.json`` (Claude Code's documented hook input)
and the transcript from ``fixtures/transcript_turn.jsonl`` (its JSONL format: one line per
content block, tool results as ``user`` lines); ``@NAME@`` placeholders are filled in.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openviking_mcp import ContextService, OpenVikingConfig, SyncHTTPClient
from tests.fakes import FakeOpenAIServer
from tests.servers import serving

__all__ = [
    "EVENTS",
    "FIXTURES",
    "HOOKS_JSON",
    "PLUGIN",
    "PREFERENCE",
    "PROMPT",
    "HookRun",
    "LiveServer",
    "big_output",
    "extraction_model",
    "hook_env",
    "live_server",
    "payload",
    "run_hook",
    "wait_for_commit",
    "write_transcript",
]

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "integrations" / "claude-code"
HOOKS_JSON = PLUGIN / "hooks" / "hooks.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EVENTS = ("SessionStart", "UserPromptSubmit", "Stop", "PreCompact", "SessionEnd")
ROOT_KEY = "root-key-of-the-claude-code-plugin-tests"

PROMPT = (
    "In acme-api I prefer pytest with plain asserts, never unittest. "
    "Run the test suite and tell me what fails."
)
PREFERENCE = "User prefers pytest with plain asserts (never unittest) for the acme-api tests."


def extraction_model(body: dict[str, Any]) -> str:
    """A fake model: the memory extraction yields :data:`PREFERENCE` when the archived
    conversation holds the user's statement of it, nothing otherwise; a file's description is
    its content; other summaries are one line."""
    prompt = str(body["messages"][-1]["content"])
    if "<content>" in prompt and "</content>" in prompt:
        return prompt.split("<content>", 1)[1].split("</content>", 1)[0].strip()[:400]
    if "## Memory categories" not in prompt:
        return "# Session Summary\n\nThe user asked for the acme-api test suite to be run."
    conversation = prompt.split("## Conversation", 1)[-1]
    operations = []
    if "user at" in conversation and "prefer pytest with plain asserts" in conversation:
        fields = {"topic": "acme-api tests", "content": PREFERENCE}
        operations.append(
            {"op": "add", "memory_type": "preferences", "fields": fields, "reason": "stated"}
        )
    return json.dumps({"operations": operations})


def big_output(lines: int = 650) -> str:
    """A long pytest run (about 60,000 characters), the kind of output to keep out of a
    message."""
    rows = [
        f"tests/test_module_{i:04d}.py::test_case_{i:04d} PASSED"
        f"{' ' * 10}[{100 * i // lines:3d}%] detail line {i} of the run"
        for i in range(lines)
    ]
    rows.append("FAILED tests/test_billing.py::test_rounding - assert 0.30000000000000004 == 0.3")
    rows.append("FAILED tests/test_billing.py::test_tax_regions - KeyError: 'eu-west'")
    rows.append(f"2 failed, {lines} passed in 12.41s")
    return "\n".join(rows)


def _fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(f"@{name}@", json.dumps(value)[1:-1])
    return text


def payload(
    event: str, session_id: str, transcript: Path, cwd: Path, **fields: Any
) -> dict[str, Any]:
    """The recorded payload of ``event`` for a session, with ``fields`` set over it."""
    raw = json.loads((FIXTURES / "hook_payloads.json").read_text(encoding="utf-8"))[event]
    values = {"SESSION_ID": session_id, "TRANSCRIPT": str(transcript), "CWD": str(cwd)}
    filled: dict[str, Any] = json.loads(_fill(json.dumps(raw), {**values, "PROMPT": PROMPT}))
    filled.update(fields)
    return filled


def write_transcript(path: Path, session_id: str, cwd: str, output: str) -> Path:
    """The recorded transcript of one turn (the prompt, a Bash call with ``output``, a Read
    call, a sidechain line and the answer), written to ``path``."""
    text = (FIXTURES / "transcript_turn.jsonl").read_text(encoding="utf-8")
    values = {"SESSION_ID": session_id, "CWD": cwd, "PROMPT": PROMPT, "BIG_OUTPUT": output}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_fill(text, values), encoding="utf-8")
    return path


def _command(event: str) -> str:
    """The command ``hooks.json`` runs for ``event``."""
    hooks = json.loads(HOOKS_JSON.read_text(encoding="utf-8"))["hooks"]
    command: str = hooks[event][0]["hooks"][0]["command"]
    return command


def hook_env(home: Path, url: str, api_key: str | None, **extra: str) -> dict[str, str]:
    """The environment Claude Code gives a plugin hook, plus the OpenViking settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env.update(
        {
            "HOME": str(home),
            "CLAUDE_PLUGIN_ROOT": str(PLUGIN),
            "OPENVIKING_URL": url,
            "OPENVIKING_HOOK_STATE": str(home / "hook-state"),
        }
    )
    if api_key:
        env["OPENVIKING_API_KEY"] = api_key
    env.update(extra)
    return env


@dataclass
class HookRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_hook(event: str, data: Mapping[str, Any], env: Mapping[str, str]) -> HookRun:
    """Run the ``hooks.json`` command of ``event`` through a shell, ``data`` on stdin."""
    started = time.monotonic()
    done = subprocess.run(
        _command(event),
        shell=True,
        input=json.dumps(data).encode(),
        capture_output=True,
        env=dict(env),
        timeout=30,
        check=False,
    )
    return HookRun(
        done.returncode,
        done.stdout.decode(),
        done.stderr.decode(),
        time.monotonic() - started,
    )


@dataclass
class LiveServer:
    url: str
    key: str
    client: SyncHTTPClient
    model: FakeOpenAIServer


@contextmanager
def live_server(workspace: Path) -> Iterator[LiveServer]:
    """The HTTP API in api_key mode with the fake model; ``key``: ann's (ADMIN of acme)."""
    with FakeOpenAIServer(extraction_model) as model:
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "server": {"root_api_key": ROOT_KEY},
                "vlm": {
                    "provider": "openai",
                    "model": "fake-chat",
                    "api_base": model.base_url,
                    "api_key": "sk-test",
                    "max_retries": 0,
                },
            }
        )
        with serving(ContextService(config)) as url:
            with SyncHTTPClient(url, ROOT_KEY, timeout=30.0) as root:
                key = str(root.create_account("acme", "ann")["user_key"])
            with SyncHTTPClient(url, key, timeout=30.0) as client:
                yield LiveServer(url, key, client, model)


def wait_for_commit(client: SyncHTTPClient, session: str, seconds: float = 90) -> dict[str, Any]:
    """The session's last archive once its phase 2 (memory extraction) has finished."""
    deadline = time.monotonic() + seconds
    while True:
        archives = client.list_archives(session)
        if archives and archives[-1]["status"] != "pending":
            return archives[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"the commit of {session} did not finish: {archives}")
        time.sleep(0.2)
