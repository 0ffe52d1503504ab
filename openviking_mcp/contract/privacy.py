"""Privacy configs: versioned secret values kept per user, addressed by category and key.

Only the owner ever sees a config. A version record is ``{version, category, target_key,
values, created_at, created_by, change_reason}``; a config's metadata ``{category, target_key,
active_version, latest_version, created_at, updated_at, updated_by, last_accessed_at,
labels}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openviking_mcp.contract.base import Empty, Integer, OpenResult, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "PrivacyCategoryRequest",
    "PrivacyConfig",
    "PrivacyMeta",
    "PrivacyTargetRequest",
    "PrivacyVersion",
    "PrivacyVersionRequest",
    "UpsertPrivacyRequest",
]


class PrivacyCategoryRequest(Request):
    category: str


class PrivacyTargetRequest(Request):
    category: str
    target_key: str


class PrivacyVersionRequest(Request):
    category: str
    target_key: str
    version: Integer = Field(description="A version number (1, 2, ...).")


class UpsertPrivacyRequest(Request):
    """Store ``values`` as the active config. Values equal to the active ones add no version
    (only ``updated_at`` and, if given, ``labels`` change); otherwise they become version
    ``latest + 1``."""

    category: str
    target_key: str
    values: dict[str, Any] = Field(
        description="Names to secret values: any JSON values, stored and returned as they are."
    )
    change_reason: str = ""
    labels: dict[str, str] | None = Field(
        default=None, description="Replace the config's labels (kept when omitted)."
    )


class PrivacyVersion(OpenResult):
    """One stored version."""

    version: int
    category: str
    target_key: str
    values: dict[str, Any] = {}
    created_at: str | None = None
    created_by: str | None = None
    change_reason: str = ""


class PrivacyMeta(OpenResult):
    """A config's metadata."""

    category: str
    target_key: str
    active_version: int = 0
    latest_version: int = 0
    created_at: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    last_accessed_at: str | None = None
    labels: dict[str, str] = {}


class PrivacyConfig(Result):
    meta: PrivacyMeta
    current: PrivacyVersion


_P = "/api/v1/privacy-configs"
_TARGET = _P + "/{category}/{target_key}"

OPERATIONS = (
    Operation(
        "upsert_privacy_config",
        "privacy.upsert",
        UpsertPrivacyRequest,
        PrivacyVersion,
        ("category", "target_key", "values"),
        Route("POST", _TARGET),
    ),
    Operation(
        "get_privacy_config",
        "privacy.get",
        PrivacyTargetRequest,
        PrivacyConfig,
        ("category", "target_key"),
        Route("GET", _TARGET),
        doc="``{meta, current}`` of a config; records the access in ``last_accessed_at``.",
    ),
    Operation(
        "list_privacy_categories",
        "privacy.list_categories",
        Empty,
        list[str],
        (),
        Route("GET", _P),
        doc="The caller's categories, sorted.",
    ),
    Operation(
        "list_privacy_targets",
        "privacy.list_targets",
        PrivacyCategoryRequest,
        list[str],
        ("category",),
        Route("GET", _P + "/{category}"),
        doc="Target keys of one category, sorted (``[]`` for an unknown category).",
    ),
    Operation(
        "list_privacy_versions",
        "privacy.list_versions",
        PrivacyTargetRequest,
        list[int],
        ("category", "target_key"),
        Route("GET", _TARGET + "/versions"),
        doc="Version numbers kept in a config's history, ascending.",
    ),
    Operation(
        "get_privacy_version",
        "privacy.get_version",
        PrivacyVersionRequest,
        PrivacyVersion,
        ("category", "target_key", "version"),
        Route("GET", _TARGET + "/versions/{version}"),
    ),
    Operation(
        "activate_privacy_version",
        "privacy.activate",
        PrivacyVersionRequest,
        PrivacyVersion,
        ("category", "target_key", "version"),
        Route("POST", _TARGET + "/activate"),
        doc="Make a historical version the active one; returns its record.",
    ),
    Operation(
        "delete_privacy_config",
        "privacy.delete",
        PrivacyTargetRequest,
        bool,
        ("category", "target_key"),
        None,
        doc="Remove a config with its history; ``True`` if it existed (not over HTTP: the "
        "original's API has no such route).",
    ),
    Operation(
        "privacy_values",
        "privacy.values",
        PrivacyTargetRequest,
        dict[str, Any],
        ("category", "target_key"),
        Route("GET", _TARGET, convert="privacy_values"),
        doc="The active values of a config as stored (``{}`` if there is none).",
    ),
)
