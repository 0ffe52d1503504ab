"""The console's system page: health, readiness, models, the index and live charts.

Health is :meth:`ContextService.health_status` for the caller (as ``/health``), readiness
:meth:`ContextService.ready` (as ``/ready``); the models, the index and the queue come from the
observer service (as ``/api/v1/observer/*``), which reports whether a key is set but never the
key; a PostgreSQL DSN is shown without its password. ``/console/system/status`` is the same
status cards as a fragment (htmx refreshes them).

``/console/system/metrics.json`` reads the app's own Prometheus registry
(``app.state.metrics_registry``, see :mod:`http_api.metrics`): request counters, the request
duration histogram summed over routes, and the task queue's depth. The page's script polls it
and draws rates, latency quantiles and the queue from the differences between polls.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from http_api.console._web import AnyCaller, page_router, render, service_of
from openviking_mcp.config import redact_dsn
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import MemoryStatsRequest

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["router"]

router = page_router()

_REQUESTS = "openviking_http_requests"
_LATENCY = "openviking_http_request_duration_seconds"
_NAMES = frozenset({_REQUESTS, _LATENCY})


def _storage(request: Request, caller: RequestContext) -> dict[str, Any]:
    """Where the data lives, for ROOT and ADMIN (a server path is not a user's business); a
    DSN's password is never shown."""
    storage = service_of(request).config.storage
    if not caller.is_admin:
        return {"backend": storage.backend, "workspace": None, "dsn": None}
    dsn = redact_dsn(storage.postgres.dsn) if storage.backend == "postgres" else None
    return {"backend": storage.backend, "workspace": storage.workspace, "dsn": dsn}


async def _status(request: Request, caller: RequestContext) -> dict[str, Any]:
    """The values of ``_system_status.html``: health, readiness, queue and index."""
    service = service_of(request)
    queue = await service.observer.queue(caller, Empty())
    index = await service.observer.vikingdb(caller, Empty())
    return {
        "health": await service.health_status(caller),
        "ready": await service.ready(),
        "queue": queue.details.wire(),
        "index": index.details.wire(),
        "index_errors": index.errors,
    }


async def _page_values(request: Request, caller: RequestContext) -> dict[str, Any]:
    service = service_of(request)
    models = await service.observer.models(caller, Empty())
    retrieval = await service.observer.retrieval(caller, Empty())
    memories = None
    if not caller.is_root:  # ROOT has no memories of its own
        memories = (await service.memory.stats(caller, MemoryStatsRequest())).wire()
    return {
        **(await _status(request, caller)),
        "models": models.details.wire(),
        "model_errors": models.errors,
        "find_latency": retrieval.details.find_latency.wire(),
        "memories": memories,
        "storage": _storage(request, caller),
    }


@router.get("/system")
async def page(request: Request, caller: AnyCaller) -> Response:
    values = await _page_values(request, caller)
    return render(request, "system.html", {"title": "System", "active": "system", **values})


@router.get("/system/status")
async def status(request: Request, caller: AnyCaller) -> Response:
    return render(request, "_system_status.html", await _status(request, caller))


def _requests(families: Iterable[Metric]) -> dict[str, float]:
    """Requests since start: all, those of ``/api/``, those that answered 5xx."""
    counts = {"total": 0.0, "api": 0.0, "errors": 0.0}
    for family in families:
        for sample in family.samples:
            if sample.name != _REQUESTS + "_total":
                continue
            counts["total"] += sample.value
            if sample.labels.get("route", "").startswith("/api/"):
                counts["api"] += sample.value
            if sample.labels.get("status", "").startswith("5"):
                counts["errors"] += sample.value
    return counts


def _latency(families: Iterable[Metric]) -> dict[str, Any]:
    """The request duration histogram summed over methods and routes; ``le`` of ``+Inf`` is
    ``None`` (JSON has no infinity)."""
    buckets: dict[float, float] = {}
    count = total = 0.0
    for family in families:
        for sample in family.samples:
            if sample.name == _LATENCY + "_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == _LATENCY + "_count":
                count += sample.value
            elif sample.name == _LATENCY + "_sum":
                total += sample.value
    ordered = [[None if b == float("inf") else b, n] for b, n in sorted(buckets.items())]
    return {"count": count, "sum": total, "buckets": ordered}


@router.get("/system/metrics.json")
async def metrics(request: Request, caller: AnyCaller) -> Response:
    """The figures of the charts: counters since start and current gauges."""
    registry = getattr(request.app.state, "metrics_registry", None)
    families = [f for f in (registry.collect() if registry is not None else ()) if f.name in _NAMES]
    snapshot = await service_of(request).observer.metrics_snapshot()
    queue = {"pending": 0, "running": 0, **snapshot.tasks}
    body = {
        "time": time.time(),
        "available": registry is not None,
        "requests": _requests(families),
        "latency": _latency(families),
        "queue": queue,
        "index_rows": snapshot.index_rows,
        "find_calls": snapshot.find_latency.calls,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
