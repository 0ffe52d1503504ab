"""Who may read or change which ``viking://`` paths.

Reading: the root, ``resources`` and ``agent`` are account-wide; ``viking://user/{uid}/...`` is
only for that user (ADMIN is not exempt; only ROOT is).

Changing (write, mkdir, rm, mv) through the filesystem and content APIs is refused at the root,
the scope roots, ``viking://user/{uid}`` itself, ``viking://agent`` outside ``agent/skills/``,
and the managed areas of a user space (``sessions``, ``privacy``, ``peers``, ``skills``), which
their own APIs maintain.
"""

from __future__ import annotations

from openviking_mcp.contract.errors import PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI

__all__ = [
    "MANAGED_USER_AREAS",
    "can_read",
    "check_access",
    "is_structural",
    "visible_user_ids",
]

MANAGED_USER_AREAS = frozenset({"sessions", "privacy", "peers", "skills"})


def _deny(uri: VikingURI, reason: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"Access denied for {uri.uri}: {reason}", {"resource": uri.uri})


def is_structural(uri: VikingURI) -> bool:
    """The root, a scope root, a user root or ``agent/skills``: never removed or moved by hand."""
    parts = uri.parts
    return (
        len(parts) <= 1
        or (parts[0] == "user" and len(parts) == 2)
        or (parts[0] == "agent" and parts[1:] == ("skills",))
    )


def can_read(ctx: RequestContext, uri: VikingURI) -> bool:
    """Whether ``ctx`` may read ``uri``: everything but other users' spaces (ROOT reads all)."""
    parts = uri.parts
    return ctx.is_root or not (len(parts) >= 2 and parts[0] == "user" and parts[1] != ctx.user_id)


def check_access(ctx: RequestContext, uri: VikingURI, *, mutate: bool = False) -> None:
    """Raise :class:`PermissionDeniedError` unless ``ctx`` may read (or ``mutate``) ``uri``."""
    parts = uri.parts
    if not can_read(ctx, uri):
        raise _deny(uri, "another user's space")
    if not mutate:
        return
    if is_structural(uri):
        raise _deny(uri, "namespace roots cannot be changed")
    if parts[0] == "agent" and parts[1] != "skills":
        raise _deny(uri, "only viking://agent/skills/ is writable under agent")
    if parts[0] == "user" and len(parts) >= 3 and parts[2] in MANAGED_USER_AREAS:
        raise _deny(uri, f"'{parts[2]}' is managed by its own API")


def visible_user_ids(ctx: RequestContext, user_ids: list[str]) -> list[str]:
    """Which entries of ``viking://user`` the caller may see listed."""
    return [u for u in user_ids if can_read(ctx, VikingURI("user", (u,)))]
