"""System: ``/api/v1/system/status``, ``/wait`` and ``/consistency`` (seed 000, §4.1).

``/health`` and ``/ready`` need no authentication and live in :mod:`http_api.app`; the caller
``/health`` reports (when credentials are sent) comes from :func:`health_caller`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from http_api import envelope
from http_api.bodies import LENIENT, UpstreamFields
from http_api.deps import Caller, Service, get_caller, get_service
from openviking_mcp.contract import resources as resources_contract
from openviking_mcp.contract import tasks as tasks_contract
from openviking_mcp.contract.identity import RequestContext

__all__ = ["ConsistencyBody", "WaitBody", "health_caller", "router"]

router = APIRouter(prefix="/api/v1/system", tags=["system"])


class WaitBody(UpstreamFields, tasks_contract.WaitProcessingRequest):
    """Body of ``POST /api/v1/system/wait`` (optional; unknown fields are ignored)."""

    model_config = LENIENT

    # The route refuses a timeout that is not positive (400 on ``body.timeout``).
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds; absent: wait as long as it takes."
    )


class ConsistencyBody(UpstreamFields, resources_contract.ConsistencyRequest):
    """Body of ``POST /api/v1/system/consistency`` (unknown fields are ignored)."""

    model_config = LENIENT


async def health_caller(request: Request) -> RequestContext | None:
    """Who sent ``/health``, as the original reports it: resolved only when the request
    carries credentials (an API key, a bearer token, or in trusted mode an asserted account and
    user) or in dev mode (every request acts as the dev user); ``None`` otherwise. Credentials
    that do not authenticate are 401, as on every route."""
    service = get_service(request)
    if not service.initialized:
        return None
    headers = request.headers
    mode = service.config.server.effective_auth_mode
    asserted = "x-openviking-account" in headers and "x-openviking-user" in headers
    sent = "x-api-key" in headers or "authorization" in headers
    if sent or mode == "dev" or (mode == "trusted" and asserted):
        return await get_caller(request)
    return None


@router.get("/status", summary="System status: {initialized, user, healthy, ...}")
async def status(request: Request, service: Service, caller: Caller) -> JSONResponse:
    """``{initialized, user}`` as the original answers, plus ``healthy`` (the server can
    serve), ``problems`` when it cannot, ``account_id``/``role`` and the failed tasks
    (``tasks``: ``{failed, failed_since_start, last_error}``)."""
    report = await service.health_status(caller)
    result = {"initialized": service.initialized, "user": caller.user_id}
    for key in ("healthy", "problems", "version", "account_id", "role", "tasks"):
        if key in report:
            result[key] = report[key]
    return envelope.ok(request, result)


@router.post("/wait", summary="Wait until all queued processing is done")
async def wait(
    request: Request, service: Service, caller: Caller, body: WaitBody | None = None
) -> JSONResponse:
    """Waits for every queue in the process (not only the caller's work); a timeout is 504
    ``DEADLINE_EXCEEDED``."""
    sent = body if body is not None else WaitBody()
    fields = sent.model_dump(include=set(tasks_contract.WaitProcessingRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "wait_processing", fields))


@router.post("/consistency", summary="Compare the content tree with the vector index")
async def consistency(
    request: Request, body: ConsistencyBody, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{ok, expected_count, missing_record_count, missing_records (≤20),
    missing_records_truncated}``."""
    fields = body.model_dump(include=set(resources_contract.ConsistencyRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "consistency", fields))
