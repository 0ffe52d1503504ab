"""Who is asking: account, user and role of a request, and the API-key format.

Keys have the shape ``b64url(account).b64url(user).b64url(secret)`` (no padding). Only a salted
scrypt hash of the secret is stored; comparison is constant-time. A user's main key has a
64-hex-char secret; a named (scoped) key's secret is ``ak_<key_id>_<64 hex chars>``, so the key
lookup finds its row by id without trying every key of the user.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    UnauthenticatedError,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_USER",
    "KEY_SCOPES",
    "KeyHash",
    "ParsedKey",
    "RequestContext",
    "Role",
    "format_key",
    "generate_key",
    "generate_named_key",
    "hash_secret",
    "named_key_id",
    "parse_key",
    "validate_identifier",
    "verify_secret",
]

DEFAULT_ACCOUNT = "default"
DEFAULT_USER = "default"

#: What a named key may be allowed: reading, writing and the ADMIN role's operations.
KEY_SCOPES: tuple[str, ...] = ("read", "write", "admin")
_NAMED_MARK = "ak_"
_NAMED_RE = re.compile(r"^ak_([0-9a-f]{12})_[0-9a-f]{64}$")

_IDENT_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")

# scrypt cost: ~16 MiB and a few tens of milliseconds per check. Verified keys are cached by the
# account store, so this is paid once per key and process, not per request.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1


class Role(StrEnum):
    """Roles, highest first. ROOT is the server's own identity, never an account user."""

    ROOT = "root"
    ADMIN = "admin"
    USER = "user"

    @property
    def rank(self) -> int:
        return {Role.ROOT: 2, Role.ADMIN: 1, Role.USER: 0}[self]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The identity every service call runs as.

    ``actor_peer_id`` is a view filter over the caller's ``peers/`` collection, not an identity.
    ``scopes``, ``uri_prefix`` and ``key_id`` describe a named key: ``scopes`` ``None`` is
    every scope (the main key, embedded callers, ROOT); ``uri_prefix`` a canonical
    ``viking://`` URI outside which nothing is visible (:mod:`openviking_mcp.contract.access`).
    ``oauth_token``: the caller came with an OAuth access token (which may not create keys).
    """

    account_id: str = DEFAULT_ACCOUNT
    user_id: str = DEFAULT_USER
    role: Role = Role.USER
    actor_peer_id: str | None = field(default=None)
    scopes: frozenset[str] | None = field(default=None)
    uri_prefix: str | None = field(default=None)
    key_id: str | None = field(default=None)
    oauth_token: bool = field(default=False)

    @property
    def is_root(self) -> bool:
        return self.role is Role.ROOT

    @property
    def is_admin(self) -> bool:
        """ADMIN or ROOT, through a key that carries the ``admin`` scope."""
        return self.role.rank >= Role.ADMIN.rank and self.has_scope("admin")

    @property
    def is_scoped(self) -> bool:
        """Whether the caller came with a named key (limited scopes or a prefix)."""
        return self.scopes is not None or self.uri_prefix is not None

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    @classmethod
    def root(cls, account_id: str = DEFAULT_ACCOUNT) -> RequestContext:
        return cls(account_id=account_id, user_id=DEFAULT_USER, role=Role.ROOT)

    def in_account(self, account_id: str | None, what: str = "data") -> RequestContext:
        """This caller for its own account (or none named); ROOT acting in ``account_id``;
        :class:`PermissionDeniedError` for anyone else naming another account."""
        if not account_id or account_id == self.account_id:
            return self
        if not self.is_root:
            raise PermissionDeniedError(
                f"Only ROOT may look at another account's {what}", {"account_id": account_id}
            )
        return RequestContext.root(validate_identifier(account_id, "account_id"))


def validate_identifier(value: str, kind: str = "user_id") -> str:
    """Check an account, user or peer id: ``[A-Za-z0-9_.@-]``, not ``.``/``..``, one ``@`` at most.

    Account ids may not start with ``_`` (reserved for system data).
    """
    if (
        not isinstance(value, str)
        or not _IDENT_RE.match(value)
        or value in (".", "..")
        or value.count("@") > 1
        or (kind == "account_id" and value.startswith("_"))
    ):
        raise InvalidArgumentError(
            f"Invalid {kind}: {value!r}", {"field": kind, "value": str(value)}
        )
    return value


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class ParsedKey:
    account_id: str
    user_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class KeyHash:
    """What is stored for a key: salt and scrypt digest (hex), plus a display prefix."""

    salt: str
    digest: str
    prefix: str


def generate_key(account_id: str, user_id: str) -> tuple[str, str]:
    """A new random key for a user: ``(full_key, secret)``. The secret is 64 hex chars."""
    secret = secrets.token_hex(32)
    return format_key(account_id, user_id, secret), secret


def generate_named_key(account_id: str, user_id: str) -> tuple[str, str, str]:
    """A new named key: ``(full_key, key_id, secret)``; the secret names the key id."""
    key_id = secrets.token_hex(6)
    secret = f"{_NAMED_MARK}{key_id}_{secrets.token_hex(32)}"
    return format_key(account_id, user_id, secret), key_id, secret


def named_key_id(secret: str) -> str | None:
    """The key id a named key's secret carries, or ``None`` for a main key's secret."""
    match = _NAMED_RE.match(secret)
    return match.group(1) if match else None


def format_key(account_id: str, user_id: str, secret: str) -> str:
    return ".".join(_b64e(part.encode("utf-8")) for part in (account_id, user_id, secret))


def parse_key(key: str) -> ParsedKey:
    """Split a user key into its parts; anything malformed is :class:`UnauthenticatedError`."""
    parts = key.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise UnauthenticatedError("Invalid API Key")
    try:
        account, user, secret = (_b64d(p).decode("utf-8") for p in parts)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise UnauthenticatedError("Invalid API Key") from exc
    if not account or not user or not secret:
        raise UnauthenticatedError("Invalid API Key")
    return ParsedKey(account, user, secret)


def hash_secret(secret: str, salt: bytes | None = None) -> KeyHash:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return KeyHash(salt=salt.hex(), digest=digest.hex(), prefix=secret[:8])


def verify_secret(secret: str, stored: KeyHash) -> bool:
    """Constant-time check of a secret against its stored hash."""
    try:
        salt = bytes.fromhex(stored.salt)
    except ValueError:
        return False
    candidate = hash_secret(secret, salt)
    return hmac.compare_digest(candidate.digest, stored.digest)
