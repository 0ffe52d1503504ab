"""`/api/v1/privacy-configs`: versioned configs over REST, errors and isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from tests.http_api._routes import config_for, error_of, result_of

BASE = "/api/v1/privacy-configs"
TARGET = f"{BASE}/api_keys/github"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


def test_upsert_versions_and_activate(client: TestClient) -> None:
    assert result_of(client.get(BASE)) == []
    first = result_of(
        client.post(
            TARGET,
            json={"values": {"token": "t1"}, "change_reason": "initial", "labels": {"env": "dev"}},
        )
    )
    assert first["version"] == 1
    assert first["values"] == {"token": "t1"}
    assert first["change_reason"] == "initial"
    assert first["created_by"] == "default"
    # the same values add no version
    assert result_of(client.post(TARGET, json={"values": {"token": "t1"}}))["version"] == 1
    second = result_of(client.post(TARGET, json={"values": {"token": "t2"}, "change_reason": "x"}))
    assert second["version"] == 2

    assert result_of(client.get(BASE)) == ["api_keys"]
    assert result_of(client.get(f"{BASE}/api_keys")) == ["github"]
    assert result_of(client.get(f"{BASE}/unknown")) == []
    config = result_of(client.get(TARGET))
    assert set(config) == {"meta", "current"}
    assert config["current"]["values"] == {"token": "t2"}
    meta = config["meta"]
    assert meta["active_version"] == meta["latest_version"] == 2
    assert meta["labels"] == {"env": "dev"}  # kept when omitted
    assert meta["last_accessed_at"]

    assert result_of(client.get(f"{TARGET}/versions")) == [1, 2]
    assert result_of(client.get(f"{TARGET}/versions/1"))["values"] == {"token": "t1"}
    activated = result_of(client.post(f"{TARGET}/activate", json={"version": 1}))
    assert activated["version"] == 1
    current = result_of(client.get(TARGET))
    assert current["current"]["values"] == {"token": "t1"}
    assert current["meta"]["active_version"] == 1
    assert current["meta"]["latest_version"] == 2
    # upserting after activating an old version makes a new one
    assert result_of(client.post(TARGET, json={"values": {"token": "t3"}}))["version"] == 3


def test_values_are_any_json_kept_as_they_are(client: TestClient) -> None:
    values = {
        "token": "t",
        "port": 5432,
        "ratio": 0.25,
        "tls": True,
        "proxy": None,
        "hosts": ["a", "b"],
        "auth": {"user": "ann", "scopes": [1, 2]},
    }
    assert result_of(client.post(TARGET, json={"values": values}))["values"] == values
    assert result_of(client.get(TARGET))["current"]["values"] == values
    assert result_of(client.get(f"{TARGET}/versions/1"))["values"] == values
    changed = {**values, "port": "5432"}  # a string is not the number
    assert result_of(client.post(TARGET, json={"values": changed}))["version"] == 2


def test_not_found_errors(client: TestClient) -> None:
    missing = error_of(client.get(TARGET), 404)
    assert missing["code"] == "NOT_FOUND"
    assert missing["details"]["type"] == "privacy config"
    error_of(client.get(f"{TARGET}/versions"), 404)
    error_of(client.get(f"{TARGET}/versions/1"), 404)
    error_of(client.post(f"{TARGET}/activate", json={"version": 1}), 404)
    result_of(client.post(TARGET, json={"values": {"a": "b"}}))
    gone = error_of(client.get(f"{TARGET}/versions/9"), 404)
    assert gone["details"]["type"] == "privacy config version"
    error_of(client.post(f"{TARGET}/activate", json={"version": 9}), 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", TARGET, {}),  # values missing
        ("POST", TARGET, {"values": {"": 1}}),  # empty field name
        ("POST", TARGET, {"values": {"a": {"b\u0000": 1}}}),  # control character in a name
        ("POST", TARGET, {"values": ["a"]}),
        ("POST", TARGET, {"values": {"a": "b"}, "labels": {"x": 2}}),
        ("POST", TARGET, {"values": {"a": "b"}, "owner": "me"}),  # unknown field
        ("POST", f"{BASE}/.hidden/key", {"values": {"a": "b"}}),  # bad category
        ("POST", f"{BASE}/cat/.key", {"values": {"a": "b"}}),  # bad target key
        ("POST", f"{BASE}/{'c' * 129}/key", {"values": {"a": "b"}}),
        ("POST", f"{TARGET}/activate", {"version": 0}),
        ("POST", f"{TARGET}/activate", {}),
        ("POST", f"{TARGET}/activate", {"version": 1, "force": True}),
        ("GET", f"{TARGET}/versions/one", None),
        ("GET", f"{BASE}/.hidden", None),
    ],
)
def test_bad_input_is_400(client: TestClient, method: str, path: str, body: Any) -> None:
    error = error_of(client.request(method, path, json=body), 400)
    assert error["code"] == "INVALID_ARGUMENT"


def test_configs_are_private_to_their_user(client: TestClient) -> None:
    result_of(client.post(TARGET, json={"values": {"token": "mine"}}))
    bob = {"X-OpenViking-User": "bob"}
    assert result_of(client.get(BASE, headers=bob)) == []
    error_of(client.get(TARGET, headers=bob), 404)
    error_of(client.get(f"{TARGET}/versions/1", headers=bob), 404)
    assert (
        result_of(client.post(TARGET, json={"values": {"token": "bobs"}}, headers=bob))["version"]
        == 1
    )
    assert result_of(client.get(TARGET))["current"]["values"] == {"token": "mine"}
    assert result_of(client.get(TARGET, headers=bob))["current"]["values"] == {"token": "bobs"}


def test_root_has_no_privacy_space(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key="root-key-privacy"))) as client:
        error = error_of(client.get(BASE, headers={"X-API-Key": "root-key-privacy"}), 403)
        assert error["code"] == "PERMISSION_DENIED"
        error_of(client.get(BASE), 401)
