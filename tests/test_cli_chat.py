"""`openviking-mcp chat` and `chat-feedback` on a local store in retrieval-only mode (no model
configured), and once against a real server (``--url``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openviking_mcp import SyncHTTPClient
from openviking_mcp.cli import _chat, app
from tests.servers import free_port, start_server

runner = CliRunner()

DEPLOY = "viking://resources/ops/deploy.md"
DEPLOY_TEXT = "# Deploying\n\nTo deploy the shop run make ship from the release branch.\n"
NO_MODEL = "No language model is configured"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """ov.conf of a local store with the hashing embedder (fast, offline) and a deploy note."""
    path = tmp_path / "ov.conf"
    path.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            }
        )
    )
    code, _, err = cli(path, "write", DEPLOY, DEPLOY_TEXT, "--mode", "create")
    assert code == 0, err
    return path


def cli(conf: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(conf), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_one_turn_streams_the_answer_and_reports_ids(conf: Path) -> None:
    code, out, err = cli(conf, "chat", "how do I deploy the shop")
    assert code == 0, err
    assert out.startswith(NO_MODEL)
    assert DEPLOY in out
    # stderr: the tool call and result, the sources, then the ids
    assert '> find {"query": "how do I deploy the shop"' in err
    assert "< find [ok]" in err
    assert f"[1] {DEPLOY} (resource)" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("session: chat-")
    assert "  response: resp_" in last
    assert DEPLOY not in err.split("sources:")[0].split("< find")[0]  # the answer is stdout's


def test_json_output_then_feedback(conf: Path) -> None:
    code, out, err = cli(conf, "-o", "json", "chat", "deploy the shop", "--session", "cli-1")
    assert code == 0, err
    reply = json.loads(out)
    assert reply["session_id"] == "cli-1"
    assert reply["mode"] == "retrieval"
    assert reply["error"] is None
    assert NO_MODEL in reply["message"]
    assert {"uri": DEPLOY, "context_type": "resource"} in reply["citations"]
    assert [e["type"] for e in reply["events"]] == ["iteration", "tool_call", "tool_result"]

    rid = reply["response_id"]
    code, out, err = cli(
        conf, "-o", "json", "chat-feedback", rid, "--session", "cli-1", "--down", "--text", "meh"
    )
    assert code == 0, err
    receipt = json.loads(out)
    assert (receipt["accepted"], receipt["feedback_type"]) == (True, "thumb_down")
    code, out, _ = cli(conf, "chat-feedback", rid, "--session", "cli-1", "--rating", "5")
    assert code == 0
    assert json.loads(out)["feedback_type"] == "rating"

    code, _, err = cli(conf, "chat-feedback", rid, "--session", "cli-1", "--up", "--down")
    assert code == 1
    assert "INVALID_ARGUMENT" in err
    code, _, err = cli(conf, "chat-feedback", "resp_nope", "--session", "cli-1", "--up")
    assert code == 1
    assert "NOT_FOUND" in err


def test_images_are_checked_before_sending(conf: Path, tmp_path: Path) -> None:
    fake = tmp_path / "photo.png"
    fake.write_text("not an image at all")
    code, out, err = cli(conf, "chat", "what is this", "--image", str(fake))
    assert code == 1
    assert "photo.png is not a JPEG, PNG, GIF or WebP image" in err
    assert out == ""
    code, _, err = cli(conf, "chat", "hi", "--image", str(tmp_path / "missing.png"))
    assert code == 1
    assert "Local image file not found" in err

    png = tmp_path / "pixel.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    code, out, err = cli(conf, "-o", "json", "chat", "what is this", "--image", str(png))
    assert code == 0, err
    assert json.loads(out)["mode"] == "retrieval"


def test_bad_requests_fail_like_other_commands(conf: Path) -> None:
    code, _, err = cli(conf, "chat", "x", "--disable-tool", "shell")
    assert code == 1
    assert "Error [INVALID_ARGUMENT]" in err
    assert "unknown tools" in err
    code, out, _ = cli(conf, "-o", "json", "-c", "chat", "   ")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "INVALID_ARGUMENT"


def test_stdin_and_the_interactive_loop(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = cli(conf, "chat", "--no-stream", input="deploy the shop\n")
    assert code == 0, err
    assert out.startswith(NO_MODEL)

    monkeypatch.setattr(_chat, "_is_terminal", lambda: True)
    code, out, err = cli(conf, "chat", input="deploy the shop\nrelease branch\n\n")
    assert code == 0, err
    assert out.count("you> ") == 3
    assert out.count(NO_MODEL) == 2
    sessions = {line.split()[1] for line in err.splitlines() if line.startswith("session: ")}
    assert len(sessions) == 1  # both turns in one session


@pytest.mark.slow
def test_chat_on_a_server(tmp_path: Path) -> None:
    server = tmp_path / "server"
    server.mkdir()
    conf = server / "ov.conf"
    conf.write_text(json.dumps({"embedding": {"dense": {"provider": "hashing", "dimension": 64}}}))
    port = free_port()
    command = ["openviking-mcp", "serve", "--with-bot", "--config", str(conf)]
    proc = start_server(server, command, port)
    url = f"http://127.0.0.1:{port}"

    def remote(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--url", url, *args])
        return result.exit_code, result.stdout, result.stderr

    try:
        with SyncHTTPClient(url, timeout=30.0, extra_headers={}) as client:
            client.write(DEPLOY, DEPLOY_TEXT, mode="create", wait=True)
            assert client.bot_health()["mode"] == "retrieval"
        code, out, err = remote("chat", "how do I deploy the shop", "--session", "remote-1")
        assert code == 0, err
        assert out.startswith(NO_MODEL)
        assert DEPLOY in out
        rid = err.strip().splitlines()[-1].split("response: ")[1]
        code, out, err = remote("-o", "json", "chat-feedback", rid, "--session", "remote-1", "--up")
        assert code == 0, err
        assert json.loads(out)["accepted"] is True
        with SyncHTTPClient(url, timeout=30.0, extra_headers={}) as client:
            session = client.get_session("remote-1")  # the chat lives on the server
        assert session["message_count"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
