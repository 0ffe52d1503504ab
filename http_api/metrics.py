"""Prometheus metrics: ``GET /metrics`` (no auth) in the text exposition format.

Every app has its own :class:`~prometheus_client.CollectorRegistry` (never the process-global
one), so several apps in one process do not clash. Exported:

* ``openviking_http_requests_total{method, route, status}`` and
  ``openviking_http_request_duration_seconds{method, route}`` (histogram), recorded by a pure
  ASGI middleware. ``route`` is the route *template* (``/api/v1/tasks/{task_id}``), or
  ``<unmatched>`` for requests no route matched, so the label set stays small; unusual methods
  are counted as ``OTHER``.
* collected at each scrape from the service: ``openviking_task_queue_depth{status}`` (pending,
  running...), ``openviking_task_failures_total``, ``openviking_tasks_processed_total``,
  ``openviking_task_retries_total`` (this process, since start), ``openviking_index_rows``
  (absent while the search index is unusable), ``openviking_find_calls_total``,
  ``openviking_bot_turns_total{mode, outcome}`` and ``openviking_bot_running_turns``.

``install(app)`` adds the middleware and the route.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openviking_mcp.observer.service import MetricsSnapshot
from openviking_mcp.service import ContextService

__all__ = ["MetricsMiddleware", "ServiceCollector", "install"]

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    | {"PROPFIND", "MKCOL", "MOVE", "COPY"}
)
_QUEUE_STATES = ("pending", "running")
#: Counter name (``_total`` is appended on export) → (snapshot key, help).
_COUNTERS = {
    "openviking_task_failures": ("failed", "Tasks that failed (this process)"),
    "openviking_tasks_processed": ("processed", "Tasks completed (this process)"),
    "openviking_task_retries": ("retried", "Task retries scheduled (this process)"),
    "openviking_find_calls": ("find_calls", "find calls (this process)"),
}


class ServiceCollector:
    """Figures read from the service at scrape time (:meth:`refresh` before collecting)."""

    def __init__(self, service: ContextService) -> None:
        self._service = service
        self._snapshot = MetricsSnapshot()

    async def refresh(self) -> None:
        self._snapshot = await self._service.observer.metrics_snapshot()

    def describe(self) -> Iterable[Metric]:
        """The families :meth:`collect` yields, without samples (for name clash checks)."""
        yield GaugeMetricFamily("openviking_task_queue_depth", "", labels=["status"])
        for name in _COUNTERS:
            yield CounterMetricFamily(name, "")
        yield GaugeMetricFamily("openviking_index_rows", "")
        yield CounterMetricFamily("openviking_bot_turns", "", labels=["mode", "outcome"])
        yield GaugeMetricFamily("openviking_bot_running_turns", "")

    def collect(self) -> Iterable[Metric]:
        snap = self._snapshot
        tasks = snap.tasks
        depth = GaugeMetricFamily(
            "openviking_task_queue_depth", "Tasks in the queue by status", labels=["status"]
        )
        for status in sorted({*_QUEUE_STATES, *tasks}):
            depth.add_metric([status], float(tasks.get(status, 0)))
        yield depth
        values = {**snap.task_stats, "find_calls": snap.find_latency.calls}
        for name, (key, text) in _COUNTERS.items():
            yield CounterMetricFamily(name, text, value=float(values.get(key, 0)))
        if snap.index_rows is not None:
            rows = snap.index_rows
            yield GaugeMetricFamily("openviking_index_rows", "Rows in the search index", rows)
        turns = CounterMetricFamily(
            "openviking_bot_turns",
            "Chat turns by mode (llm, retrieval, store) and outcome (this process)",
            labels=["mode", "outcome"],
        )
        for (mode, outcome), count in sorted(snap.bot_turns.items()):
            turns.add_metric([mode, outcome], float(count))
        yield turns
        running = float(snap.bot_running)
        yield GaugeMetricFamily("openviking_bot_running_turns", "Chat turns running", running)


class MetricsMiddleware:
    """Pure ASGI: counts every HTTP request and observes its duration (streams included)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "openviking_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "openviking_http_request_duration_seconds",
            "HTTP request duration by method and route template",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            method = str(scope.get("method", "")).upper()
            method = method if method in _METHODS else "OTHER"
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - start)


def install(app: FastAPI) -> None:
    """Add the request metrics middleware and ``GET /metrics`` to ``app`` (its service must be
    on ``app.state.service``)."""
    registry = CollectorRegistry()
    collector = ServiceCollector(app.state.service)
    registry.register(collector)
    app.state.metrics_registry = registry
    app.add_middleware(MetricsMiddleware, registry=registry)

    async def metrics(request: Request) -> Response:
        await collector.refresh()
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), media_type=content_type)

    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        tags=["system"],
        summary="Prometheus metrics (no auth)",
        response_class=Response,
    )
