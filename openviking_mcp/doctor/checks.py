"""The checks of ``doctor`` that need no model and no network: each returns a
:class:`CheckResult` (with a fix for every ``warn`` and ``fail``) and raises nothing.

* :func:`check_config` finds, reads and validates ``ov.conf`` exactly as the server does
  (:func:`~openviking_mcp.config.load_config`), naming the offending key;
* :func:`check_data_folder` creates the folder when missing (then removes what it created) and
  writes and deletes a probe file in it; :func:`check_disk_space` warns under a threshold;
* :func:`check_server_auth` applies the rules ``serve`` enforces before it binds;
* :func:`check_index_model` compares the model an index was built with to the configured one;
* :func:`check_bundled_skills` parses every bundled ``SKILL.md``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from openviking_mcp.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_PATH,
    ENV_PREFIX,
    OpenVikingConfig,
    PostgresConfig,
    ServerConfig,
    find_config_file,
    is_loopback_host,
    load_config,
    redact_dsn,
)
from openviking_mcp.contract.doctor import CheckResult, CheckStatus
from openviking_mcp.contract.errors import ConfigError, OpenVikingError

__all__ = [
    "GIB",
    "REINDEX_COMMAND",
    "check_bundled_skills",
    "check_config",
    "check_data_folder",
    "check_database",
    "check_disk_space",
    "check_index_model",
    "check_server_auth",
    "previous_model_config",
    "result",
]

GIB = 1024**3
REINDEX_COMMAND = "openviking-mcp reindex --all"


def result(name: str, status: CheckStatus, detail: str, fix: str | None = None) -> CheckResult:
    """One check's outcome."""
    return CheckResult(name=name, status=status, detail=detail, fix=fix)


# -- configuration -----------------------------------------------------------------------


def _origin(explicit: str | None, environ: Mapping[str, str], file: Path | None) -> str:
    if explicit:
        return "--config"
    if environ.get(CONFIG_ENV):
        return f"${CONFIG_ENV}"
    return str(DEFAULT_CONFIG_PATH) if file is not None else "defaults"


def _env_variable(key: str, environ: Mapping[str, str]) -> str | None:
    """The ``OPENVIKING__...`` variable that sets ``key`` (``server.port``), if any."""
    wanted = key.lower().split(".")
    for name in environ:
        if name.startswith(ENV_PREFIX):
            parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
            if parts == wanted[: len(parts)]:
                return name
    return None


def _validation_fix(exc: ValidationError, where: str, environ: Mapping[str, str]) -> str:
    fixes: list[str] = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        variable = _env_variable(key, environ)
        if variable is not None:
            fixes.append(f"fix or unset the environment variable {variable}")
        elif err["type"] == "extra_forbidden":
            fixes.append(f"remove or rename the unknown key '{key}' in {where}")
        else:
            fixes.append(f"set '{key}' in {where} to a valid value ({err['msg']})")
    text = "; ".join(dict.fromkeys(fixes))
    return text[:1].upper() + text[1:]


def _config_failure(exc: ConfigError, file: Path | None, environ: Mapping[str, str]) -> str:
    where = str(file) if file is not None else "the configuration"
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return _validation_fix(cause, where, environ)
    if isinstance(cause, json.JSONDecodeError):
        return (
            f"Fix the JSON at line {cause.lineno} column {cause.colno} of {where} (strict JSON: "
            "double quotes, no comments, no trailing commas)"
        )
    if "not found" in exc.message:
        return (
            f"Create that file, or point --config / ${CONFIG_ENV} at an existing ov.conf "
            f"(or unset it to use {DEFAULT_CONFIG_PATH} or the defaults)"
        )
    if "JSON object" in exc.message:
        return f'Make {where} one JSON object: {{"storage": {{...}}, "server": {{...}}}}'
    return f"Fix {where} so it can be read as UTF-8 JSON by the server's user"


def check_config(
    explicit: str | None,
    overrides: Mapping[str, Any] | None,
    environ: Mapping[str, str],
) -> tuple[CheckResult, OpenVikingConfig | None, Path | None]:
    """Find, read and validate the configuration as the server does (same precedence:
    ``--config``, ``$OPENVIKING_CONFIG_FILE``, ``~/.openviking/ov.conf``, defaults; then
    ``OPENVIKING__*`` variables and the command-line overrides). Also answers the
    configuration and the file found (``None`` when it does not load, or for no file)."""
    file: Path | None = None
    try:
        file = find_config_file(explicit, environ)
        config = load_config(explicit, overrides=overrides, environ=environ)
    except ConfigError as exc:
        failure = result("config", "fail", exc.message, _config_failure(exc, file, environ))
        return failure, None, file
    origin = _origin(explicit, environ, file)
    if file is None:
        detail = (
            f"no ov.conf (looked at --config, ${CONFIG_ENV}, {DEFAULT_CONFIG_PATH}): "
            "using the defaults"
        )
    else:
        detail = f"{file} (from {origin}) parses and validates"
    if any(name.startswith(ENV_PREFIX) for name in environ):
        detail += ", with OPENVIKING__* environment overrides"
    return result("config", "ok", detail), config, file


# -- data folder -------------------------------------------------------------------------


def _missing_parents(path: Path) -> list[Path]:
    """``path`` and its missing ancestors, outermost first."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    return list(reversed(missing))


def _remove_created(created: list[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return  # something else wrote there meanwhile: leave it


def check_data_folder(path: Path) -> CheckResult:
    """The data folder exists or can be created, and a file can be created and deleted in it
    (what is created here is removed again)."""
    where = "storage.workspace (or --path)"
    if path.exists() and not path.is_dir():
        return result(
            "data folder",
            "fail",
            f"{path} is a file, not a folder",
            f"Move that file away, or point {where} at a folder",
        )
    created: list[Path] = []
    try:
        for folder in _missing_parents(path):
            folder.mkdir()
            created.append(folder)
    except OSError as exc:
        _remove_created(created)
        return result(
            "data folder",
            "fail",
            f"{path} does not exist and cannot be created: {exc.strerror or exc}",
            f"Create it with write access for the server's user, or point {where} elsewhere",
        )
    probe = path / f".doctor-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return result(
            "data folder",
            "fail",
            f"{path} is not writable: {exc.strerror or exc}",
            f"Give the server's user write access (chown/chmod, or remount read-write), or "
            f"point {where} at a writable folder",
        )
    finally:
        _remove_created(created)
    state = (
        "does not exist yet (the server creates it) and can be created"
        if created
        else ("exists and is writable")
    )
    return result("data folder", "ok", f"{path} {state}")


def check_disk_space(path: Path, min_free_bytes: int = GIB) -> CheckResult:
    """Free space on the disk of ``path`` (or of its nearest existing ancestor)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError as exc:
        return result(
            "disk space",
            "warn",
            f"cannot read the free space of {existing}: {exc.strerror or exc}",
            "Check the disk by hand (df -h)",
        )
    amount = f"{free / GIB:.1f} GiB free on the disk of {existing}"
    if free < min_free_bytes:
        return result(
            "disk space",
            "warn",
            f"only {amount} (under {min_free_bytes / GIB:.1f} GiB)",
            "Free some space on that disk, or move storage.workspace to a larger one; "
            "writes fail with RESOURCE_EXHAUSTED when it is full",
        )
    return result("disk space", "ok", amount)


async def check_database(settings: PostgresConfig) -> CheckResult:
    """The PostgreSQL database of ``storage.backend: postgres``: reachable, with pgvector, and
    a schema this code can use (read only: migrations run when a server starts)."""
    from openviking_mcp.storage.postgres.check import check_database as inspect

    where = f"PostgreSQL at {redact_dsn(settings.dsn)}"
    try:
        stored, supported = await inspect(settings, migrate=False)
    except ConfigError as exc:
        return result(
            "database",
            "fail",
            exc.message,
            "Check storage.postgres.dsn, that this host reaches the server, and that the "
            "pgvector extension is available (docs/deploy.md)",
        )
    if stored > supported:
        return result(
            "database",
            "fail",
            f"{where} has schema version {stored}, newer than this code ({supported})",
            "Upgrade openviking-mcp on this host to the version the other servers run",
        )
    if stored < supported:
        detail = f"{where}: reachable, pgvector present, schema version {stored}"
        return result("database", "ok", f"{detail}; the next start migrates it to {supported}")
    return result("database", "ok", f"{where}: reachable, pgvector present, schema {stored}")


# -- server --------------------------------------------------------------------------------


def check_server_auth(server: ServerConfig) -> CheckResult:
    """The rules ``serve`` applies before it binds (it exits with a configuration error)."""
    mode = server.effective_auth_mode
    if mode == "dev" and not is_loopback_host(server.host):
        return result(
            "server auth",
            "fail",
            f"dev mode (no server.root_api_key) on {server.host}: serve refuses to bind an "
            "unauthenticated server to a non-loopback address",
            "Set server.root_api_key (API keys become required), or bind to 127.0.0.1",
        )
    if mode == "api_key" and not server.root_api_key:
        return result(
            "server auth",
            "fail",
            "server.auth_mode is 'api_key' but server.root_api_key is not set",
            "Set server.root_api_key, or remove server.auth_mode",
        )
    return result("server auth", "ok", f"auth mode '{mode}' on {server.host}")


# -- search index --------------------------------------------------------------------------


def previous_model_config(model_id: str, dimension: int | None) -> dict[str, Any] | None:
    """The ``embedding.dense`` settings that give the embedder ``model_id`` again, if known."""
    kind, _, rest = model_id.partition(":")
    if kind == "hashing" and rest.startswith("v1-") and rest[3:].isdigit():
        return {"provider": "hashing", "dimension": int(rest[3:])}
    if kind == "local":
        return {"provider": "local", "model": "all-MiniLM-L6-v2"}
    if kind == "litellm" and "/" in rest:
        provider, model = rest.split("/", 1)
        settings: dict[str, Any] = {"provider": provider, "model": model}
        if dimension:
            settings["dimension"] = dimension
        return settings
    return None


def check_index_model(
    index_path: Path | str,
    built: tuple[str | None, int | None, bool] | None,
    model_id: str,
    dimension: int,
) -> CheckResult:
    """``built`` (what the index records: model id, dimension, all columns present; ``None``
    when there is no index yet) against the configured embedder."""
    if built is None:
        return result(
            "search index", "ok", f"no index at {index_path} yet: it is built with {model_id}"
        )
    index_model, index_dim, complete = built
    if index_model == model_id and index_dim == dimension and complete:
        return result(
            "search index", "ok", f"{index_path} was built with {model_id} ({dimension} dims)"
        )
    was = f"'{index_model}' ({index_dim} dims)" if index_model else "an unknown model"
    detail = (
        f"{index_path} was built with {was}, but the configured embedder is '{model_id}' "
        f"({dimension} dims): search is unavailable until they match"
    )
    fix = f"Rebuild the index with the configured model: `{REINDEX_COMMAND}` (re-embeds every file)"
    previous = previous_model_config(index_model, index_dim) if index_model else None
    if previous is not None and complete:
        fix += (
            ', or configure the previous model again: "embedding": {"dense": '
            f"{json.dumps(previous)}}}"
        )
    return result("search index", "fail", detail, fix)


# -- bundled skills ------------------------------------------------------------------------


def check_bundled_skills(root: Path | None, folders: list[Path]) -> CheckResult:
    """Every bundled skill folder holds a ``SKILL.md`` that parses."""
    if root is None or not folders:
        return result(
            "bundled skills",
            "warn",
            "this install carries no bundled skills: a new workspace starts without them",
            "Reinstall the package (pip install --force-reinstall openviking-mcp) if you "
            "expected the bundled skills",
        )
    from openviking_mcp.skills.bundles import load_skill_directory

    broken: list[str] = []
    for folder in folders:
        try:
            load_skill_directory(folder)
        except (OpenVikingError, OSError, UnicodeDecodeError) as exc:
            message = exc.message if isinstance(exc, OpenVikingError) else str(exc)
            broken.append(f"{folder.name}: {message}")
    if broken:
        return result(
            "bundled skills",
            "fail",
            f"{len(broken)} of {len(folders)} bundled skills in {root} do not parse: "
            + "; ".join(broken),
            f"Fix the SKILL.md named above under {root}, or reinstall the package",
        )
    return result("bundled skills", "ok", f"{len(folders)} bundled skills in {root} parse")
