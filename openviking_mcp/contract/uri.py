"""``viking://`` URIs: parse, expand path variables, validate, canonicalise, resolve aliases.

Shape: ``viking://{scope}/{path...}`` with the public scopes ``resources``, ``user``, ``agent`` and
``session`` (a legacy alias of ``viking://user/{caller}/sessions``), plus the home alias ``~``
(``viking://~/x`` is ``viking://user/{caller}/x``). The root ``viking://`` is valid too.

Canonical form has no trailing slash and no empty segments; a query string is ignored.
``.``/``..`` segments, backslashes and drive letters are refused with ``PermissionDeniedError``:
no URI can name a place outside its account.

Size limits are checked before anything else looks at a URI, so that no later step (path
joins, recursion over the parts) works on an unbounded input: at most :data:`MAX_URI_BYTES`
UTF-8 bytes, :data:`MAX_URI_SEGMENTS` segments after the scheme and :data:`MAX_SEGMENT_BYTES`
bytes per segment. Breaking one is ``INVALID_URI`` (400) with the limit in ``details``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    InvalidURIError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext, validate_identifier

__all__ = [
    "MAX_SEGMENT_BYTES",
    "MAX_URI_BYTES",
    "MAX_URI_SEGMENTS",
    "PUBLIC_SCOPES",
    "RESERVED_USER_SEGMENTS",
    "SCHEME",
    "VikingURI",
    "context_type_of",
    "expand_path_variables",
    "parse_uri",
    "resolve_uri",
]

SCHEME = "viking://"
#: Scopes a caller may name (``~`` is accepted but never advertised).
PUBLIC_SCOPES = ("agent", "resources", "session", "user")
#: Scopes that exist after alias resolution.
_STORED_SCOPES = frozenset({"agent", "resources", "user"})
#: First-level folders of a user space; ``viking://user/memories`` without a user id is a mistake.
RESERVED_USER_SEGMENTS = frozenset(
    {"memories", "resources", "skills", "peers", "privacy", "sessions"}
)

_VAR_RE = re.compile(r"\{([A-Za-z_]+):([A-Za-z_]+)\}")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: Longest URI, in UTF-8 bytes (query string included).
MAX_URI_BYTES = 1024
#: Most segments after ``viking://`` (the scope counts as one).
MAX_URI_SEGMENTS = 64
#: Longest segment, in UTF-8 bytes (the usual filesystem name limit).
MAX_SEGMENT_BYTES = 255
_SHOWN_CHARS = 120


@dataclass(frozen=True, slots=True, order=True)
class VikingURI:
    """A validated, canonical URI. ``scope`` is ``""`` for the root ``viking://``."""

    scope: str
    segments: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.uri

    @property
    def uri(self) -> str:
        if not self.scope:
            return SCHEME
        return SCHEME + "/".join((self.scope, *self.segments))

    @property
    def parts(self) -> tuple[str, ...]:
        """Scope plus segments: the path below the account root."""
        return (self.scope, *self.segments) if self.scope else ()

    @property
    def is_root(self) -> bool:
        return not self.scope

    @property
    def name(self) -> str:
        """Last path component (the scope for a scope root, ``""`` for the root)."""
        parts = self.parts
        return parts[-1] if parts else ""

    @property
    def parent(self) -> VikingURI | None:
        """The containing URI, or ``None`` for the root."""
        if not self.scope:
            return None
        if not self.segments:
            return VikingURI("")
        return VikingURI(self.scope, self.segments[:-1])

    def join(self, *names: str) -> VikingURI:
        """A child URI. Each name is validated like any other segment."""
        extra: list[str] = []
        for name in names:
            extra.extend(s for s in name.split("/") if s)
        raw = self.uri + "/" + "/".join(extra)
        _check_size(raw, len(self.parts) + len(extra))
        for seg in extra:
            _check_segment(seg, raw)
        parts = (*self.parts, *extra)
        if not parts:
            return self
        return VikingURI(parts[0], tuple(parts[1:]))

    def is_ancestor_of(self, other: VikingURI, *, strict: bool = False) -> bool:
        """True if ``other`` is this URI or lies below it (``strict`` excludes equality)."""
        mine, theirs = self.parts, other.parts
        if strict and mine == theirs:
            return False
        return theirs[: len(mine)] == mine

    def relative_to(self, ancestor: VikingURI) -> str:
        """Path of this URI below ``ancestor`` (``""`` when equal)."""
        if not ancestor.is_ancestor_of(self):
            raise ValueError(f"{self.uri} is not below {ancestor.uri}")
        return "/".join(self.parts[len(ancestor.parts) :])


def expand_path_variables(text: str, now: datetime | None = None) -> str:
    """Expand ``{calendar:...}`` variables (``today`` → ``2026/05/07``, ``yq`` → ``2026/Q2``...).

    Unknown variables raise :class:`InvalidArgumentError` (not ``INVALID_URI``, as the original).
    """
    if "{" not in text:
        return text
    current = now or datetime.now().astimezone()

    def _sub(match: re.Match[str]) -> str:
        namespace, key = match.group(1), match.group(2)
        if namespace != "calendar":
            raise InvalidArgumentError(
                f"Unknown path variable namespace: {{{namespace}:{key}}}",
                {"variable": match.group(0)},
            )
        value = _calendar_value(key, current)
        if value is None:
            raise InvalidArgumentError(
                f"Unknown path variable: {{{namespace}:{key}}}", {"variable": match.group(0)}
            )
        return value

    return _VAR_RE.sub(_sub, text)


def _calendar_value(key: str, now: datetime) -> str | None:
    quarter = f"Q{(now.month - 1) // 3 + 1}"
    iso_year, iso_week, _ = now.isocalendar()
    values = {
        "today": now.strftime("%Y/%m/%d"),
        "yesterday": (now - timedelta(days=1)).strftime("%Y/%m/%d"),
        "tomorrow": (now + timedelta(days=1)).strftime("%Y/%m/%d"),
        "year": now.strftime("%Y"),
        "month": now.strftime("%m"),
        "day": now.strftime("%d"),
        "ym": now.strftime("%Y/%m"),
        "quarter": quarter,
        "yq": f"{now.year}/{quarter}",
        "week": f"{iso_week:02d}",
        "yw": f"{iso_year}/w{iso_week:02d}",
    }
    return values.get(key)


def _shown(raw: str) -> str:
    """``raw`` cut to a readable length for messages and details."""
    return raw if len(raw) <= _SHOWN_CHARS else raw[:_SHOWN_CHARS] + "..."


def _too_big(raw: str, reason: str, **limits: int) -> InvalidURIError:
    exc = InvalidURIError(_shown(raw), reason)
    exc.details.update(limits)
    return exc


def _check_size(raw: str, segments: int | None = None) -> None:
    """Refuse a URI over :data:`MAX_URI_BYTES` or :data:`MAX_URI_SEGMENTS` (and one holding
    lone surrogates, which no storage can name)."""
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        shown = _shown(raw.encode("utf-8", "replace").decode())
        raise InvalidURIError(shown, "not valid Unicode") from None
    if size > MAX_URI_BYTES:
        raise _too_big(
            raw, f"URI longer than {MAX_URI_BYTES} bytes", max_bytes=MAX_URI_BYTES, bytes=size
        )
    if segments is None:
        segments = raw.count("/")  # an upper bound of the segments, checked before splitting
        if segments <= MAX_URI_SEGMENTS:
            return
        body = raw[len(SCHEME) :] if raw.startswith(SCHEME) else raw
        segments = sum(1 for s in body.split("?", 1)[0].split("#", 1)[0].split("/") if s)
    if segments > MAX_URI_SEGMENTS:
        raise _too_big(
            raw,
            f"URI deeper than {MAX_URI_SEGMENTS} segments",
            max_segments=MAX_URI_SEGMENTS,
            segments=segments,
        )


def _check_segment(seg: str, raw: str) -> None:
    if seg in (".", "..") or "\\" in seg or _DRIVE_RE.match(seg):
        raise PermissionDeniedError(
            f"Unsafe URI traversal segment: {seg!r}", {"uri": raw, "segment": seg}
        )
    if _CONTROL_RE.search(seg):
        raise InvalidURIError(raw, "control characters are not allowed")
    if seg != seg.strip():
        raise InvalidURIError(raw, "path segments may not start or end with whitespace")
    if len(seg) * 4 <= MAX_SEGMENT_BYTES:  # at most 4 UTF-8 bytes a character: short enough
        return
    size = len(seg.encode("utf-8"))
    if size > MAX_SEGMENT_BYTES:
        raise _too_big(
            raw,
            f"path segment longer than {MAX_SEGMENT_BYTES} bytes",
            max_segment_bytes=MAX_SEGMENT_BYTES,
            segment_bytes=size,
        )


def _split(raw: str, field: str) -> tuple[str, list[str]]:
    """Syntax checks shared by :func:`parse_uri` and :func:`resolve_uri`."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidURIError(str(raw or ""), f"{field} must not be empty")
    text = raw.strip()
    _check_size(text)
    if not text.startswith(SCHEME):
        raise InvalidURIError(_shown(text), "URI must start with 'viking://'")
    body = text[len(SCHEME) :].split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in body.split("/") if s]
    for seg in segments:
        _check_segment(seg, text)
    return text, segments


def parse_uri(raw: str, *, field: str = "uri") -> VikingURI:
    """Parse a URI without an identity: aliases (``~``, ``session``) are kept as written.

    Use :func:`resolve_uri` for anything that touches storage.
    """
    if isinstance(raw, str) and len(raw) <= _CACHED_LENGTH:  # results name the same URIs often
        return _parse_cached(raw, field)
    return _parse(raw, field)


#: URIs up to this length are parsed once (the cache holds :data:`_CACHED_URIS` of them; a
#: rejected URI is never cached: its error is raised again each time).
_CACHED_LENGTH = 512
_CACHED_URIS = 8192


def _parse(raw: str, field: str) -> VikingURI:
    text, segments = _split(raw, field)
    if not segments:
        return VikingURI("")
    scope = segments[0]
    if scope not in PUBLIC_SCOPES and scope != "~":
        raise InvalidURIError(
            text, f"Invalid scope '{scope}'. Must be one of: {', '.join(PUBLIC_SCOPES)}"
        )
    return VikingURI(scope, tuple(segments[1:]))


_parse_cached = lru_cache(maxsize=_CACHED_URIS)(_parse)


def resolve_uri(
    raw: str | VikingURI,
    ctx: RequestContext,
    *,
    field: str = "uri",
    now: datetime | None = None,
) -> VikingURI:
    """Expand variables, validate and resolve aliases for the caller ``ctx``.

    The result only has the stored scopes ``resources``, ``user`` and ``agent`` (or is the root).
    """
    if isinstance(raw, VikingURI):
        raw = raw.uri
    if isinstance(raw, str) and "{" in raw:
        raw = expand_path_variables(raw, now)
    parsed = parse_uri(raw, field=field)
    text = raw.strip()
    scope, segs = parsed.scope, parsed.segments
    if scope in ("~", "session"):
        if ctx.is_root:
            raise InvalidURIError(
                text, "Home alias URI is not canonical for ROOT; use viking://user/{user_id}/..."
            )
        base = ("sessions",) if scope == "session" else ()
        return VikingURI("user", (ctx.user_id, *base, *segs))
    if scope == "user" and segs:
        first = segs[0]
        if not ctx.is_root and first in RESERVED_USER_SEGMENTS and first != ctx.user_id:
            raise InvalidURIError(
                text, f"missing user id; use viking://~/{'/'.join(segs)} for your own space"
            )
        try:
            validate_identifier(first, "user_id")
        except InvalidArgumentError as exc:
            raise InvalidURIError(text, f"Invalid user_id: {first}") from exc
    assert scope in _STORED_SCOPES or not scope
    return parsed


def context_type_of(uri: VikingURI) -> str:
    """``memory``, ``skill`` or ``resource``, derived purely from the path."""
    parts = uri.parts
    if len(parts) >= 3 and parts[0] == "user":
        if parts[2] == "memories":
            return "memory"
        if parts[2] == "skills":
            return "skill"
        if len(parts) >= 5 and parts[2] == "peers" and parts[4] == "memories":
            return "memory"
    if len(parts) >= 2 and parts[0] == "agent" and parts[1] == "skills":
        return "skill"
    return "resource"
