"""``ovcli.conf``: the connection file shared by the HTTP clients and the CLI (seed 000).

Lookup: an explicit ``config_file``, then ``$OPENVIKING_CLI_CONFIG_FILE``, then
``~/.openviking/ovcli.conf``. A file named explicitly (argument or variable) that does not exist
is a :class:`~openviking_mcp.contract.errors.ConfigError`; a missing home file just means "no file".

When it is consulted (seed 000, verbatim): "The client will attempt to load the configuration
file if any of the following conditions are met: ``url`` is ``None``, ``api_key`` is ``None``,
``timeout`` equals ``60.0`` (default value), ``extra_headers`` is ``None``". Explicit arguments
always win; the file only fills what was left out (``timeout`` only when it is the default).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from openviking_mcp.contract.errors import ConfigError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CLI_CONFIG_ENV",
    "DEFAULT_CLI_CONFIG_PATH",
    "DEFAULT_TIMEOUT",
    "ClientSettings",
    "ConnectOptions",
    "HTTPClientOptions",
    "OVCLIConfig",
    "find_ovcli_file",
    "load_ovcli_config",
    "resolve_settings",
]

CLI_CONFIG_ENV = "OPENVIKING_CLI_CONFIG_FILE"
DEFAULT_CLI_CONFIG_PATH = Path("~/.openviking/ovcli.conf")
DEFAULT_TIMEOUT = 60.0
_OUTPUTS = ("table", "json")


@dataclass(frozen=True, slots=True)
class OVCLIConfig:
    """The fields of ``ovcli.conf`` the Python clients use (other keys are ignored, since the
    file is shared with the CLI and other tools)."""

    url: str | None = None
    api_key: str | None = None
    account: str | None = None
    user: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    output: str = "table"
    extra_headers: dict[str, str] | None = None
    path: Path | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "ovcli.conf") -> OVCLIConfig:
        def text(key: str) -> str | None:
            value = data.get(key)
            if value is None or isinstance(value, str):
                return value
            raise _invalid(source, f"'{key}' must be a string")

        timeout = data.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise _invalid(source, "'timeout' must be a positive number of seconds")
        output = text("output") or "table"
        if output not in _OUTPUTS:
            raise _invalid(source, '\'output\' must be "table" or "json"')
        headers = data.get("extra_headers", data.get("extra_header"))
        if headers is not None and not (
            isinstance(headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise _invalid(source, "'extra_headers' must map header names to strings")
        return cls(
            url=text("url"),
            api_key=text("api_key"),
            account=text("account"),
            user=text("user"),
            timeout=float(timeout),
            output=output,
            extra_headers=dict(headers) if headers is not None else None,
        )


def _invalid(source: str, problem: str) -> ConfigError:
    return ConfigError(f"Invalid CLI config in {source}: {problem}", {"path": source})


def find_ovcli_file(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The ``ovcli.conf`` to read: ``explicit``, then ``$OPENVIKING_CLI_CONFIG_FILE``, then
    ``~/.openviking/ovcli.conf``; ``None`` when there is none."""
    env = os.environ if environ is None else environ
    for candidate, origin in ((explicit, "config_file"), (env.get(CLI_CONFIG_ENV), CLI_CONFIG_ENV)):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"CLI config file from {origin} not found: {path}", {"path": str(path)}
                )
            return path
    home = DEFAULT_CLI_CONFIG_PATH.expanduser()
    return home if home.is_file() else None


def load_ovcli_config(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> OVCLIConfig | None:
    """Read and check ``ovcli.conf`` (see :func:`find_ovcli_file`); ``None`` without a file."""
    path = find_ovcli_file(explicit, environ)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read CLI config {path}: {exc}", {"path": str(path)}) from exc
    except json.JSONDecodeError as exc:
        raise _invalid(str(path), f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise _invalid(str(path), "it must hold a JSON object")
    config = OVCLIConfig.from_dict(data, str(path))
    return OVCLIConfig(**{**_fields(config), "path": path})


def _fields(config: OVCLIConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in OVCLIConfig.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What an HTTP client connects with, after the arguments met ``ovcli.conf``."""

    url: str
    api_key: str | None = None
    account: str | None = None
    user: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    extra_headers: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None

    def headers(self) -> dict[str, str]:
        """Request headers: the key, the identity assertion, then the extra headers."""
        headers: dict[str, str] = {}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        if self.account:
            headers["X-OpenViking-Account"] = self.account
        if self.user:
            headers["X-OpenViking-User"] = self.user
        headers.update(self.extra_headers)
        return headers


class ConnectOptions(TypedDict, total=False):
    """The keyword options of the HTTP clients (what ``ovcli.conf`` can also give)."""

    account: str | None
    user: str | None
    timeout: float
    extra_headers: Mapping[str, str] | None
    config_file: str | os.PathLike[str] | None


class HTTPClientOptions(ConnectOptions, total=False):
    """The keyword options of the HTTP clients: the connection's, and ``transport``, which
    replaces httpx's network transport (``httpx.MockTransport``, ``httpx.ASGITransport``)."""

    transport: httpx.AsyncBaseTransport | None


def resolve_settings(
    url: str | None = None,
    api_key: str | None = None,
    *,
    account: str | None = None,
    user: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    extra_headers: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Merge explicit arguments with ``ovcli.conf`` under seed 000's rule (module docs).

    No ``url`` from either → :class:`ConfigError`.
    """
    consult = url is None or api_key is None or timeout == DEFAULT_TIMEOUT or extra_headers is None
    config = load_ovcli_config(config_file, environ) if consult else None
    if config is not None:
        url = url if url is not None else config.url
        api_key = api_key if api_key is not None else config.api_key
        account = account if account is not None else config.account
        user = user if user is not None else config.user
        if timeout == DEFAULT_TIMEOUT:
            timeout = config.timeout
        if extra_headers is None:
            extra_headers = config.extra_headers
    if not url:
        raise ConfigError(
            'url is required: pass url= or set "url" in ovcli.conf '
            f"(${CLI_CONFIG_ENV} or {DEFAULT_CLI_CONFIG_PATH})",
            {"field": "url"},
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"url must start with http:// or https://: {url}", {"url": url})
    if timeout <= 0:
        raise ConfigError("timeout must be positive", {"timeout": timeout})
    return ClientSettings(
        url=url.rstrip("/"),
        api_key=api_key,
        account=account,
        user=user,
        timeout=float(timeout),
        extra_headers=dict(extra_headers or {}),
        config_path=config.path if config is not None else None,
    )
