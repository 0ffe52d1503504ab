"""The ``analytics`` section of ``ov.conf``: usage analytics (re-exported by
:mod:`openviking_mcp.config`; docs/analytics.md)."""

from __future__ import annotations

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["AnalyticsConfig"]


class AnalyticsConfig(_Section):
    """Usage analytics: reads, searches and their hits, per account (docs/analytics.md)."""

    enabled: bool = True
    """Record reads and searches (the query text, hit counts, best score, top hit URIs)."""
    retention_days: float = Field(default=30.0, ge=0)
    """Usage rows older than this many days are pruned (0 keeps them forever)."""
    flush_interval_seconds: float = Field(default=2.0, gt=0, le=60)
    """How long new rows may wait in memory before they are written."""
    buffer_max: int = Field(default=1000, ge=1, le=100_000)
    """Rows held in memory before a write is started at once."""
    top_hits: int = Field(default=5, ge=0, le=50)
    """Hit URIs recorded per search (the best ones), counted by ``top-accessed``."""
    stale_scan_max: int = Field(default=5000, ge=1, le=100_000)
    """Most contexts ``stale`` looks at (files under ``viking://resources``)."""
