"""Rule-based secret detection for skill content (the privacy pass of an add, without an LLM).

:func:`find_secrets` finds well-known credential formats (OpenAI, Anthropic, GitHub, AWS,
Slack, Google, Stripe, JWTs, PEM private keys), secret-looking assignments
(``password: ...``, ``api_key = "..."``, ``token=...``), ``Authorization: Bearer ...`` headers
and passwords in URLs (``https://user:pass@host``). Placeholders (``<your-key>``,
``${API_KEY}``, ``xxx``, ``****``, ``your_api_key_here``), values shorter than 8 characters,
code references (``os.environ["X"]``, ``config.token``) and, for assignments, single-class
words (``required``, ``12345678``) are not secrets.

:func:`redact` replaces each distinct secret by ``{{ov_privacy:skill:{name}:secret_N}}`` and
returns the mapping that :func:`restore` puts back. A privacy config may hold any JSON value:
:func:`restore` writes a string as it is and any other value as compact JSON (``null`` leaves
the placeholder in place: the secret is missing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

__all__ = [
    "MIN_SECRET_LENGTH",
    "Secret",
    "find_secrets",
    "placeholder",
    "redact",
    "restore",
    "secret_text",
]

MIN_SECRET_LENGTH = 8
_VALUE_GROUPS = ("v", "dq", "sq", "bare")
_PLACEHOLDER_MARKERS = (
    "xxx", "***", "...", "<", ">", "${", "{{", "}}", "%(", "your", "example", "placeholder",
    "changeme", "change_me", "change-me", "dummy", "redacted", "replace", "insert",
)  # fmt: skip
_ENV_REFERENCE = re.compile(r"^(?:\$\w+|\$\{\w+\}|%\w+%)$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_CODE_REFERENCE = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
_REPEATED = re.compile(r"(.)\1{5,}")


class Secret(NamedTuple):
    """One secret found in a text: its value, the rule that found it and its span."""

    value: str
    kind: str
    start: int
    end: int


def _is_placeholder(value: str) -> bool:
    lower = value.lower()
    return (
        len(value) < MIN_SECRET_LENGTH
        or any(marker in lower for marker in _PLACEHOLDER_MARKERS)
        or bool(_ENV_REFERENCE.match(value))
        or len(set(lower)) <= 3
        or bool(_REPEATED.search(lower))
    )


def _is_token(value: str) -> bool:
    """A value of a well-known format: only placeholders are excluded."""
    return not _is_placeholder(value)


def _is_generic(value: str) -> bool:
    """A value found by its key (``password: ...``): also not code, not an environment
    variable's name, and made of at least two character classes."""
    if _is_placeholder(value) or "(" in value or "[" in value or value.startswith("$"):
        return False
    if _ENV_NAME.match(value) or _CODE_REFERENCE.match(value):
        return False
    classes = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )
    return classes >= 2


def _is_pem(value: str) -> bool:
    body = re.sub(r"-----[A-Z ]+-----|\s", "", value)
    return len(body) >= 32 and not _is_placeholder(body)


_SECRET_KEY = (
    r"[A-Za-z0-9_.-]*?(?:password|passwd|pwd|secret|api[_-]?key|apikey|token|"
    r"access[_-]?key|private[_-]?key|credentials?)s?"
)
_VALUE = r"""(?:"(?P<dq>[^"\n]+)"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s"',;`]+))"""

# In priority order: where two rules overlap, the earlier one wins.
_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?P<label>[A-Z ]*PRIVATE KEY(?: BLOCK)?)-----"
            r"[\s\S]{0,65536}?-----END (?P=label)-----"
        ),
        _is_pem,
    ),
    ("anthropic_api_key", re.compile(r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}"), _is_token),
    (
        "openai_api_key",
        re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        _is_token,
    ),
    (
        "github_token",
        re.compile(r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        _is_token,
    ),
    (
        "aws_access_key_id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])"),
        _is_token,
    ),
    (
        "aws_secret_access_key",
        re.compile(
            r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?"
            r"(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        _is_token,
    ),
    ("slack_token", re.compile(r"(?<![\w-])xox[baprs]-[A-Za-z0-9-]{10,}"), _is_token),
    ("google_api_key", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"), _is_token),
    ("stripe_key", re.compile(r"(?<![\w-])(?:sk|rk)_live_[0-9A-Za-z]{16,}"), _is_token),
    (
        "jwt",
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        _is_token,
    ),
    (
        "authorization_header",
        re.compile(
            r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer|token|basic)\s+"
            r"(?P<v>[A-Za-z0-9._~+/=-]+)"
        ),
        _is_generic,
    ),
    (
        "url_password",
        re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:(?P<v>[^\s@/]+)@"),
        _is_generic,
    ),
    (
        "assignment",
        re.compile(rf"(?i)(?<![A-Za-z0-9])(?P<key>{_SECRET_KEY})[\"']?\s*(?::=|=>|:|=)\s*{_VALUE}"),
        _is_generic,
    ),
)


def _value_span(match: re.Match[str]) -> tuple[int, int]:
    for group in _VALUE_GROUPS:
        if group in match.re.groupindex and match.group(group) is not None:
            start, end = match.span(group)
            if group == "bare":
                # An unquoted value at the end of a sentence: the full stop is not part of it.
                end = start + len(match.group(group).rstrip(".:)"))
            return start, end
    return match.span()


def find_secrets(text: str) -> list[Secret]:
    """The secrets in ``text``, in order of position, never overlapping."""
    accepted: list[Secret] = []
    for kind, pattern, check in _RULES:
        for match in pattern.finditer(text):
            start, end = _value_span(match)
            value = text[start:end]
            if not check(value):
                continue
            if any(start < s.end and s.start < end for s in accepted):
                continue
            accepted.append(Secret(value, kind, start, end))
    return sorted(accepted, key=lambda s: s.start)


def placeholder(name: str, field: str) -> str:
    """``{{ov_privacy:skill:{name}:{field}}}``, the stand-in stored instead of a secret."""
    return f"{{{{ov_privacy:skill:{name}:{field}}}}}"


def redact(text: str, name: str) -> tuple[str, dict[str, str]]:
    """``text`` with every secret replaced by a placeholder of skill ``name``, and the
    ``{placeholder: value}`` mapping. Equal values share one placeholder; numbering continues
    after any ``secret_N`` placeholder of that skill already in ``text``."""
    existing = re.findall(re.escape(placeholder(name, "secret_")[:-2]) + r"(\d+)\}\}", text)
    counter = max((int(n) for n in existing), default=0)
    by_value: dict[str, str] = {}
    pieces: list[str] = []
    position = 0
    for secret in find_secrets(text):
        if secret.value not in by_value:
            counter += 1
            by_value[secret.value] = placeholder(name, f"secret_{counter}")
        pieces.append(text[position : secret.start])
        pieces.append(by_value[secret.value])
        position = secret.end
    pieces.append(text[position:])
    return "".join(pieces), {key: value for value, key in by_value.items()}


def secret_text(value: object) -> str:
    """A secret's text in skill content: a string as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def restore(text: str, mapping: Mapping[str, object]) -> str:
    """``text`` with every placeholder of ``mapping`` replaced by its value (see
    :func:`secret_text`; a ``None`` value is skipped), in one pass, so a value that looks like
    a placeholder is never replaced again."""
    shown = {key: secret_text(value) for key, value in mapping.items() if value is not None}
    if not shown:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(shown, key=len, reverse=True)))
    return pattern.sub(lambda m: shown[m.group(0)], text)
