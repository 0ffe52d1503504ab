"""The ``events`` section of ``ov.conf``: the durable event log and its stream (re-exported
by :mod:`openviking_mcp.config`; docs/events.md)."""

from __future__ import annotations

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["EventsConfig"]


class EventsConfig(_Section):
    """The event log (``resource.indexed``, ``task.failed``...) and ``GET /api/v1/events``."""

    enabled: bool = True
    """Record events; ``false`` records none (the stream stays open but quiet)."""
    retention_days: float = Field(default=7.0, ge=0)
    """Events older than this many days are pruned (0 keeps them forever)."""
    keepalive_seconds: float = Field(default=15.0, gt=0, le=300)
    """How often the stream sends a keep-alive comment while nothing happens."""
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the stream looks for events written by other processes."""
