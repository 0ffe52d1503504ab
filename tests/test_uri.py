from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    InvalidURIError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.uri import (
    MAX_URI_BYTES,
    MAX_URI_SEGMENTS,
    VikingURI,
    context_type_of,
    expand_path_variables,
    parse_uri,
    resolve_uri,
)
from openviking_mcp.storage import LocalContentStore

ALICE = RequestContext("acme", "alice", Role.USER)
ROOT = RequestContext.root("acme")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("viking://", "viking://"),
        ("viking:///", "viking://"),
        ("viking://resources/", "viking://resources"),
        ("viking://resources//proj///a.md", "viking://resources/proj/a.md"),
        ("viking://resources/proj?x=1", "viking://resources/proj"),
        ("  viking://agent/skills  ", "viking://agent/skills"),
        ("viking://~", "viking://user/alice"),
        ("viking://~/memories/profile.md", "viking://user/alice/memories/profile.md"),
        ("viking://session/s1", "viking://user/alice/sessions/s1"),
        ("viking://resources/~/x", "viking://resources/~/x"),
        ("viking://user/alice/resources", "viking://user/alice/resources"),
        ("viking://resources/日本語/ファイル.md", "viking://resources/日本語/ファイル.md"),
    ],
)
def test_canonical_forms(raw: str, canonical: str) -> None:
    assert resolve_uri(raw, ALICE).uri == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("resources/x", "must start with 'viking://'"),
        ("http://resources/x", "must start with 'viking://'"),
        ("viking://temp/x", "Invalid scope 'temp'"),
        ("viking://queue", "Invalid scope 'queue'"),
        ("viking://foo/bar", "Must be one of: agent, resources, session, user"),
        ("viking://user/memories/x", "viking://~/memories/x"),
        ("viking://user/bad user/x", "Invalid user_id"),
        ("viking://resources/a\x00b", "control characters"),
        ("viking://resources/a\x1fb", "control characters"),
        ("viking://resources/a\x7f", "control characters"),
        ("viking://resources/" + "x" * 300, "longer than 255 bytes"),
        ("viking://resources/" + "\U0001f600" * 64, "longer than 255 bytes"),  # 256 bytes
        ("viking://resources/" + "\u00e9" * 128, "longer than 255 bytes"),  # 256 bytes
        ("viking://resources/ /x", "whitespace"),
        ("viking://resources/a /x", "whitespace"),
        ("viking://resources/\u00a0a/", "whitespace"),
    ],
)
def test_bad_uris_raise_invalid_uri_with_details(raw: str, reason: str) -> None:
    with pytest.raises(InvalidURIError) as info:
        resolve_uri(raw, ALICE)
    assert reason in info.value.details["reason"]
    assert set(info.value.details) - {"uri", "reason"} <= {"max_segment_bytes", "segment_bytes"}
    assert info.value.http_status == 400


@pytest.mark.parametrize(
    "raw",
    [
        "viking://resources/../x",
        "viking://resources/./x",
        "viking://..",
        "viking://resources/a/../../b",
        "viking://resources/a\\b",
        "viking://resources/C:",
        "viking://resources/c:\\windows",
        "viking://~/..",
    ],
)
def test_traversal_is_permission_denied(raw: str) -> None:
    with pytest.raises(PermissionDeniedError):
        resolve_uri(raw, ALICE)


def test_home_alias_and_session_rejected_for_root() -> None:
    for raw in ("viking://~/x", "viking://session/s"):
        with pytest.raises(InvalidURIError, match="not canonical"):
            resolve_uri(raw, ROOT)


def test_root_may_use_explicit_user_paths_even_reserved_names() -> None:
    assert resolve_uri("viking://user/memories", ROOT).uri == "viking://user/memories"


def test_user_literally_named_like_a_reserved_segment_keeps_explicit_path() -> None:
    ctx = RequestContext("acme", "memories", Role.USER)
    assert resolve_uri("viking://user/memories/x", ctx).uri == "viking://user/memories/x"


NOW = datetime(2026, 5, 7, 12, 0)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("today", "2026/05/07"),
        ("yesterday", "2026/05/06"),
        ("tomorrow", "2026/05/08"),
        ("year", "2026"),
        ("month", "05"),
        ("day", "07"),
        ("ym", "2026/05"),
        ("quarter", "Q2"),
        ("yq", "2026/Q2"),
        ("week", "19"),
        ("yw", "2026/w19"),
    ],
)
def test_calendar_variables(var: str, value: str) -> None:
    assert expand_path_variables(f"viking://~/memories/events/{{calendar:{var}}}", NOW).endswith(
        value
    )


def test_variables_are_expanded_before_validation() -> None:
    uri = resolve_uri("viking://~/memories/events/{calendar:today}/e.md", ALICE, now=NOW)
    assert uri.uri == "viking://user/alice/memories/events/2026/05/07/e.md"


@pytest.mark.parametrize("raw", ["viking://~/{calendar:nope}", "viking://~/{weather:today}"])
def test_unknown_variables_are_invalid_argument_not_invalid_uri(raw: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        resolve_uri(raw, ALICE)
    assert not isinstance(info.value, InvalidURIError)


def test_context_type_is_derived_from_the_path() -> None:
    def ctype(raw: str) -> str:
        return context_type_of(resolve_uri(raw, ALICE))

    assert ctype("viking://~/memories/profile.md") == "memory"
    assert ctype("viking://~/peers/bob/memories/x.md") == "memory"
    assert ctype("viking://~/skills/s") == "skill"
    assert ctype("viking://agent/skills/s/SKILL.md") == "skill"
    assert ctype("viking://resources/doc") == "resource"
    assert ctype("viking://~/sessions/s1") == "resource"


def test_uri_helpers() -> None:
    uri = parse_uri("viking://resources/a/b.md")
    assert uri.name == "b.md"
    assert uri.parent == VikingURI("resources", ("a",))
    assert VikingURI("resources").parent == VikingURI("")
    assert VikingURI("").parent is None
    assert VikingURI("resources").is_ancestor_of(uri)
    assert not uri.is_ancestor_of(VikingURI("resources"))
    assert uri.relative_to(VikingURI("resources")) == "a/b.md"
    with pytest.raises(PermissionDeniedError):
        VikingURI("resources").join("../x")


# -- property-based --------------------------------------------------------------------------

_segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\?#{"),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", "..") and not (len(s) >= 2 and s[1] == ":") and s == s.strip())
_scope = st.sampled_from(["resources", "agent", "user/alice", "~", "session"])


@settings(max_examples=300, deadline=None)
@given(_scope, st.lists(_segment, max_size=6), st.booleans())
def test_generated_uris_round_trip(scope: str, segments: list[str], trailing: bool) -> None:
    raw = "viking://" + "/".join([scope, *segments]) + ("/" if trailing else "")
    first = resolve_uri(raw, ALICE)
    again = resolve_uri(first.uri, ALICE)
    assert again == first
    assert first.uri == str(first)
    assert not first.uri.endswith("/") or first.is_root


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80), st.text(max_size=40))
def test_no_generated_string_escapes_the_account_root(
    tmp_path: Path, prefix: str, tail: str
) -> None:
    store = LocalContentStore(tmp_path)
    account_root = os.path.realpath(store.root / ALICE.account_id)
    for raw in (prefix, "viking://" + prefix, "viking://resources/" + tail, "viking://~/" + tail):
        try:
            uri = resolve_uri(raw, ALICE)
        except OpenVikingError:
            continue
        assert resolve_uri(uri.uri, ALICE) == uri  # whatever resolves is canonical
        key = "/".join((ALICE.account_id, *uri.parts))
        path = os.path.realpath(store.path_for(key))
        assert path == account_root or path.startswith(account_root + os.sep)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        (
            "viking://resources/" + "/".join(["a"] * 1000),
            {"max_bytes": MAX_URI_BYTES, "bytes": len("viking://resources/") + 1999},
        ),
        (
            "viking://resources/" + "/".join(["a"] * MAX_URI_SEGMENTS),
            {"max_segments": MAX_URI_SEGMENTS, "segments": MAX_URI_SEGMENTS + 1},
        ),
        ("viking://resources/" + "é" * 600, {"max_bytes": MAX_URI_BYTES}),
        ("viking://resources/" + "x" * 256, {"max_segment_bytes": 255, "segment_bytes": 256}),
    ],
)
def test_size_limits_are_invalid_uri_with_the_limit(raw: str, limits: dict[str, int]) -> None:
    with pytest.raises(InvalidURIError) as info:
        resolve_uri(raw, ALICE)
    assert info.value.details.items() >= limits.items()
    assert len(info.value.details["uri"]) <= 130  # a long URI is not echoed whole
    assert len(info.value.message) <= 250


def test_the_limits_themselves_are_accepted() -> None:
    deepest = "viking://resources/" + "/".join(["a"] * (MAX_URI_SEGMENTS - 1))
    assert len(resolve_uri(deepest, ALICE).parts) == MAX_URI_SEGMENTS
    longest = "viking://resources/" + "/".join(["x" * 200] * 4)
    longest += "/" + "y" * (MAX_URI_BYTES - len(longest) - 1)
    assert len(longest.encode()) == MAX_URI_BYTES
    assert resolve_uri(longest, ALICE).uri == longest
    base = resolve_uri(deepest, ALICE)
    with pytest.raises(InvalidURIError) as info:
        base.join("one-more")
    assert info.value.details["max_segments"] == MAX_URI_SEGMENTS


def test_lone_surrogates_are_invalid_uri() -> None:
    with pytest.raises(InvalidURIError):
        resolve_uri("viking://resources/\ud800", ALICE)
