"""``ov.conf``: the server and embedded-store configuration.

The file is JSON and is found in this order: an explicit path (``--config``), the environment
variable ``OPENVIKING_CONFIG_FILE``, then ``~/.openviking/ov.conf``; with none, defaults are used,
and every default works offline with no API keys.

Unknown keys are errors that name the key. Any value can be overridden from the environment with
``OPENVIKING__{SECTION}__{KEY}=value`` (value parsed as JSON when it parses, else a string), e.g.
``OPENVIKING__SERVER__PORT=2000`` or ``OPENVIKING__STORAGE__WORKSPACE=/srv/ov``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from openviking_mcp._config_analytics import AnalyticsConfig
from openviking_mcp._config_base import Section
from openviking_mcp._config_events import EventsConfig, WebhooksConfig
from openviking_mcp._config_governance import (
    AuditConfig,
    IdempotencyConfig,
    RateLimitRule,
    RateLimitsConfig,
)
from openviking_mcp._config_mcp_registry import McpRegistryConfig
from openviking_mcp._config_oauth import OAuthConfig
from openviking_mcp.contract.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "AnalyticsConfig",
    "AuditConfig",
    "BotConfig",
    "BotGatewayConfig",
    "EmbeddingConfig",
    "EmbeddingModelConfig",
    "EventsConfig",
    "IdempotencyConfig",
    "IndexConfig",
    "McpRegistryConfig",
    "MemoryConfig",
    "OAuthConfig",
    "OpenVikingConfig",
    "PostgresConfig",
    "ProcessingConfig",
    "RateLimitRule",
    "RateLimitsConfig",
    "RerankConfig",
    "RetrievalConfig",
    "SemanticConfig",
    "ServerConfig",
    "StorageConfig",
    "VLMConfig",
    "WebhooksConfig",
    "find_config_file",
    "is_loopback_host",
    "load_config",
    "redact_dsn",
]

CONFIG_ENV = "OPENVIKING_CONFIG_FILE"
ENV_PREFIX = "OPENVIKING__"
DEFAULT_CONFIG_PATH = Path("~/.openviking/ov.conf")


_Section = Section


def redact_dsn(dsn: str) -> str:
    """``dsn`` (a URI or ``key=value`` words) with its password replaced by ``***``."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
        host = parts.netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username or ''}:***@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


class PostgresConfig(_Section):
    dsn: str = ""
    """libpq connection string or URI (``postgresql://user:pass@host:5432/db``) of a
    PostgreSQL 14+ server with the pgvector extension."""
    pool_min: int = Field(default=1, ge=0, le=1000)
    """Connections each pool of a process keeps open."""
    pool_max: int = Field(default=10, ge=1, le=1000)
    """Connections each pool of a process may open (a process has three pools: queries,
    metadata, locks; size the server's ``max_connections`` for every process)."""
    statement_timeout_ms: int = Field(default=0, ge=0)
    """Longest a statement may run before PostgreSQL cancels it (0: the server's default)."""
    hnsw_m: int = Field(default=16, ge=2, le=100)
    """pgvector HNSW ``m``: links per node (more: better recall, larger index)."""
    hnsw_ef_construction: int = Field(default=64, ge=4, le=1000)
    """pgvector HNSW ``ef_construction``: candidates kept while building."""
    hnsw_ef_search: int = Field(default=100, ge=1, le=1000)
    """pgvector HNSW ``ef_search``: candidates kept while searching."""


class StorageConfig(_Section):
    workspace: str = "./data"
    """Root folder: content files, LanceDB index and the metadata database live under it.
    With the postgres backend it holds only this process's scratch files (model cache,
    uploads in flight)."""
    backend: Literal["local", "postgres"] = "local"
    """``local``: everything in ``workspace`` (one machine). ``postgres``: content, metadata,
    task queue, index, locks and bot streams in one PostgreSQL database, shared by any
    number of server and worker processes on any hosts."""
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)

    @field_validator("postgres")
    @classmethod
    def _pool_bounds(cls, value: PostgresConfig) -> PostgresConfig:
        if value.pool_min > value.pool_max:
            raise ValueError("pool_min must not exceed pool_max")
        return value

    @model_validator(mode="after")
    def _dsn_given(self) -> StorageConfig:
        if self.backend == "postgres" and not self.postgres.dsn.strip():
            raise ValueError("backend 'postgres' needs storage.postgres.dsn")
        return self

    @property
    def uses_postgres(self) -> bool:
        return self.backend == "postgres"


class EmbeddingModelConfig(_Section):
    """One embedding model (seed 000's shape)."""

    provider: str = "local"
    """``local`` (bundled ONNX MiniLM), ``hashing`` (numpy fallback) or any litellm provider."""
    model: str = "all-MiniLM-L6-v2"
    api_base: str | None = None
    api_key: str | None = None
    dimension: int | None = Field(default=None, gt=0)
    batch_size: int = Field(default=32, gt=0)
    extra_headers: dict[str, str] = Field(default_factory=dict)


class EmbeddingConfig(_Section):
    dense: EmbeddingModelConfig = Field(default_factory=EmbeddingModelConfig)
    max_concurrent: int = Field(default=4, gt=0)
    max_retries: int = Field(default=3, ge=0)


class VLMConfig(_Section):
    """The LLM used for summaries and memory extraction, reached through litellm.

    Empty ``model`` means no LLM: summaries are extractive and everything still works.
    """

    provider: str | None = None
    model: str | None = None
    api_base: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_retries: int = Field(default=3, ge=0)
    timeout: float = Field(default=120.0, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    extra_headers: dict[str, str] = Field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.model)


class RerankConfig(_Section):
    provider: str | None = None
    model: str | None = None
    api_base: str | None = None
    api_key: str | None = None
    threshold: float = 0.0

    @property
    def configured(self) -> bool:
        return bool(self.model)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=1933, ge=0, le=65535)
    root_api_key: str | None = None
    auth_mode: Literal["dev", "api_key", "trusted"] | None = None
    """``None`` picks ``api_key`` when a root key is set, else ``dev``."""
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    public_base_url: str | None = None
    max_upload_mb: int = Field(default=512, gt=0)
    """Largest file ``POST /api/v1/resources/temp_upload`` accepts, in MiB."""
    upload_ttl_seconds: int = Field(default=3600, gt=0)
    """Temp uploads older than this are deleted (and can no longer be imported)."""
    allow_local_paths: bool = False
    """Let HTTP callers import paths of the server's own filesystem with ``add_resource``.
    Off by default: remote callers send files through ``temp_upload`` instead."""
    max_body_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    """Largest request body, in bytes (413 before it is read whole); ``temp_upload`` has its
    own cap, ``max_upload_mb``."""
    max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    """Largest request line plus headers, in bytes (431 above it)."""
    startup_wait_seconds: float = Field(default=60.0, gt=0)
    """How long a request that arrives while the server is still starting (opening the index,
    loading the embedding model) waits for it before failing with ``UNAVAILABLE``."""

    @field_validator("root_api_key")
    @classmethod
    def _non_empty_key(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("root_api_key must not be an empty string (omit it for dev mode)")
        return value

    @property
    def effective_auth_mode(self) -> Literal["dev", "api_key", "trusted"]:
        if self.auth_mode:
            return self.auth_mode
        return "api_key" if self.root_api_key else "dev"


class RetrievalConfig(_Section):
    default_limit: int = Field(default=10, gt=0)
    score_threshold: float = 0.0
    hybrid_vector_weight: float = Field(default=1.0, ge=0.0, le=1.0)
    """Vector share of the hybrid score (the rest is BM25) of resources and skills when the
    vector search's best rows hold every word of the query."""
    identifier_vector_weight: float = Field(default=0.85, ge=0.0, le=1.0)
    """Vector share of resources and skills when those rows hold none of the query's words
    (codenames, rare names and identifiers, which embeddings blur and keyword search finds
    exactly); in between, the share moves linearly with the share of words they miss."""
    memory_vector_weight: float = Field(default=0.6, ge=0.0, le=1.0)
    """As ``hybrid_vector_weight``, for memories: short, personal texts dense in names, dates
    and specifics, where the exact word carries the answer far more often than in documents."""
    memory_identifier_vector_weight: float = Field(default=0.3, ge=0.0, le=1.0)
    """As ``identifier_vector_weight``, for memories."""
    lexical_gap_depth: int = Field(default=10, gt=0)
    """How many of the vector search's best rows are checked for the query's words."""
    hotness_alpha: float = Field(default=0.0, ge=0.0, le=1.0)
    score_propagation_alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    directory_score_weight: float = Field(default=0.9, ge=0.0, le=1.0)
    """Final scores of directory (L0/L1) hits are multiplied by this: a directory summary
    restates its children, so the file that holds the match should rank first."""


class SemanticConfig(_Section):
    abstract_max_chars: int = Field(default=256, gt=0)
    overview_max_chars: int = Field(default=4000, gt=0)
    max_file_content_chars: int = Field(default=30000, gt=0)
    import_summary_token_budget: int = Field(default=500_000, ge=0)
    """Tokens one import may spend on model-written file summaries (with ``vlm`` set),
    counted approximately as characters / 4 of each prompt and answer. Files past the budget
    keep their extractive summaries (the import result says how many); 0 writes none. The
    default covers a typical repository or document folder whole (about 2 MB of text, a few
    hundred files) while bounding what a very large import can cost; folder overviews are not
    counted."""


class IndexConfig(_Section):
    max_file_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Bytes of a file that indexing reads: a larger file is stored and listed whole, but
    summarized and embedded from its first ``max_file_bytes`` only (with a warning)."""
    memory_max_rows: int = Field(default=400_000, ge=0)
    """Index rows searched in process memory (about 3.7 MiB per 1,000 rows when folders hold
    one file each); a larger index is searched in LanceDB only, and 0 never holds it in
    memory."""
    lance_index_cache_mb: int = Field(default=256, ge=0)
    """LanceDB's cache of opened index data (MiB; LanceDB's own default is 6 GiB)."""
    lance_metadata_cache_mb: int = Field(default=64, ge=0)
    """LanceDB's cache of file metadata (MiB; LanceDB's own default is 1 GiB)."""


class ProcessingConfig(_Section):
    workers: int = Field(default=2, ge=1, le=64)
    """Background workers; one is kept for interactive work when there are two or more."""
    worker: bool = True
    """Run the task queue's workers (and the session commit scanner) in this process.
    ``false`` for front-end-only servers (``serve --no-worker``): their tasks are queued for
    the ``openviking-mcp worker`` processes sharing the database."""


class MemoryConfig(_Section):
    extraction_enabled: bool = True
    custom_templates_dir: str = ""
    keep_recent_count: int = Field(default=0, ge=0)
    conversation_index: bool = True
    """Commit phase 2 also writes each archived turn to ``memories/conversations/`` (indexed,
    found by ``find``/``search`` without an LLM)."""


class BotGatewayConfig(_Section):
    token: str = ""
    """Accepted for compatibility with the original's ``ov.conf``; the bot runs in-process here,
    so no gateway token is sent anywhere."""


class BotConfig(_Section):
    """VikingBot: chat over the store (``/chat``, ``/chat/stream``, ``/bot/v1/...``)."""

    enabled: bool = False
    """Serve the bot routes (``serve --with-bot`` sets this)."""
    model: VLMConfig | None = None
    """The chat model; ``None`` uses ``vlm``. Neither configured: retrieval-only answers."""
    max_loop_count: int = Field(default=8, ge=1, le=50)
    """Model requests per turn; the last one gets no tools, so the model has to answer."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds a turn may go without any progress (a model chunk or a tool result) before it
    ends with an error event."""
    auto_commit: bool = False
    """Commit the chat session after every answered turn (extracts memories at once)."""
    stream_retention_seconds: float = Field(default=600.0, ge=0)
    """How long a finished turn's events stay available to ``/chat/stream/resume``."""
    context_limit: int = Field(default=5, ge=1, le=50)
    """Contexts fetched up front: memories for the prompt, hits in retrieval-only mode."""
    history_tokens: int = Field(default=8000, ge=0)
    """Earlier messages of the session given to the model, newest first within this budget."""
    system_prompt: str = ""
    """Extra instructions appended to the built-in system prompt."""
    gateway: BotGatewayConfig = Field(default_factory=BotGatewayConfig)

    def chat_model(self, vlm: VLMConfig) -> VLMConfig | None:
        """The model the bot talks to, or ``None`` for retrieval-only mode."""
        chosen = self.model if self.model is not None else vlm
        return chosen if chosen.configured else None


class OpenVikingConfig(_Section):
    """The whole ``ov.conf``. Every field has an offline default."""

    default_account: str = "default"
    default_user: str = "default"
    allow_private_networks: bool = False
    storage: StorageConfig = Field(default_factory=StorageConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    vlm: VLMConfig = Field(default_factory=VLMConfig)
    rerank: RerankConfig = Field(default_factory=RerankConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    semantic: SemanticConfig = Field(default_factory=SemanticConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    processing: ProcessingConfig = Field(default_factory=ProcessingConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    idempotency: IdempotencyConfig = Field(default_factory=IdempotencyConfig)
    rate_limits: RateLimitsConfig = Field(default_factory=RateLimitsConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    mcp_registry: McpRegistryConfig = Field(default_factory=McpRegistryConfig)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)

    source_path: str | None = Field(default=None, exclude=True)
    """Where this configuration was read from (``None`` for defaults)."""

    @property
    def workspace(self) -> Path:
        return Path(self.storage.workspace).expanduser().resolve()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "ov.conf") -> OpenVikingConfig:
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigError(_describe(exc, source), {"source": source}) from exc


def _describe(exc: ValidationError, source: str) -> str:
    problems: list[str] = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"'{key}': {err['msg']}")
    return f"Invalid configuration in {source}: " + "; ".join(problems)


def find_config_file(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to use: ``explicit``, then ``$OPENVIKING_CONFIG_FILE``, then the home file.

    An explicitly named file (argument or environment) that does not exist is an error; a
    missing home file just means defaults.
    """
    env = os.environ if environ is None else environ
    for candidate, origin in ((explicit, "--config"), (env.get(CONFIG_ENV), CONFIG_ENV)):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"Config file from {origin} not found: {path}", {"path": str(path)}
                )
            return path
    home = DEFAULT_CONFIG_PATH.expanduser()
    return home if home.is_file() else None


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or len(name) == len(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Conflicting environment overrides at {name}")
        node[keys[-1]] = value
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> OpenVikingConfig:
    """Find, read and validate the configuration.

    Precedence, lowest first: defaults, the file, ``OPENVIKING__*`` environment variables,
    ``overrides`` (command-line flags).
    """
    env = os.environ if environ is None else environ
    file = find_config_file(path, env)
    data: dict[str, Any] = {}
    source = "defaults"
    if file is not None:
        source = str(file)
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read config file {file}: {exc}", {"path": source}) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"Config file {file} is not valid JSON: line {exc.lineno} column {exc.colno}: "
                f"{exc.msg}",
                {"path": source},
            ) from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"Config file {file} must hold a JSON object", {"path": source})
        data = loaded
    env_data = _env_overrides(env)
    if env_data:
        data = _merge(data, env_data)
        source += " + environment"
    if overrides:
        data = _merge(data, overrides)
    config = OpenVikingConfig.from_dict(data, source=source)
    config.source_path = str(file) if file else None
    return config


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (dev mode may bind only to these)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
