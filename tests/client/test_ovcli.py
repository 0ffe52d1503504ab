"""``ovcli.conf``: where it is found and when the HTTP clients consult it (seed 000)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import SyncHTTPClient
from openviking_mcp.contract.errors import ConfigError
from tests.client._mock import Recorder, envelope_ok


def write_conf(path: Path, **fields: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The test HOME (conftest points $HOME there and clears OPENVIKING_*)."""
    return tmp_path / "home"


def home_conf(home: Path, **fields: Any) -> Path:
    return write_conf(home / ".openviking" / "ovcli.conf", **fields)


def test_home_file_fills_url_key_identity_and_timeout(home: Path) -> None:
    home_conf(
        home,
        url="http://home.test:1933/",
        api_key="home-key",
        account="acme",
        user="alice",
        timeout=12.5,
        output="json",
    )
    recorder = Recorder({"GET /api/v1/fs/stat": envelope_ok({})})
    with SyncHTTPClient(transport=recorder.transport) as ov:
        assert ov.settings.url == "http://home.test:1933"
        assert ov.settings.timeout == 12.5
        ov.stat("viking://")
    request = recorder.last
    assert str(request.url).startswith("http://home.test:1933/api/v1/fs/stat")
    assert request.headers["X-API-Key"] == "home-key"
    assert request.headers["X-OpenViking-Account"] == "acme"
    assert request.headers["X-OpenViking-User"] == "alice"
    assert request.extensions["timeout"]["read"] == 12.5


def test_environment_variable_wins_over_the_home_file(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_conf(home, url="http://home.test")
    env_file = write_conf(tmp_path / "elsewhere" / "cli.json", url="http://env.test")
    monkeypatch.setenv("OPENVIKING_CLI_CONFIG_FILE", str(env_file))
    assert SyncHTTPClient().settings.url == "http://env.test"
    assert SyncHTTPClient().settings.config_path == env_file


def test_config_file_argument_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = write_conf(tmp_path / "env.conf", url="http://env.test")
    arg_file = write_conf(tmp_path / "arg.conf", url="http://arg.test")
    monkeypatch.setenv("OPENVIKING_CLI_CONFIG_FILE", str(env_file))
    assert SyncHTTPClient(config_file=arg_file).settings.url == "http://arg.test"


def test_a_named_file_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="config_file not found"):
        SyncHTTPClient(config_file=tmp_path / "nope.conf")
    monkeypatch.setenv("OPENVIKING_CLI_CONFIG_FILE", str(tmp_path / "gone.conf"))
    with pytest.raises(ConfigError, match="OPENVIKING_CLI_CONFIG_FILE not found"):
        SyncHTTPClient("http://x.test")


def test_no_url_anywhere_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="url is required"):
        SyncHTTPClient()


def test_explicit_arguments_win_over_the_file(home: Path) -> None:
    home_conf(home, url="http://home.test", api_key="home-key", user="alice", timeout=5)
    client = SyncHTTPClient("http://arg.test", "arg-key", user="bob", timeout=9.0)
    assert client.settings.url == "http://arg.test"
    assert client.settings.api_key == "arg-key"
    assert client.settings.user == "bob"
    assert client.settings.timeout == 9.0  # not the default, so the file's 5 does not apply


def test_the_default_timeout_alone_makes_the_file_consulted(home: Path) -> None:
    home_conf(home, api_key="unused", account="acme", timeout=7)
    client = SyncHTTPClient("http://arg.test", "arg-key", extra_headers={})
    assert client.settings.timeout == 7.0
    assert client.settings.account == "acme"  # filled while the file is read anyway
    assert client.settings.api_key == "arg-key"


def test_missing_extra_headers_alone_makes_the_file_consulted(home: Path) -> None:
    home_conf(home, extra_headers={"X-Gateway-Token": "gw"}, user="alice")
    client = SyncHTTPClient("http://arg.test", "k", timeout=30.0)
    assert client.settings.extra_headers == {"X-Gateway-Token": "gw"}
    assert client.settings.headers()["X-Gateway-Token"] == "gw"
    assert client.settings.user == "alice"


def test_not_consulted_when_everything_is_explicit(home: Path) -> None:
    # Seed 000: url, api_key, a non-default timeout and extra_headers={} → no file is read,
    # so even a broken one does not matter and its account is not applied.
    (home / ".openviking").mkdir(parents=True)
    (home / ".openviking" / "ovcli.conf").write_text("{ not json", encoding="utf-8")
    client = SyncHTTPClient("http://arg.test", "k", timeout=30.0, extra_headers={})
    assert client.settings.config_path is None
    assert client.settings.account is None


def test_an_explicit_timeout_of_sixty_counts_as_the_default(home: Path) -> None:
    home_conf(home, timeout=3)
    client = SyncHTTPClient("http://arg.test", "k", timeout=60.0, extra_headers={})
    assert client.settings.timeout == 3.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"timeout": "soon"}', "'timeout'"),
        ('{"url": 5}', "'url' must be a string"),
        ('{"output": "yaml"}', "'output'"),
        ('{"extra_headers": {"X": 1}}', "'extra_headers'"),
    ],
)
def test_invalid_files_are_configuration_errors(home: Path, content: str, message: str) -> None:
    (home / ".openviking").mkdir(parents=True)
    (home / ".openviking" / "ovcli.conf").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        SyncHTTPClient("http://arg.test")


def test_unknown_keys_are_ignored_and_the_alias_extra_header_works(home: Path) -> None:
    home_conf(home, url="http://home.test", echo_command=True, extra_header={"X-A": "1"})
    assert SyncHTTPClient().settings.extra_headers == {"X-A": "1"}


def test_urls_without_a_scheme_are_refused() -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        SyncHTTPClient("localhost:1933", "k", timeout=5.0, extra_headers={})
