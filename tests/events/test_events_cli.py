"""``openviking-mcp events``: a page of stored events and ``--follow``, on a local store and
against a live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from openviking_mcp import SyncHTTPClient
from openviking_mcp.cli import app

runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_local_events_list_filter_and_follow(tmp_path: Path) -> None:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            }
        )
    )
    local = ("--config", str(conf))
    for name in ("a", "b", "c"):
        _invoke(*local, "write", f"viking://user/default/memories/{name}.md", name)
    page = json.loads(_invoke(*local, "-o", "json", "events"))
    assert [e["type"] for e in page["events"]] == ["memory.changed"] * 3
    assert page["next_after"] == page["events"][-1]["id"]
    first = page["events"][0]["id"]
    later = json.loads(_invoke(*local, "-o", "json", "events", "--after", str(first)))
    assert later["events"] == page["events"][1:]
    one = json.loads(_invoke(*local, "-o", "json", "events", "--limit", "1"))
    assert one["events"] == page["events"][:1]
    none = json.loads(_invoke(*local, "-o", "json", "events", "--type", "skill.changed"))
    assert none["events"] == []
    followed = _lines(_invoke(*local, "events", "--follow", "--after", "0", "--limit", "2"))
    assert followed == page["events"][:2]
    bad = runner.invoke(app, [*local, "events", "--type", "nope"])
    assert bad.exit_code != 0
    assert "INVALID_ARGUMENT" in bad.output


def test_remote_events_list_and_follow(live: tuple[str, str, str]) -> None:
    url, ann, _ = live
    with SyncHTTPClient(url, ann, timeout=30.0) as client:
        client.write("viking://user/ann/memories/r1.md", "one")
        client.write("viking://user/ann/memories/r2.md", "two")
        logged = client.list_events(after=0)["events"]
    remote = ("--url", url, "--api-key", ann)
    page = json.loads(_invoke(*remote, "-o", "json", "events", "--type", "memory.changed"))
    assert page["events"] == logged
    followed = _lines(_invoke(*remote, "events", "--follow", "--after", "0", "--limit", "2"))
    assert followed == logged
