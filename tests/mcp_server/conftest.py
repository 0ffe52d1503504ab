"""MCP clients for the tests: in process, through the ASGI app, over real transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from openviking_mcp import ContextService
from openviking_mcp.mcp_server import build_mcp_server


@pytest.fixture
async def mcp(service: ContextService) -> AsyncIterator[Client]:
    """A client of an in-process MCP server acting as the dev user."""
    async with Client(build_mcp_server(service, caller=service.dev_context())) as client:
        yield client


def http_client_for(app: FastAPI, headers: dict[str, str] | None = None) -> Client:
    """An MCP client speaking streamable HTTP to ``app`` through ASGI (no socket)."""
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url="http://127.0.0.1:1933",
        headers=headers or {},
    )
    return Client(streamable_http_client("http://127.0.0.1:1933/mcp", http_client=http))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run the app's lifespan (service start, MCP session manager) around a test."""
    async with app.router.lifespan_context(app):
        yield app


AppClient = Callable[..., AbstractAsyncContextManager[Any]]


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)
