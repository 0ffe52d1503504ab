"""Routes under ``/webdav/resources`` (seed 000)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/webdav/resources", tags=["webdav"])
