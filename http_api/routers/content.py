"""Routes under ``/api/v1/content`` (seed 000)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/content", tags=["content"])
