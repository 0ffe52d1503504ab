"""Routes under ``/api/v1/observer``: the state of the queue, index, models, locks, retrieval,
filesystem and host (see :mod:`openviking_mcp.observer.service`).

Each component is ``{name, is_healthy, has_errors, errors, status, details}``: ``status`` is the
original server's text table, ``details`` the same facts as JSON. ``/system`` is
``{is_healthy, errors, components, system}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/observer", tags=["observer"])


@router.get("/queue", summary="Task queue depth by status and priority, workers, counters")
async def queue(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_queue(caller))


@router.get("/vikingdb", summary="Search index: rows, fragments, versions, indexes, size, model")
async def vikingdb(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_vikingdb(caller))


@router.get("/models", summary="Embedder, LLM and reranker configuration (no secrets)")
async def models(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_models(caller))


@router.get("/lock", summary="Path locks held now")
async def lock(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_lock(caller))


@router.get("/retrieval", summary="Retrieval settings and recent find latencies")
async def retrieval(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_retrieval(caller))


@router.get("/filesystem", summary="Workspace size and free space")
async def filesystem(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_filesystem(caller))


@router.get("/system", summary="All components plus host facts (Python, CPU, memory, disk)")
async def system(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.observe_system(caller))
