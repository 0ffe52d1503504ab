"""The analytics routes: every route answers an ADMIN, refuses a USER (403), counts HTTP
reads and searches, and the CLI reads the same figures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openviking_mcp.cli import app
from tests.http_api._routes import error_of, keyed_client, result_of

A = "/api/v1/analytics"
ROUTES = ("top-accessed", "stale", "queries", "gaps", "by-channel")


def test_routes_answer_admins_and_refuse_users(workspace: Path) -> None:
    with keyed_client(workspace) as (client, ann, ben):
        uri = "viking://resources/guide.md"
        written = client.post(
            "/api/v1/content/write",
            json={"uri": uri, "content": "deploy guide for the api", "mode": "create"},
            headers=ann,
        )
        result_of(written)
        result_of(client.get("/api/v1/content/read", params={"uri": uri}, headers=ben))
        result_of(client.get("/api/v1/content/read", params={"uri": uri}, headers=ben))
        found = client.post("/api/v1/search/find", json={"query": "zymurgy lexicon"}, headers=ben)
        result_of(found)
        for route in ROUTES:
            error_of(client.get(f"{A}/{route}", headers=ben), 403)
        top = result_of(client.get(f"{A}/top-accessed", params={"by": "reads"}, headers=ann))
        assert top["contexts"][0]["uri"] == uri
        assert top["contexts"][0]["reads"] == 2
        queries = result_of(client.get(f"{A}/queries", params={"days": 1}, headers=ann))
        assert [(q["query"], q["surface"], q["user_id"]) for q in queries["queries"]] == [
            ("zymurgy lexicon", "http", "ben")
        ]
        gaps = result_of(client.get(f"{A}/gaps", params={"threshold": 0.99}, headers=ann))
        assert [(g["query"], g["count"]) for g in gaps["gaps"]] == [("zymurgy lexicon", 1)]
        stale = result_of(client.get(f"{A}/stale", params={"days": 7}, headers=ann))
        assert uri not in {c["uri"] for c in stale["contexts"]}
        channels = result_of(client.get(f"{A}/by-channel", headers=ann))["channels"]
        http = next(c for c in channels if c["surface"] == "http")
        assert (http["reads"], http["queries"], http["changes"]) == (2, 1, 1)
        error_of(client.get(f"{A}/queries", params={"account_id": "default"}, headers=ann), 403)
        error_of(client.get(f"{A}/top-accessed", params={"by": "bogus"}, headers=ann), 400)


def test_cli_reports_local_figures(workspace: Path) -> None:
    runner = CliRunner()
    base = ["--path", str(workspace), "-o", "json"]
    wrote = runner.invoke(app, [*base, "write", "viking://resources/c.md", "cli"])
    assert wrote.exit_code == 0, wrote.output
    read = runner.invoke(app, [*base, "read", "viking://resources/c.md"])
    assert read.exit_code == 0, read.output
    top = runner.invoke(app, [*base, "analytics", "top"])
    assert top.exit_code == 0, top.output
    contexts = json.loads(top.output)["contexts"]
    assert [(c["uri"], c["reads"]) for c in contexts] == [("viking://resources/c.md", 1)]
    channels = runner.invoke(app, [*base, "analytics", "channels"])
    cli = next(c for c in json.loads(channels.output)["channels"] if c["surface"] == "cli")
    assert cli["reads"] == 1
    for command in ("stale", "queries", "gaps"):
        done = runner.invoke(app, [*base, "analytics", command, "--days", "3"])
        assert done.exit_code == 0, done.output
        assert isinstance(json.loads(done.output), dict)
