"""What a request presented to prove who it is, collected the same way on every surface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Credentials"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented. Empty strings count as absent."""

    api_key: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    role: str | None = None
    actor_peer_id: str | None = None
    client_host: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], client_host: str | None) -> Credentials:
        """Collect what an HTTP request presented (``headers`` must be case-insensitive).

        ``X-API-Key`` wins over ``Authorization: Bearer``; ``X-OpenViking-Account``/``-User``/
        ``-Role`` assert an identity (``dev`` and ``trusted`` modes only);
        ``X-OpenViking-Actor-Peer`` is a view filter.
        """
        key = headers.get("x-api-key")
        if not key:
            scheme, _, token = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() == "bearer":
                key = token.strip()
        return cls(
            api_key=key or None,
            account_id=headers.get("x-openviking-account"),
            user_id=headers.get("x-openviking-user"),
            role=headers.get("x-openviking-role"),
            actor_peer_id=headers.get("x-openviking-actor-peer"),
            client_host=client_host,
        )
