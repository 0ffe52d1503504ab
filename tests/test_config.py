from __future__ import annotations

import json
from pathlib import Path

import pytest

from openviking_mcp.config import OpenVikingConfig, is_loopback_host, load_config
from openviking_mcp.contract.errors import ConfigError


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_defaults_work_offline_with_no_file() -> None:
    config = load_config(environ={})
    assert config.source_path is None
    assert config.storage.workspace == "./data"
    assert config.embedding.dense.provider == "local"
    assert not config.vlm.configured
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 1933
    assert config.server.effective_auth_mode == "dev"


def test_lookup_order_flag_then_env_then_home(tmp_path: Path) -> None:
    home_file = _write(tmp_path / "home" / ".openviking" / "ov.conf", {"server": {"port": 1}})
    env_file = _write(tmp_path / "env.conf", {"server": {"port": 2}})
    flag_file = _write(tmp_path / "flag.conf", {"server": {"port": 3}})
    env = {"OPENVIKING_CONFIG_FILE": str(env_file)}
    assert load_config(flag_file, environ=env).server.port == 3
    assert load_config(None, environ=env).server.port == 2
    loaded = load_config(None, environ={})
    assert loaded.server.port == 1
    assert loaded.source_path == str(home_file)


def test_explicit_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.conf", environ={})
    with pytest.raises(ConfigError, match="OPENVIKING_CONFIG_FILE"):
        load_config(environ={"OPENVIKING_CONFIG_FILE": str(tmp_path / "nope.conf")})


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"storage": {"workspace": "x", "wrokspace": "y"}}, "storage.wrokspace"),
        ({"bogus": 1}, "bogus"),
        ({"embedding": {"dense": {"modle": "m"}}}, "embedding.dense.modle"),
        ({"server": {"auth_mode": "open"}}, "server.auth_mode"),
    ],
)
def test_unknown_or_bad_keys_are_named(tmp_path: Path, data: dict[str, object], named: str) -> None:
    path = _write(tmp_path / "ov.conf", data)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert named in info.value.message


def test_invalid_json_reports_position(tmp_path: Path) -> None:
    path = tmp_path / "ov.conf"
    path.write_text('{"server": {"port": 1933,}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON: line 1"):
        load_config(path, environ={})


def test_empty_root_key_is_fatal(tmp_path: Path) -> None:
    path = _write(tmp_path / "ov.conf", {"server": {"root_api_key": "  "}})
    with pytest.raises(ConfigError, match="root_api_key"):
        load_config(path, environ={})


def test_root_key_switches_to_api_key_mode() -> None:
    config = OpenVikingConfig.from_dict({"server": {"root_api_key": "k"}})
    assert config.server.effective_auth_mode == "api_key"


def test_seed_shaped_embedding_and_vlm_sections(tmp_path: Path) -> None:
    data = {
        "embedding": {
            "dense": {
                "api_base": "http://127.0.0.1:9/v1",
                "api_key": "sk-x",
                "provider": "openai",
                "dimension": 1024,
                "model": "text-embedding-3-small",
            }
        },
        "vlm": {
            "api_base": "http://127.0.0.1:9/v1",
            "api_key": "k",
            "provider": "openai",
            "model": "gpt-4o-mini",
        },
    }
    config = load_config(_write(tmp_path / "ov.conf", data), environ={})
    assert config.embedding.dense.dimension == 1024
    assert config.vlm.configured
    assert config.vlm.model == "gpt-4o-mini"


def test_env_overrides_beat_the_file_and_flags_beat_env(tmp_path: Path) -> None:
    path = _write(tmp_path / "ov.conf", {"server": {"port": 1000, "host": "127.0.0.1"}})
    env = {
        "OPENVIKING_CONFIG_FILE": str(path),
        "OPENVIKING__SERVER__PORT": "2000",
        "OPENVIKING__STORAGE__WORKSPACE": "/srv/ov",
        "OPENVIKING__SERVER__CORS_ORIGINS": '["http://a"]',
    }
    config = load_config(environ=env)
    assert config.server.port == 2000
    assert config.storage.workspace == "/srv/ov"
    assert config.server.cors_origins == ["http://a"]
    assert load_config(environ=env, overrides={"server": {"port": 3000}}).server.port == 3000


def test_unknown_env_override_is_named() -> None:
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_config(environ={"OPENVIKING__SERVER__PROT": "1"})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
