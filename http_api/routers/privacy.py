"""Privacy configs: ``/api/v1/privacy-configs`` (seed 000, reference §4.10 and §10.3).

Versioned values kept in the caller's own space, never searched and never visible to anyone
else (ROOT has no user space: 403).

* ``GET ""`` → ``[category]``; ``GET /{category}`` → ``[target_key]``;
* ``GET /{category}/{target_key}`` → ``{meta, current}`` (404 type ``privacy config``);
* ``POST /{category}/{target_key}`` ``{values, change_reason, labels}`` → the active version
  record (values equal to the active ones add no version);
* ``GET /{category}/{target_key}/versions`` → ``[int]``;
* ``GET /{category}/{target_key}/versions/{version}`` → a version record;
* ``POST /{category}/{target_key}/activate`` ``{version}`` → the activated version record.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["ActivateRequest", "UpsertPrivacyRequest", "router"]

router = APIRouter(prefix="/api/v1/privacy-configs", tags=["privacy"])


class UpsertPrivacyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, str] = Field(description="Names to secret values.")
    change_reason: str = ""
    labels: dict[str, str] | None = Field(
        default=None, description="Replace the config's labels (kept when omitted)."
    )


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


@router.get("", summary="The caller's privacy config categories")
async def list_categories(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.list_privacy_categories(caller))


@router.get("/{category}", summary="Target keys of one category")
async def list_targets(
    category: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.list_privacy_targets(caller, category))


@router.get("/{category}/{target_key}", summary="The active config: {meta, current}")
async def get_config(
    category: str, target_key: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.get_privacy_config(caller, category, target_key))


@router.post("/{category}/{target_key}", summary="Store values as the active version")
async def upsert_config(
    category: str,
    target_key: str,
    body: UpsertPrivacyRequest,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    record = await service.upsert_privacy_config(
        caller,
        category,
        target_key,
        body.values,
        change_reason=body.change_reason,
        labels=body.labels,
    )
    return envelope.ok(request, record)


@router.get("/{category}/{target_key}/versions", summary="Version numbers, ascending")
async def list_versions(
    category: str, target_key: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.list_privacy_versions(caller, category, target_key))


@router.get("/{category}/{target_key}/versions/{version}", summary="One version record")
async def get_version(
    category: str,
    target_key: str,
    version: int,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    return envelope.ok(
        request, await service.get_privacy_version(caller, category, target_key, version)
    )


@router.post("/{category}/{target_key}/activate", summary="Make a stored version active")
async def activate_version(
    category: str,
    target_key: str,
    body: ActivateRequest,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    record = await service.activate_privacy_version(caller, category, target_key, body.version)
    return envelope.ok(request, record)
