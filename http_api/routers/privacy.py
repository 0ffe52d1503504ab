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

The bodies are the operations' requests (:mod:`openviking_mcp.contract.privacy`) without the
fields the URL carries; unknown fields are refused.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from http_api import envelope
from http_api.bodies import STRICT, PathRefused
from http_api.deps import Caller, Service
from openviking_mcp.contract import privacy as privacy_contract

__all__ = ["ActivateBody", "UpsertPrivacyBody", "router"]

router = APIRouter(prefix="/api/v1/privacy-configs", tags=["privacy"])


class UpsertPrivacyBody(privacy_contract.UpsertPrivacyRequest):
    """Body of ``POST /api/v1/privacy-configs/{category}/{target_key}``."""

    model_config = STRICT

    category: PathRefused = ""
    target_key: PathRefused = ""


class ActivateBody(privacy_contract.PrivacyVersionRequest):
    """Body of ``POST /api/v1/privacy-configs/{category}/{target_key}/activate``."""

    model_config = STRICT

    category: PathRefused = ""
    target_key: PathRefused = ""
    # The route refuses a version below 1 itself (400 on ``body.version``).
    version: int = Field(ge=1, description="A version number (1, 2, ...).")


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
    body: UpsertPrivacyBody,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    fields = {**body.model_dump(), "category": category, "target_key": target_key}
    return envelope.ok(request, await service.call(caller, "upsert_privacy_config", fields))


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
    body: ActivateBody,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    fields = {**body.model_dump(), "category": category, "target_key": target_key}
    return envelope.ok(request, await service.call(caller, "activate_privacy_version", fields))
