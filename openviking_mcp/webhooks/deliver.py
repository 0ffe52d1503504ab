"""One attempt to deliver one event: the body, the signed headers, and the guarded POST.

The body is the event as the event log lists it (``{id, type, time, account_id, user_id,
uris, payload}``) plus ``webhook_id``, as compact JSON; it is the same for every attempt of a
delivery, while the signature's timestamp is the attempt's. The URL is resolved and checked by
the URL-import guard before every attempt, and the request goes to the checked address (a DNS
answer that changed to a private address is refused, not followed). Redirects are not
followed: a 3xx answer is a failed attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from openviking_mcp._version import __version__
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.webhook_signature import SIGNATURE_HEADER, signature_header
from openviking_mcp.resources.netguard import IPNetwork, check_public_url, pinned_send

__all__ = [
    "AttemptResult",
    "Delivery",
    "backoff_seconds",
    "delivery_body",
    "send_delivery",
]

#: The most of a receiver's answer read (into the error of a failed attempt).
_ANSWER_BYTES = 512


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one attempt sends."""

    url: str
    secret: str
    body: bytes
    event_type: str
    event_id: int | None
    delivery_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one attempt ended. ``permanent``: trying again cannot help (the URL is refused)."""

    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: float
    permanent: bool = False


def delivery_body(event: Mapping[str, Any], webhook_id: str) -> bytes:
    """The JSON body for ``event`` (its listed form) sent to ``webhook_id``."""
    data = {**event, "webhook_id": webhook_id}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def backoff_seconds(attempt: int, base: float, maximum: float) -> float:
    """The wait after failed attempt number ``attempt`` (1-based): ``base`` doubled each
    time, at most ``maximum``."""
    return float(min(base * 2 ** max(0, attempt - 1), maximum))


def _headers(delivery: Delivery) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"openviking-mcp-webhooks/{__version__}",
        "X-OpenViking-Event": delivery.event_type,
        "X-OpenViking-Delivery": delivery.delivery_id,
        "X-OpenViking-Attempt": str(delivery.attempt),
        SIGNATURE_HEADER: signature_header(delivery.secret, delivery.body),
    }
    if delivery.event_id is not None:
        headers["X-OpenViking-Event-Id"] = str(delivery.event_id)
    return headers


async def _start_of(response: httpx.Response) -> bytes:
    """The first :data:`_ANSWER_BYTES` of an answer's body, without reading the rest."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _ANSWER_BYTES:
            break
    return data[:_ANSWER_BYTES]


async def send_delivery(
    client: httpx.AsyncClient,
    delivery: Delivery,
    *,
    allow_private: bool,
    allow_networks: Collection[IPNetwork] = (),
) -> AttemptResult:
    """POST ``delivery`` once; never raises for the receiver's or the network's failures."""
    started = time.monotonic()

    def result(
        delivered: bool, status: int | None, error: str | None, permanent: bool = False
    ) -> AttemptResult:
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return AttemptResult(delivered, status, error, elapsed, permanent)

    try:
        checked = await check_public_url(
            delivery.url,
            allow_private=allow_private,
            allow_networks=allow_networks,
            action="send webhooks to",
        )
    except OpenVikingError as exc:
        return result(False, None, exc.message, permanent=exc.http_status in (400, 403))
    try:
        async with pinned_send(
            client, checked, "POST", content=delivery.body, headers=_headers(delivery)
        ) as response:
            if 200 <= response.status_code < 300:
                return result(True, response.status_code, None)
            answer = (await _start_of(response)).decode("utf-8", "replace")
            error = f"HTTP {response.status_code}" + (f": {answer.strip()}" if answer else "")
            return result(False, response.status_code, error)
    except httpx.HTTPError as exc:
        return result(False, None, f"{type(exc).__name__}: {exc}"[:_ANSWER_BYTES])
