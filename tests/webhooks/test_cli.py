"""``openviking-mcp webhooks``: every command on a local store, and a server that later
delivers the events the CLI recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.cli import app
from openviking_mcp.contract.webhook_signature import verify_signature
from tests.servers import serving
from tests.webhooks._receiver import receiving

runner = CliRunner()


def _json(*args: str) -> Any:
    result = runner.invoke(app, ["-o", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _config(tmp_path: Path) -> Path:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "allow_private_networks": True,
                "webhooks": {"poll_seconds": 0.2},
            }
        )
    )
    return conf


def test_local_webhook_commands(tmp_path: Path) -> None:
    conf = _config(tmp_path)
    local = ("--config", str(conf))
    with receiving(200) as receiver:
        made = _json(*local, "webhooks", "create", receiver.url, "--event", "memory.changed")
        hook_id = made["webhook_id"]
        assert made["secret"].startswith("whsec_")
        assert [h["webhook_id"] for h in _json(*local, "webhooks", "list")] == [hook_id]
        shown = _json(*local, "webhooks", "show", hook_id)
        assert shown["events"] == ["memory.changed"]
        assert "secret" not in shown
        updated = _json(*local, "webhooks", "update", hook_id, "--all-events", "--rotate-secret")
        assert updated["events"] == []
        assert updated["secret"] != made["secret"]
        assert _json(*local, "webhooks", "disable", hook_id)["enabled"] is False
        assert _json(*local, "webhooks", "enable", hook_id)["enabled"] is True
        ping = _json(*local, "webhooks", "ping", hook_id)
        assert ping["status_code"] == 200
        pinged = receiver.got[0]
        verify_signature(updated["secret"], pinged.headers["x-openviking-signature"], pinged.body)
        log = _json(*local, "webhooks", "deliveries", hook_id)
        assert [d["event_type"] for d in log["deliveries"]] == ["webhook.ping"]
        # an event recorded by a CLI process is delivered by the next process that serves
        _json(*local, "write", "viking://user/default/memories/tea.md", "Green tea.")
        config = OpenVikingConfig.from_dict(json.loads(conf.read_text()))
        with serving(ContextService(config)):
            (_, event) = receiver.wait_for(2)
        assert json.loads(event.body)["uris"] == ["viking://user/default/memories/tea.md"]
        deleted = _json(*local, "webhooks", "delete", hook_id)
        assert deleted["webhook_id"] == hook_id
        assert _json(*local, "webhooks", "list") == []
    refused = runner.invoke(app, [*local, "-o", "json", "webhooks", "create", "ftp://x/y"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "INVALID_ARGUMENT"
