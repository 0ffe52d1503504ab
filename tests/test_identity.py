from __future__ import annotations

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError, UnauthenticatedError
from openviking_mcp.contract.identity import (
    Role,
    format_key,
    generate_key,
    hash_secret,
    parse_key,
    validate_identifier,
    verify_secret,
)


def test_key_format_is_three_b64url_parts_without_padding() -> None:
    key, secret = generate_key("acme", "alice@example.com")
    parts = key.split(".")
    assert len(parts) == 3
    assert "=" not in key
    assert len(secret) == 64
    parsed = parse_key(key)
    assert (parsed.account_id, parsed.user_id, parsed.secret) == (
        "acme",
        "alice@example.com",
        secret,
    )


@pytest.mark.parametrize("bad", ["", "abc", "a.b", "a..b", "!!!.???.###", "a.b.c.d"])
def test_malformed_keys_are_unauthenticated(bad: str) -> None:
    with pytest.raises(UnauthenticatedError):
        parse_key(bad)


def test_hash_is_salted_and_verifies_only_the_right_secret() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first.salt != second.salt
    assert first.digest != second.digest
    assert "s3cret" not in first.digest
    assert verify_secret("s3cret", first)
    assert not verify_secret("s3cret!", first)


def test_format_key_round_trips_unicode() -> None:
    key = format_key("acct", "ünï", "sec")
    assert parse_key(key).user_id == "ünï"


@pytest.mark.parametrize("ok", ["default", "alice", "a.b-c_d", "bob@corp"])
def test_valid_identifiers(ok: str) -> None:
    assert validate_identifier(ok) == ok


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a b", "a@b@c", "ü"])
def test_invalid_identifiers(bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        validate_identifier(bad)


def test_account_ids_may_not_start_with_underscore() -> None:
    assert validate_identifier("_x", "user_id") == "_x"
    with pytest.raises(InvalidArgumentError):
        validate_identifier("_system", "account_id")


def test_role_ranks() -> None:
    assert Role.ROOT.rank > Role.ADMIN.rank > Role.USER.rank
