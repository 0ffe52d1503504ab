"""How a webhook delivery is signed, and how a receiver checks it (standard library only).

Every delivery carries the header ``X-OpenViking-Signature: t=<unix seconds>,v1=<hex>``, where
``<hex>`` is HMAC-SHA256, keyed with the webhook's secret, of ``"<t>."`` followed by the raw
request body. A receiver recomputes it over the bytes it received, compares in constant time,
and refuses a timestamp more than a few minutes away from its clock, so a captured delivery
cannot be replayed later. :func:`verify_signature` does all three.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SIGNATURE_HEADER",
    "WebhookSignatureError",
    "sign_payload",
    "signature_header",
    "verify_signature",
]

SIGNATURE_HEADER = "X-OpenViking-Signature"
#: How far a delivery's timestamp may be from the receiver's clock.
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookSignatureError(ValueError):
    """A delivery whose signature header is missing, malformed, wrong or too old."""


def sign_payload(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-OpenViking-Signature`` value for ``body`` sent at ``timestamp`` (now)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={ts},v1={sign_payload(secret, ts, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError("The signature header has no t= timestamp or no v1= value")
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check one delivery: ``header`` is its ``X-OpenViking-Signature`` value, ``body`` the
    raw bytes received. Returns the signed timestamp; raises :class:`WebhookSignatureError`
    when the header is missing or malformed, no signature matches, or the timestamp is more
    than ``tolerance`` seconds from ``now``."""
    if not header:
        raise WebhookSignatureError(f"No {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse(header)
    expected = sign_payload(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise WebhookSignatureError("The signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError(
            f"The signature's timestamp is {abs(current - timestamp):.0f}s from now "
            f"(at most {tolerance:g}s accepted)"
        )
    return timestamp
