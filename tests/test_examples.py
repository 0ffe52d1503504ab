"""The examples run as shipped (subprocesses, offline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeOpenAIServer, chat_reply
from tests.servers import clean_env

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "chat_with_memory.py"),
            "--path",
            str(tmp_path / "d"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_chat_with_memory_retrieval_only(tmp_path: Path) -> None:
    out = _run(tmp_path)
    assert "bot mode: retrieval" in out
    second = out.split("you> Which drink do I prefer?")[1]
    assert "viking://user/default/memories/preferences/green-tea.md" in second
    assert "User prefers green tea over coffee." in second.split("relevant memories:")[1]


def test_chat_with_memory_with_a_model(tmp_path: Path) -> None:
    """With a model, the second turn's prompt carries the memory extracted from the first."""

    def model(body: dict[str, Any]) -> Any:
        system = body["messages"][0]["content"] if body["messages"] else ""
        if "green tea" in system and "Memories of the user" in system:
            return chat_reply("You prefer green tea.")
        return chat_reply("Noted.")

    with FakeOpenAIServer(model) as llm:
        conf = tmp_path / "ov.conf"
        bot_model = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": llm.base_url,
            "api_key": "sk-fake",
            "max_retries": 0,
        }
        conf.write_text(json.dumps({"bot": {"model": bot_model}}))
        out = _run(tmp_path, "--config", str(conf))
    assert "bot mode: llm" in out
    assert "bot> Noted." in out
    assert "bot> You prefer green tea." in out
