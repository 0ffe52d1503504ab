"""``/api/v1/relations`` (seed 000): get, link, unlink; cross-user links are 403."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig

A = "viking://resources/a.md"
B = "viking://resources/b.md"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": {"root_api_key": "root-key"},
        }
    )
    with TestClient(create_app(config)) as c:
        yield c


def test_relations_routes(client: TestClient) -> None:
    made = client.post(
        "/api/v1/admin/accounts",
        json={"account_id": "acme", "admin_user_id": "ann"},
        headers={"X-API-Key": "root-key"},
    ).json()["result"]
    ann = {"X-API-Key": made["user_key"]}
    ben_key = client.post(
        "/api/v1/admin/accounts/acme/users", json={"user_id": "ben"}, headers=ann
    ).json()["result"]["user_key"]
    ben = {"X-API-Key": ben_key}
    for uri in (A, B, "viking://user/ann/memories/private.md"):
        written = client.post(
            "/api/v1/content/write",
            json={"uri": uri, "content": f"text of {uri}", "mode": "create"},
            headers=ann,
        )
        assert written.status_code == 200, written.text

    linked = client.post(
        "/api/v1/relations/link",
        json={"from_uri": A, "to_uris": [B], "reason": "related"},
        headers=ann,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["result"] == {"from": A, "to": [B]}
    got = client.get("/api/v1/relations", params={"uri": A}, headers=ben)
    assert got.json()["result"] == [{"uri": B, "reason": "related"}]

    cross = client.post(
        "/api/v1/relations/link",
        json={"from_uri": A, "to_uris": "viking://user/ann/memories/private.md"},
        headers=ben,
    )
    assert cross.status_code == 403
    assert cross.json()["error"]["code"] == "PERMISSION_DENIED"
    peek = client.get(
        "/api/v1/relations", params={"uri": "viking://user/ann/memories/private.md"}, headers=ben
    )
    assert peek.status_code == 403

    unlinked = client.request(
        "DELETE", "/api/v1/relations/link", json={"from_uri": A, "to_uri": B}, headers=ann
    )
    assert unlinked.status_code == 200
    assert unlinked.json()["result"] == {"from": A, "to": B, "removed": True}
    assert client.get("/api/v1/relations", params={"uri": A}, headers=ann).json()["result"] == []

    missing = client.get(
        "/api/v1/relations", params={"uri": "viking://resources/nope.md"}, headers=ann
    )
    assert missing.status_code == 404
    invalid = client.post("/api/v1/relations/link", json={"from_uri": A}, headers=ann)
    assert invalid.status_code == 400
