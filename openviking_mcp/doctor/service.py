"""``DoctorService``: checks an installation without starting a server.

The checks run in order: the configuration first; when it does not load, the checks that
need it are reported as not run (one ``warn``) and the rest still run. Nothing is left behind:
the data folder probe is removed, the index is only read, no port stays bound.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openviking_mcp.config import OpenVikingConfig, redact_dsn
from openviking_mcp.contract.doctor import CheckResult, DoctorReport
from openviking_mcp.doctor.checks import (
    GIB,
    check_bundled_skills,
    check_config,
    check_data_folder,
    check_database,
    check_disk_space,
    check_index_model,
    check_server_auth,
    result,
)
from openviking_mcp.doctor.probes import (
    EmbedderBuilder,
    check_embedder,
    check_llm,
    check_port,
    read_index_model,
    read_pg_index_model,
)

if TYPE_CHECKING:
    from openviking_mcp.models.base import Embedder

__all__ = ["DoctorService", "SkillFolders"]

SkillFolders = Callable[[], tuple[Path | None, list[Path]]]
"""The bundled skills: their root folder (``None``: none installed) and one folder each."""

_NEEDS_CONFIG = (
    "data folder",
    "disk space",
    "embedder",
    "search index",
    "llm",
    "chat model",
    "server auth",
    "port",
)
_NO_LLM = (
    "L0/L1 summaries are extractive, memories are extracted from explicit statements only "
    "(rule-based) and the chat bot answers with retrieved contexts"
)
_NO_BOT_MODEL = "the chat bot answers with retrieved contexts only"
_NO_CHAT_MODEL = "bot.model not set: the chat bot uses the llm (vlm) settings"


def _default_embedder(config: OpenVikingConfig) -> Embedder:
    from openviking_mcp.models.factory import build_embedder

    return build_embedder(config)


def _default_skills() -> tuple[Path | None, list[Path]]:
    from openviking_mcp.skills.bundled import bundled_skill_dirs, bundled_skills_root

    return bundled_skills_root(), bundled_skill_dirs()


class DoctorService:
    """Checks what ``serve`` (and the local store) would find.

    ``config_file`` and ``overrides`` are resolved as the server resolves them (``--config``,
    ``$OPENVIKING_CONFIG_FILE``, ``~/.openviking/ov.conf``; ``overrides`` are command-line
    flags such as ``{"storage": {"workspace": ...}}``). ``build_embedder`` and ``skill_folders``
    default to the real ones. ``model_timeout`` bounds loading the embedder and each model
    request, ``http_timeout`` the ``/health`` request to a server holding the port.
    """

    def __init__(
        self,
        *,
        config_file: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        build_embedder: EmbedderBuilder | None = None,
        skill_folders: SkillFolders | None = None,
        model_timeout: float = 30.0,
        http_timeout: float = 2.0,
        min_free_bytes: int = GIB,
    ) -> None:
        self._config_file = config_file
        self._overrides = dict(overrides or {})
        self._environ = dict(os.environ if environ is None else environ)
        self._build_embedder = build_embedder or _default_embedder
        self._skill_folders = skill_folders or _default_skills
        self._model_timeout = model_timeout
        self._http_timeout = http_timeout
        self._min_free_bytes = min_free_bytes

    async def run(self) -> DoctorReport:
        """Every check, in order; the report is ``ok`` unless one failed."""
        config_check, config, file = check_config(self._config_file, self._overrides, self._environ)
        checks = [config_check]
        if config is None:
            checks.append(
                result(
                    "other checks",
                    "warn",
                    "not run until the configuration loads: " + ", ".join(_NEEDS_CONFIG),
                    "Fix the configuration first (see the config check), then run doctor again",
                )
            )
        else:
            checks.extend(await self._with_config(config))
        root, folders = await asyncio.to_thread(self._skill_folders)
        checks.append(await asyncio.to_thread(check_bundled_skills, root, folders))
        workspace = str(config.workspace) if config is not None else None
        source = str(file) if file is not None else None
        return DoctorReport.of(checks, config_source=source, workspace=workspace)

    async def _with_config(self, config: OpenVikingConfig) -> list[CheckResult]:
        workspace = config.workspace
        storage = [
            await asyncio.to_thread(check_data_folder, workspace),
            await asyncio.to_thread(check_disk_space, workspace, self._min_free_bytes),
        ]
        if config.storage.uses_postgres:
            storage.append(await check_database(config.storage.postgres))
        return [
            *storage,
            *await self._models(config),
            check_server_auth(config.server),
            await check_port(config.server.host, config.server.port, self._http_timeout),
        ]

    async def _models(self, config: OpenVikingConfig) -> list[CheckResult]:
        """The embedder, the index against it, the LLM and (when set apart) the chat model."""
        embedder_check, embedder = await check_embedder(
            config, self._build_embedder, self._model_timeout
        )
        try:
            index_check = await self._index(config, embedder)
        finally:
            if embedder is not None:
                await embedder.close()
        checks = [embedder_check, index_check]
        checks.append(await check_llm("llm", config.vlm, self._model_timeout, _NO_LLM))
        if config.bot.model is not None:
            checks.append(
                await check_llm("chat model", config.bot.model, self._model_timeout, _NO_BOT_MODEL)
            )
        else:
            checks.append(result("chat model", "ok", _NO_CHAT_MODEL))
        return checks

    async def _index(self, config: OpenVikingConfig, embedder: Embedder | None) -> CheckResult:
        index_path: Path | str = config.workspace / "index"
        try:
            if config.storage.uses_postgres:
                index_path = f"the database's index ({redact_dsn(config.storage.postgres.dsn)})"
                built = await read_pg_index_model(config.storage.postgres.dsn)
            else:
                built = await read_index_model(config.workspace / "index")
        except Exception as exc:
            return result(
                "search index",
                "fail",
                f"{index_path} cannot be read: {type(exc).__name__}: {exc}",
                f"Check the permissions of {index_path}; if it is damaged, move it away and "
                "run `openviking-mcp reindex --all`",
            )
        if embedder is None or not embedder.dimension:
            was = f"built with {built[0]} ({built[1]} dims)" if built else "not built yet"
            return result(
                "search index",
                "warn",
                f"{index_path} is {was}; not compared: the embedder did not load",
                "Fix the embedder first (see the embedder check)",
            )
        return check_index_model(index_path, built, embedder.model_id, embedder.dimension)
