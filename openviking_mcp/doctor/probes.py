"""The checks of ``doctor`` that load a model, read the index or use the network.

Each imports what it needs when it runs (the ONNX runtime, LanceDB, litellm, httpx), is
bounded by a timeout and answers a :class:`CheckResult` instead of raising.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openviking_mcp.config import OpenVikingConfig, VLMConfig
from openviking_mcp.contract.doctor import CheckResult
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.doctor.checks import result

if TYPE_CHECKING:
    from openviking_mcp.models.base import Embedder

__all__ = [
    "EmbedderBuilder",
    "check_embedder",
    "check_llm",
    "check_port",
    "read_index_model",
    "read_pg_index_model",
]

EmbedderBuilder = Callable[[OpenVikingConfig], "Embedder"]
"""Builds the configured embedder (:func:`openviking_mcp.models.factory.build_embedder`)."""

_PROBE_TEXT = "openviking doctor"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OpenVikingError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"


# -- embedder ------------------------------------------------------------------------------


def _local_fallback(config: OpenVikingConfig, embedder: Embedder) -> CheckResult | None:
    """A warning when ``provider: local`` fell back to the hashing embedder (the factory only
    logs why; the reason is found again here)."""
    from openviking_mcp.models.hashing import HashingEmbedder
    from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder

    provider = (config.embedding.dense.provider or "local").strip().lower()
    if provider != "local" or not isinstance(embedder, HashingEmbedder):
        return None
    try:
        LocalMiniLMEmbedder().verify()
        reason = "unknown reason"
    except OpenVikingError as exc:
        reason = exc.message
    return result(
        "embedder",
        "warn",
        f"the local model cannot be used ({reason}); the server falls back to {embedder.model_id}"
        " (word-level similarity only)",
        "Reinstall the package with its model (pip install --force-reinstall openviking-mcp), "
        'or choose the fallback on purpose: "embedding": {"dense": {"provider": "hashing"}}',
    )


def _load_fix(config: OpenVikingConfig) -> str:
    dense = config.embedding.dense
    provider = (dense.provider or "local").strip().lower()
    if provider == "local":
        return (
            "Reinstall the package and onnxruntime (pip install --force-reinstall openviking-mcp)"
        )
    where = dense.api_base or "the provider's default URL"
    return (
        f"Check that {where} is reachable and that embedding.dense.model ({dense.model!r}) and "
        "embedding.dense.api_key are right for provider " + repr(dense.provider)
    )


async def _load(embedder: Embedder, timeout: float) -> None:
    await asyncio.wait_for(embedder.load(), timeout)
    if not embedder.dimension and hasattr(embedder, "probe"):
        await asyncio.wait_for(embedder.probe(), timeout)  # a remote model, dimension unset
    vector = await asyncio.wait_for(embedder.embed_query(_PROBE_TEXT), timeout)
    if len(vector) != embedder.dimension:
        raise ValueError(f"a {len(vector)}-dim vector from a {embedder.dimension}-dim model")


async def check_embedder(
    config: OpenVikingConfig, build: EmbedderBuilder, timeout: float
) -> tuple[CheckResult, Embedder | None]:
    """Build the configured embedder, load it and embed one short text. The embedder is
    answered (unclosed) when it was built, so its model id and dimension can be compared to
    the index's."""
    try:
        embedder = build(config)
    except (OpenVikingError, ValueError) as exc:
        key = exc.details.get("key") if isinstance(exc, OpenVikingError) else None
        fix = f"Fix {key} in ov.conf" if key else "Fix embedding.dense in ov.conf"
        return result("embedder", "fail", _error_text(exc), fix), None
    try:
        await _load(embedder, timeout)
    except Exception as exc:
        return result(
            "embedder",
            "fail",
            f"{embedder.model_id} does not load or embed: {_error_text(exc)}",
            _load_fix(config),
        ), embedder
    fallback = _local_fallback(config, embedder)
    if fallback is not None:
        return fallback, embedder
    detail = f"{embedder.model_id} ({embedder.dimension} dims) loads and embeds"
    return result("embedder", "ok", detail), embedder


async def read_index_model(index_path: Path) -> tuple[str | None, int | None, bool] | None:
    """What the index at ``index_path`` records (model id, dimension, every column present),
    or ``None`` when there is no index; nothing is created or changed."""
    if not await asyncio.to_thread(index_path.is_dir):
        return None
    import lancedb

    from openviking_mcp.storage.index._arrow import read_meta
    from openviking_mcp.storage.index._table import TABLE_NAME

    db: Any = await lancedb.connect_async(str(index_path), read_consistency_interval=None)
    try:
        try:
            table: Any = await db.open_table(TABLE_NAME)
        except ValueError:
            return None  # the folder holds no table
        try:
            return read_meta(await table.schema())
        finally:
            table.close()
    finally:
        db.close()


async def read_pg_index_model(dsn: str) -> tuple[str | None, int | None, bool] | None:
    """What the index in the PostgreSQL database at ``dsn`` records (model id, dimension,
    ``True``), or ``None`` when none was built; nothing is created or changed."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=10) as conn:
        found = await (await conn.execute("SELECT to_regclass('ov_index_meta')")).fetchone()
        if found is None or found[0] is None:
            return None
        row = await (await conn.execute("SELECT model_id, dimension FROM ov_index_meta")).fetchone()
        return None if row is None else (str(row[0]), int(row[1]), True)


# -- LLM -----------------------------------------------------------------------------------


def _llm_url(cfg: VLMConfig, model: str) -> str:
    if cfg.api_base:
        return cfg.api_base
    if model.startswith("openai/"):
        from openviking_mcp.models.openai_http import OPENAI_BASE

        return OPENAI_BASE
    return "the provider's default URL"


async def check_llm(name: str, cfg: VLMConfig | None, timeout: float, meaning: str) -> CheckResult:
    """``cfg`` not configured: ``ok``, saying what that means (``meaning``); configured: one
    chat request of one token, without retries, within ``timeout`` seconds."""
    if cfg is None or not cfg.configured:
        return result(name, "ok", f"not configured: {meaning}")
    from openviking_mcp.models.llm import LLM

    quick = cfg.model_copy(update={"max_retries": 0, "timeout": timeout})
    llm = LLM(quick)
    url = _llm_url(cfg, llm.model)
    try:
        await asyncio.wait_for(llm.complete("Reply with OK.", max_tokens=1), timeout + 1)
    except Exception as exc:
        text = _error_text(exc)
        if cfg.api_key:
            text = text.replace(cfg.api_key, "***")
        return result(
            name,
            "fail",
            f"{llm.model} at {url} did not answer: {text}",
            f"Check that {url} is reachable and serves model {cfg.model!r}, and that the API key "
            "is valid; or remove the model to run without an LLM",
        )
    return result(name, "ok", f"{llm.model} at {url} answers")


# -- port ----------------------------------------------------------------------------------


def _bind(host: str, port: int) -> None:
    """Bind ``host:port`` as the server would (``SO_REUSEADDR``), then let go of it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)


def _probe_host(host: str) -> str:
    """Where to reach a server bound to ``host`` from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def _health(host: str, port: int, timeout: float) -> dict[str, Any] | None:
    """The ``/health`` answer of whatever holds the port, if it answers JSON."""
    import httpx

    url = f"http://{_probe_host(host)}:{port}/health"
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            response = await client.get(url)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


async def check_port(host: str, port: int, timeout: float) -> CheckResult:
    """``host:port`` is free, or held by an openviking-mcp (its ``/health``), or by another
    program."""
    where = f"{host}:{port}"
    change = "set server.port (or serve --port) to a free port"
    if port == 0:
        return result("port", "ok", f"{where}: the system picks a free port at start")
    try:
        await asyncio.to_thread(_bind, host, port)
    except socket.gaierror as exc:
        fix = "Set server.host to an address of this machine"
        return result("port", "fail", f"cannot resolve {host}: {exc.strerror}", fix)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            fix = f"Bind to an address of this machine, or {change}"
            return result("port", "fail", f"cannot bind {where}: {exc.strerror or exc}", fix)
    else:
        return result("port", "ok", f"{where} is free")
    health = await _health(host, port, timeout)
    if health is not None and health.get("status") == "ok" and "auth_mode" in health:
        state = "healthy" if health.get("healthy") else "not healthy yet"
        return result(
            "port",
            "warn",
            f"{where} is already serving openviking-mcp {health.get('version', '?')} ({state})",
            f"Use that server, or stop it before starting another here, or {change}",
        )
    return result(
        "port",
        "fail",
        f"{where} is in use by another program (not an openviking-mcp server)",
        f"Stop that program (see `ss -ltnp 'sport = :{port}'`), or {change}",
    )
