"""Record the two-session example of docs/claude-code.md: the plugin's real hooks against a
real server (api_key mode, the fake model of :mod:`tests.integrations._claude_code`), printed
as Markdown. Also times each hook (``--time N`` runs per hook).

    .venv/bin/python -m tests.integrations.record_transcript [--time 20]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.integrations._claude_code import (
    LiveServer,
    big_output,
    hook_env,
    live_server,
    payload,
    run_hook,
    wait_for_commit,
    write_transcript,
)

SESSION_1 = "4f6b2c1e-8d3a-4e7f-9b21-0c5d7a3e9f10"
SESSION_2 = "a9e3d7c5-1b2f-4c6a-8e0d-3f7b9c2a5e41"


def _show(title: str, data: Any) -> None:
    print(f"\n**{title}**\n\n```json\n{json.dumps(data, indent=2, ensure_ascii=False)}\n```")


def _step(event: str, data: dict[str, Any], env: dict[str, str]) -> str:
    run = run_hook(event, data, env)
    shown = {k: v for k, v in data.items() if k not in ("permission_mode", "model")}
    _show(f"{event} hook, stdin", shown)
    print(f"\nexit {run.returncode}, stdout: {run.stdout.strip() or '(nothing)'}")
    return run.stdout


def _record(tmp: Path, live: LiveServer) -> None:
    cwd = tmp / "acme-api"
    cwd.mkdir()
    env = hook_env(tmp / "home", live.url, live.key)
    t1 = tmp / "home" / ".claude" / "projects" / "-acme-api" / f"{SESSION_1}.jsonl"
    print("### Session 1")
    _step("SessionStart", payload("SessionStart", SESSION_1, t1, cwd), env)
    _step("UserPromptSubmit", payload("UserPromptSubmit", SESSION_1, t1, cwd), env)
    write_transcript(t1, SESSION_1, str(cwd), big_output())
    _step("Stop", payload("Stop", SESSION_1, t1, cwd), env)
    messages = live.client.session_context(f"cc-{SESSION_1}")["messages"]
    for message in messages:
        for part in message["parts"]:
            if part.get("type") == "tool":
                part["tool_output"] = part["tool_output"][:120] + "..."
        message.pop("id", None)
        message.pop("created_at", None)
    _show(f"Session cc-{SESSION_1} now holds", messages)
    _step("SessionEnd", payload("SessionEnd", SESSION_1, t1, cwd), env)
    archive = wait_for_commit(live.client, f"cc-{SESSION_1}")
    print(
        f"\nThe commit's memory extraction finished: archive {archive['archive_id']} is "
        f"{archive['status']}."
    )
    print("\n### Session 2")
    t2 = tmp / "home" / ".claude" / "projects" / "-acme-api" / f"{SESSION_2}.jsonl"
    out = run_hook("SessionStart", payload("SessionStart", SESSION_2, t2, cwd), env).stdout
    _show("SessionStart hook, stdout", json.loads(out))


def _time(tmp: Path, live: LiveServer, runs: int) -> None:
    cwd = tmp / "timing"
    cwd.mkdir()
    env = hook_env(tmp / "home", live.url, live.key)
    transcript = write_transcript(tmp / "timing.jsonl", "timing", str(cwd), big_output())
    print(f"\n| hook ({runs} runs each) | min ms | median ms | max ms |\n|---|---|---|---|")
    for event in ("SessionStart", "UserPromptSubmit", "Stop", "PreCompact", "SessionEnd"):
        seconds = []
        for i in range(runs):
            data = payload(event, f"timing-{i}", transcript, cwd)
            if event in ("PreCompact", "SessionEnd"):  # commit a session that has a message
                run_hook(
                    "UserPromptSubmit",
                    payload("UserPromptSubmit", f"timing-{i}", transcript, cwd),
                    env,
                )
            seconds.append(run_hook(event, data, env).seconds * 1000)
        low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
        print(f"| {event} | {low:.0f} | {mid:.0f} | {high:.0f} |")


def main(argv: list[str]) -> int:
    runs = int(argv[argv.index("--time") + 1]) if "--time" in argv else 0
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with live_server(tmp / "data") as live:
            if runs:
                _time(tmp, live, runs)
            else:
                _record(tmp, live)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
