"""The two ends of a migration: what a ``PATH_OR_DSN`` names, and the configuration of each.

A value that starts with ``postgres://`` or ``postgresql://``, or holds libpq ``key=value``
words with ``host=`` or ``dbname=``, is a PostgreSQL DSN (the ``postgres`` backend); anything
else is a workspace folder (the ``local`` backend). Each end's configuration is the loaded
one with its ``storage`` section replaced; a postgres end keeps its scratch files in a
folder of the caller's choosing (a temporary one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openviking_mcp.config import OpenVikingConfig, redact_dsn
from openviking_mcp.contract.errors import ConfigError

__all__ = ["Endpoint", "endpoint_config", "parse_endpoint"]

_DSN_WORD = re.compile(r"(?:^|\s)(?:host|dbname)\s*=")

#: Uploads of the target hold one whole account's pack: no cap below what a pack may be.
_UPLOAD_CAP_MB = 16 * 1024 + 1


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end: ``backend`` and its ``location`` (a resolved folder or a DSN)."""

    backend: Literal["local", "postgres"]
    location: str

    @property
    def shown(self) -> str:
        """The location as reports show it (a DSN's password hidden)."""
        return redact_dsn(self.location) if self.backend == "postgres" else self.location


def parse_endpoint(value: str, role: str) -> Endpoint:
    """What ``value`` names; an empty value or a file in place of a folder is a
    :class:`ConfigError`. ``role`` (``source``/``target``) names the value in errors."""
    text = value.strip()
    if not text:
        raise ConfigError(f"The migration {role} is empty", {role: value})
    if text.startswith(("postgres://", "postgresql://")) or _DSN_WORD.search(text):
        return Endpoint("postgres", text)
    path = Path(text).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"The migration {role} is not a folder: {path}", {role: str(path)})
    if role == "source" and not (path / "meta" / "openviking.sqlite3").is_file():
        raise ConfigError(
            f"The migration source is not an openviking-mcp workspace: {path}",
            {role: str(path)},
        )
    return Endpoint("local", str(path))


def endpoint_config(base: OpenVikingConfig, end: Endpoint, scratch: Path) -> OpenVikingConfig:
    """``base`` with its storage section for ``end`` (``scratch``: a postgres end's folder)."""
    data: dict[str, Any] = base.model_dump()
    postgres = dict(data["storage"].get("postgres") or {})
    if end.backend == "postgres":
        postgres["dsn"] = end.location
        storage = {"workspace": str(scratch), "backend": "postgres", "postgres": postgres}
    else:
        postgres["dsn"] = ""
        storage = {"workspace": end.location, "backend": "local", "postgres": postgres}
    data["storage"] = storage
    data.setdefault("server", {})["max_upload_mb"] = _UPLOAD_CAP_MB
    return OpenVikingConfig.from_dict(data, source=f"migration {end.shown}")
