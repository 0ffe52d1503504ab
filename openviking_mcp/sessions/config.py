"""A session's changeable settings: its auto-commit policy and memory extraction config.

Both live in the session's ``.meta.json``. ``memory_extraction_config`` is
``{"events": {"tags": ["key=value", ...]}}``: default tags for the event memories extracted from
the session, stored lower-cased with one value per key (a repeated key keeps its first place and
takes the last value). It is kept and answered; memory extraction does not tag event memories
yet.

An update (:func:`apply_update`) changes only the settings it names: a ``null`` clears one (no
auto-commit; no default tags), an absent one stays. An auto-commit policy given as an object is
merged field by field into the stored one (an update of a session without a policy starts from
the defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.sessions.policy import parse_policy

__all__ = [
    "EXTRACTION_FIELD",
    "POLICY_FIELD",
    "apply_update",
    "empty_extraction_config",
    "extraction_config",
    "parse_extraction_config",
]

POLICY_FIELD = "auto_commit_policy"
EXTRACTION_FIELD = "memory_extraction_config"


def empty_extraction_config() -> dict[str, Any]:
    return {"events": {"tags": []}}


def _invalid(message: str, field: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, {"field": field})


def _object(value: object, field: str, keys: frozenset[str]) -> Mapping[str, Any]:
    """``value`` as an object with no keys but ``keys``."""
    if not isinstance(value, Mapping):
        raise _invalid(f"{field} must be an object", field)
    unknown = sorted(str(k) for k in value if k not in keys)
    if unknown:
        raise _invalid(f"{field} takes only {', '.join(sorted(keys))} (not {unknown[0]})", field)
    return value


def _tag(value: object, field: str) -> tuple[str, str]:
    """One ``key=value`` tag as its lower-cased key and value."""
    text = value.strip().lower() if isinstance(value, str) else ""
    key, sep, tag_value = text.partition("=")
    if not sep or not key or not tag_value or "=" in tag_value:
        raise _invalid(f"{field}: {value!r} is not a key=value tag", field)
    return key, tag_value


def _tags(value: object, field: str) -> list[str]:
    if not isinstance(value, list):
        raise _invalid(f"{field} must be a list of key=value strings", field)
    by_key: dict[str, str] = {}
    for item in value:
        key, tag_value = _tag(item, field)
        by_key[key] = tag_value  # a repeated key keeps its place and takes the last value
    return [f"{key}={tag_value}" for key, tag_value in by_key.items()]


def parse_extraction_config(
    value: object, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``value`` (``{events?: {tags?}}``) applied to the ``current`` config: an absent key keeps
    the current setting, a ``null`` clears it; errors name the field."""
    result = extraction_config(current)
    if value is None:
        return empty_extraction_config()
    given = _object(value, EXTRACTION_FIELD, frozenset({"events"}))
    if "events" not in given:
        return result
    events_field = f"{EXTRACTION_FIELD}.events"
    if given["events"] is None:
        result["events"] = {"tags": []}
        return result
    events = _object(given["events"], events_field, frozenset({"tags"}))
    if "tags" in events:
        tags = events["tags"]
        result["events"]["tags"] = [] if tags is None else _tags(tags, f"{events_field}.tags")
    return result


def extraction_config(stored: object) -> dict[str, Any]:
    """The config a ``.meta.json`` holds (the empty one when it has none)."""
    config = empty_extraction_config()
    if isinstance(stored, Mapping):
        events = stored.get("events")
        tags = events.get("tags") if isinstance(events, Mapping) else None
        if isinstance(tags, list):
            config["events"]["tags"] = [str(t) for t in tags]
    return config


def _check_policy_fields(given: object) -> None:
    """A policy update is an object whose fields are not ``null`` (the policy's ``null`` is
    how automatic commits are turned off)."""
    if not isinstance(given, Mapping):
        raise _invalid(f"{POLICY_FIELD} must be an object or null", POLICY_FIELD)
    nulls = sorted(str(k) for k, v in given.items() if v is None)
    if nulls:
        raise _invalid(
            f"{POLICY_FIELD}.{nulls[0]} must be an integer; use {POLICY_FIELD}=null to turn "
            "automatic commits off",
            f"{POLICY_FIELD}.{nulls[0]}",
        )


def apply_update(meta: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Apply ``changes`` (``auto_commit_policy`` and/or ``memory_extraction_config``, each
    present only when it is to change) to ``meta`` in place."""
    if POLICY_FIELD in changes:
        given = changes[POLICY_FIELD]
        if given is None:
            meta[POLICY_FIELD] = None
        else:
            _check_policy_fields(given)
            stored = meta.get(POLICY_FIELD)
            merged = {**(stored if isinstance(stored, Mapping) else {}), **given}
            policy = parse_policy(merged)
            meta[POLICY_FIELD] = policy.model_dump() if policy else None
    if EXTRACTION_FIELD in changes:
        meta[EXTRACTION_FIELD] = parse_extraction_config(
            changes[EXTRACTION_FIELD], meta.get(EXTRACTION_FIELD)
        )
