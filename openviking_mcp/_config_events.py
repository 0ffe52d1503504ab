"""The ``events`` section of ``ov.conf``: the durable event log and its stream (re-exported
by :mod:`openviking_mcp.config`; docs/events.md)."""

from __future__ import annotations

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["EventsConfig", "WebhooksConfig"]


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


class WebhooksConfig(_Section):
    """Webhooks: the events sent as signed POSTs to the accounts' endpoints."""

    enabled: bool = True
    """Deliver events; ``false`` queues no deliveries (webhooks can still be managed)."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """How long one attempt waits for the receiver's answer."""
    max_attempts: int = Field(default=8, ge=1, le=50)
    """Attempts per delivery before it fails for good (a failed task that can be retried)."""
    retry_base_seconds: float = Field(default=10.0, gt=0)
    """The wait before the second attempt; each later wait doubles it."""
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    """The longest wait between two attempts."""
    delivery_retention_days: float = Field(default=30.0, ge=0)
    """Delivery attempts older than this many days are pruned (0 keeps them forever)."""
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the dispatcher looks for events written by other processes."""
    gap_wait_seconds: float = Field(default=2.0, ge=0, le=60)
    """How long the dispatcher waits for an event id that is missing from the sequence (a
    transaction still committing) before it takes it as rolled back."""
