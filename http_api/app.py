"""The FastAPI application: health probes, the ``/api/v1`` routes and MCP at ``/mcp``.

``create_app(config)`` builds an app that opens a :class:`ContextService` in its lifespan;
``create_app(service=...)`` serves an already-built service (tests, embedding in another app).
The app runs the bot: it builds a :class:`ChatService` over the service (``app.state.chat``,
shared with MCP's ``chat`` tool) and closes it on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.routing import Route

from http_api import bot, console, docs, envelope, metrics, oauth
from http_api.audit_scope import AuditScopeMiddleware
from http_api.console import explorer as console_explorer
from http_api.idempotency import IdempotencyMiddleware
from http_api.ratelimit import RateLimitMiddleware
from http_api.routers import (
    admin,
    analytics,
    attrs,
    audit,
    content,
    debug,
    events,
    fs,
    keys,
    mcp_servers,
    observer,
    pack,
    privacy,
    relations,
    resources,
    search,
    sessions,
    skill_import,
    skills,
    stats,
    system,
    tasks,
    webdav,
    webhooks,
)
from http_api.startup_gate import StartupGate
from openviking_mcp._version import __version__
from openviking_mcp.bot.service import ChatService
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.mcp_server import MCPEndpoint
from openviking_mcp.service import ContextService

__all__ = ["create_app"]


_ROUTER_GROUPS = (
    search,  # first: the hot path (each router group tried before a match costs time)
    system,
    resources,
    skill_import,  # before skills: /skills/import-mcp is not a skill name
    skills,
    pack,
    attrs,
    fs,
    content,
    relations,
    sessions,
    privacy,
    tasks,
    observer,
    debug,
    stats,
    admin,
    keys,
    webdav,
    bot,
    audit,
    analytics,
    events,
    webhooks,
    mcp_servers,
)
"""The ``/api/v1`` router modules, in the order their routes are matched."""


def _make_lifespan(
    svc: ContextService,
    chat: ChatService,
    mcp: MCPEndpoint,
    *,
    owns_service: bool,
    install_bundled_skills: bool,
    background_start: bool,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: start the service (storage, embedding model, and the bundled skills
    when asked; in the background when asked), build the bot, run MCP's session manager, then
    close the chat service and an owned service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.start(background=background_start, install_bundled_skills=install_bundled_skills)
        if svc.config.bot.enabled:
            chat.bot  # noqa: B018 - built now (it imports pydantic-ai), not in the first /health
        try:
            async with mcp.lifespan():
                yield
        finally:
            await chat.close()
            if owns_service:
                await svc.close()

    return lifespan


def _install_middleware(app: FastAPI, svc: ContextService) -> None:
    """The response envelope (body limit, request id, timing, error handlers), metrics and
    CORS. File uploads have their own, larger, body cap."""
    server = svc.config.server
    upload_cap = resources.upload_body_cap(server.max_upload_mb)
    caps = {resources.TEMP_UPLOAD_PATH: upload_cap, console_explorer.UPLOAD_PATH: upload_cap}
    app.add_middleware(AuditScopeMiddleware)  # innermost: surface and request id
    app.add_middleware(IdempotencyMiddleware, service=svc)  # inside the gate and body limit
    app.add_middleware(RateLimitMiddleware, service=svc)  # 429 before any work
    app.add_middleware(StartupGate, service=svc)  # innermost: its UNAVAILABLE is enveloped
    envelope.install(app, server.max_body_bytes, server.max_header_bytes, caps)
    metrics.install(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=svc.config.server.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[envelope.REQUEST_ID_HEADER, "X-Process-Time", "Idempotent-Replayed"],
    )


def _add_probes(app: FastAPI, svc: ContextService, chat: ChatService) -> None:
    """``GET /health`` (liveness, with the bot's status when enabled) and ``GET /ready``."""

    @app.get("/health", tags=["system"], summary="Liveness probe (no auth)")
    async def health(request: Request) -> dict[str, object]:
        report: dict[str, object] = await svc.health_status(await system.health_caller(request))
        if svc.config.bot.enabled:
            report["bot"] = chat.status().wire()
        return report

    @app.get("/ready", tags=["system"], summary="Readiness probe (no auth)")
    async def ready(request: Request) -> JSONResponse:
        report = await svc.ready()
        return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)


def _include_routes(app: FastAPI, mcp: MCPEndpoint) -> None:
    """The ``/api/v1`` routers, the console at ``/console``, then MCP at ``/mcp``."""
    for group in _ROUTER_GROUPS:
        app.include_router(group.router)
    console.install(app)
    # MCP (streamable HTTP, stateless) at exactly /mcp: a plain route, so no /mcp/ redirect.
    app.router.routes.append(Route("/mcp", endpoint=mcp, methods=["GET", "POST", "DELETE"]))
    # OAuth for /mcp: well-known metadata, the authorization server, its approval page
    app.router.routes.extend(oauth.oauth_routes(mcp.service))


def create_app(
    config: OpenVikingConfig | None = None,
    *,
    service: ContextService | None = None,
    install_bundled_skills: bool = False,
    background_start: bool = False,
) -> FastAPI:
    """Build the app. The service is initialised on startup and closed on shutdown;
    ``install_bundled_skills`` adds the packaged skills to a fresh workspace (``serve``).
    ``background_start`` lets the app answer at once while the service starts: ``/health``
    answers, ``/ready`` is 503 naming what is still loading, and other requests wait for it
    (at most ``server.startup_wait_seconds``, then 503 ``UNAVAILABLE``)."""
    svc = service or ContextService(config)
    chat = ChatService(svc, svc.config.bot, svc.config.vlm, svc.chat_model)
    mcp = MCPEndpoint(svc, chat=chat)
    lifespan = _make_lifespan(
        svc,
        chat,
        mcp,
        owns_service=service is None,
        install_bundled_skills=install_bundled_skills,
        background_start=background_start,
    )
    app = FastAPI(
        title="openviking-mcp",
        version=__version__,
        description="Context database for AI agents: the OpenViking HTTP API and MCP.",
        lifespan=lifespan,
        docs_url=None,  # docs.install serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    docs.install(app)
    app.state.service = svc
    app.state.chat = chat
    _install_middleware(app, svc)
    _add_probes(app, svc, chat)
    _include_routes(app, mcp)
    return app
