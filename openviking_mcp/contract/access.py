"""Who may read or change which ``viking://`` paths: the one place for access rules.

Reading: the root, ``resources`` and ``agent`` are account-wide; ``viking://user/{uid}/...`` is
only for that user (ADMIN is not exempt; only ROOT is). Every surface that answers a list of
URIs (search hits, listings, grep matches, glob results, tree nodes, pack and backup entries,
consistency reports) passes it through :func:`readable`, and every search or scan over a
subtree uses :func:`readable_prefixes`, the readable parts of the requested targets resolved
for the caller, never the target string itself (``viking://user`` is ``viking://user/{me}``).

Changing (write, mkdir, rm, mv) through the filesystem and content APIs is refused at the root,
the scope roots, ``viking://user/{uid}`` itself, ``viking://agent`` outside ``agent/skills/``,
and the managed areas of a user space (``sessions``, ``privacy``, ``peers``, ``skills``), which
their own APIs maintain.

Removing, moving or replacing a shared path (``viking://resources/...``,
``viking://agent/skills/...``) follows the owner rule (:func:`check_owner`): a USER may only
remove what they created themselves, everything below it included; ADMIN and ROOT may remove
anything. Writing into shared paths (creating, editing) stays open to every user.

A named API key narrows all of this (``RequestContext.scopes``/``uri_prefix``): without the
``write`` scope every change is refused (:func:`check_scope`, also applied per operation by
the composition root and per request by the HTTP surfaces); with a URI prefix nothing outside
it can be read, listed, searched or changed: :func:`can_read` and :func:`readable_roots`
apply the prefix, so every check and filter above inherits it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

from openviking_mcp.contract.errors import OpenVikingError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, parse_uri

__all__ = [
    "ACCOUNT_OWNER",
    "MANAGED_USER_AREAS",
    "SHARED_SCOPES",
    "can_read",
    "can_read_uri",
    "check_access",
    "check_owner",
    "check_scope",
    "described_uri",
    "is_shared",
    "is_structural",
    "key_prefix_uri",
    "readable",
    "readable_prefixes",
    "readable_roots",
    "visible_user_ids",
]

T = TypeVar("T")

MANAGED_USER_AREAS = frozenset({"sessions", "privacy", "peers", "skills"})
#: Scopes every user of an account reads and writes; removing in them follows the owner rule.
SHARED_SCOPES = frozenset({"resources", "agent"})
#: The owner of shared data no user created (presets, bundled skills, restored backups).
ACCOUNT_OWNER = ""
#: Hit URIs of a directory's L0/L1 carry these suffixes; they describe the directory.
_SIDECAR_SUFFIXES = ("/.abstract.md", "/.overview.md")


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


@lru_cache(maxsize=256)
def _prefix_uri(text: str) -> VikingURI:
    return parse_uri(text)


def key_prefix_uri(ctx: RequestContext) -> VikingURI | None:
    """The subtree a named key is restricted to, or ``None``."""
    return _prefix_uri(ctx.uri_prefix) if ctx.uri_prefix else None


def check_scope(ctx: RequestContext, scope: str, what: str = "this operation") -> None:
    """:class:`PermissionDeniedError` unless the caller's key carries ``scope``."""
    if not ctx.has_scope(scope):
        raise PermissionDeniedError(
            f"This API key lacks the '{scope}' scope needed for {what}",
            {"reason": "missing_scope", "required": scope, "key_id": ctx.key_id},
        )


def can_read(ctx: RequestContext, uri: VikingURI) -> bool:
    """Whether ``ctx`` may read ``uri``: everything but other users' spaces (ROOT reads all),
    and for a key with a URI prefix only what is inside it."""
    prefix = key_prefix_uri(ctx)
    if prefix is not None and not prefix.is_ancestor_of(uri):
        return False
    parts = uri.parts
    return ctx.is_root or not (len(parts) >= 2 and parts[0] == "user" and parts[1] != ctx.user_id)


def readable_roots(ctx: RequestContext) -> tuple[VikingURI, ...]:
    """The subtrees ``ctx`` may read: everything for ROOT, else ``resources``, ``agent`` and
    the caller's own user space; for a key with a URI prefix, only the prefix (when readable)."""
    prefix = key_prefix_uri(ctx)
    if prefix is not None:
        return (prefix,) if can_read(ctx, prefix) else ()
    if ctx.is_root:
        return (VikingURI(""),)
    return (VikingURI("resources"), VikingURI("agent"), VikingURI("user", (ctx.user_id,)))


def readable_prefixes(ctx: RequestContext, targets: Sequence[VikingURI]) -> tuple[VikingURI, ...]:
    """The readable parts of ``targets`` (no targets: the whole account) as URI prefixes.

    A target inside a readable subtree is kept; a target above readable subtrees (the root,
    ``viking://user``) becomes those subtrees; a target with no readable part is refused with
    :class:`PermissionDeniedError`, as reading it would be. The answer never covers another
    user's space, and holds ``viking://`` only for ROOT.
    """
    roots = readable_roots(ctx)
    found: list[VikingURI] = []
    for target in targets or (VikingURI(""),):
        parts = [
            target if root.is_ancestor_of(target) else root
            for root in roots
            if root.is_ancestor_of(target) or target.is_ancestor_of(root)
        ]
        if not parts:
            raise _deny(target, "another user's space")
        found.extend(p for p in parts if p not in found)
    return tuple(
        p for p in found if not any(q != p and q.is_ancestor_of(p, strict=True) for q in found)
    )


def described_uri(text: str) -> VikingURI | None:
    """The URI a result names (a directory for its ``/.abstract.md`` or ``/.overview.md``
    hit), or ``None`` when ``text`` is not a canonical stored URI."""
    for suffix in _SIDECAR_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            text = "viking://" if text == "viking:/" else text
            break
    try:
        uri = parse_uri(text)
    except OpenVikingError:
        return None
    return None if uri.scope in ("~", "session") else uri


def can_read_uri(ctx: RequestContext, text: str) -> bool:
    """:func:`can_read` for a URI as a result carries it; anything unparsable is refused."""
    uri = described_uri(text)
    return uri is not None and can_read(ctx, uri)


def readable(ctx: RequestContext, items: Iterable[T], uri_of: Callable[[T], str]) -> list[T]:
    """The items whose URI (``uri_of(item)``) ``ctx`` may read, in order: the read filter
    every answer that lists URIs goes through."""
    return [item for item in items if can_read_uri(ctx, uri_of(item))]


def is_shared(uri: VikingURI) -> bool:
    """Whether ``uri`` is in a scope all users of the account share."""
    return uri.scope in SHARED_SCOPES


def check_owner(ctx: RequestContext, uri: VikingURI, owners: Iterable[str]) -> None:
    """The owner rule for removing, moving or replacing ``uri``: ``owners`` are the users who
    created ``uri`` or anything below it (:data:`ACCOUNT_OWNER` for data no user created).

    A USER may only do it when they alone created all of it; ADMIN and ROOT always may; user
    spaces are not shared, so the rule does not apply there.
    """
    if ctx.is_admin or not is_shared(uri):
        return
    others = sorted({o for o in owners if o != ctx.user_id})
    if others:
        who = "the account" if others == [ACCOUNT_OWNER] else "another user or the account"
        raise PermissionDeniedError(
            f"Access denied for {uri.uri}: created by {who}; only its creator, an ADMIN or "
            "ROOT may remove, move or replace it",
            {"resource": uri.uri, "reason": "not_owner"},
        )


def check_access(ctx: RequestContext, uri: VikingURI, *, mutate: bool = False) -> None:
    """Raise :class:`PermissionDeniedError` unless ``ctx`` may read (or ``mutate``) ``uri``."""
    parts = uri.parts
    if not can_read(ctx, uri):
        outside = key_prefix_uri(ctx) is not None
        raise _deny(uri, "outside this API key's URI prefix" if outside else "another user's space")
    if not mutate:
        return
    check_scope(ctx, "write", f"changing {uri.uri}")
    if is_structural(uri):
        raise _deny(uri, "namespace roots cannot be changed")
    if parts[0] == "agent" and parts[1] != "skills":
        raise _deny(uri, "only viking://agent/skills/ is writable under agent")
    if parts[0] == "user" and len(parts) >= 3 and parts[2] in MANAGED_USER_AREAS:
        raise _deny(uri, f"'{parts[2]}' is managed by its own API")


def visible_user_ids(ctx: RequestContext, user_ids: list[str]) -> list[str]:
    """Which entries of ``viking://user`` the caller may see listed."""
    return [u for u in user_ids if can_read(ctx, VikingURI("user", (u,)))]
