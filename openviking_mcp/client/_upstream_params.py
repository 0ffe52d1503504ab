"""openviking-sdk's parameter order for the operations both clients have, read by the codegen.

The SDK (0.1.17) takes more of each call's parameters by position than the contract's ``args``
do (``find(query, target_uri, limit, image, options)``). :data:`UPSTREAM_POSITIONAL` lists each
shared operation's positional parameters in the SDK's order, under our names; the codegen
makes the longest prefix of it that the operation takes positional, when that prefix starts
with the contract's own ``args`` (so no existing positional call changes meaning).

:data:`CLIENT_PARAMETERS` are the SDK's parameters that are not request fields: ``options``,
the SDK's mapping of further request fields (merged into the call's fields by
:func:`~._sync.arguments`, its ``extra`` mapping too), and ``image`` and ``telemetry``, sent as
fields of that name (the server answers them by its own rules).
"""

from __future__ import annotations

__all__ = ["CLIENT_PARAMETERS", "CLIENT_PARAMETER_TYPES", "UPSTREAM_POSITIONAL"]

UPSTREAM_POSITIONAL: dict[str, tuple[str, ...]] = {
    "add_message": ("session_id", "role", "content", "parts", "options", "peer_id"),
    "add_resource": ("path", "to", "parent", "wait", "options"),
    "add_skill": ("data", "wait", "options"),
    "batch_write": ("root_uri", "operations", "wait", "options"),
    "commit_session": ("session_id", "keep_recent_count", "options"),
    "create_session": ("session_id", "options"),
    "delete_skill": ("skill_name", "target_uri"),
    "find": ("query", "target_uri", "limit", "image", "options"),
    "find_skills": ("query", "limit", "score_threshold", "level", "telemetry", "target_uri"),
    "get_skill": (
        "skill_name",
        "include_content",
        "include_files",
        "include_source",
        "level",
        "target_uri",
        "include_integrity",
    ),
    "glob": ("pattern", "uri", "node_limit", "extra_fields", "tags", "include_tags"),
    "grep": (
        "uri",
        "pattern",
        "case_insensitive",
        "node_limit",
        "exclude_uri",
        "tags",
        "include_tags",
        "level_limit",
    ),
    "list_skills": ("node_limit", "target_uri"),
    "list_tasks": ("task_type", "status", "resource_id", "limit"),
    "ls": (
        "uri",
        "simple",
        "recursive",
        "output",
        "abs_limit",
        "show_all_hidden",
        "node_limit",
        "sort_by",
        "sort_order",
        "extra_fields",
        "tags",
        "include_tags",
        "offset",
        "limit",
        "include_abstract",
        "include_overview",
        "overview_limit",
    ),
    "read": ("uri", "offset", "limit"),
    "reindex": ("uri", "mode", "wait", "recursive", "force", "options"),
    "rm": ("uri", "recursive", "wait"),
    "search": ("query", "session_id", "target_uri", "limit", "image", "options"),
    "set_tags": ("uri", "tags", "mode", "recursive", "options"),
    "tree": (
        "uri",
        "output",
        "abs_limit",
        "show_all_hidden",
        "node_limit",
        "level_limit",
        "extra_fields",
        "tags",
        "include_tags",
        "offset",
        "limit",
        "include_abstract",
        "include_overview",
        "overview_limit",
        "directories_only",
    ),
    "update_session_config": ("session_id", "options"),
    "update_skill": ("skill_name", "data", "wait", "options"),
    "validate_skill": ("data", "strict", "source_path", "skill_dir_name", "target_uri"),
    "write": ("uri", "content", "mode", "wait", "options"),
}
"""The SDK's positional parameters of each shared operation, in order, under our names."""

CLIENT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "add_message": ("options",),
    "add_resource": ("options",),
    "add_skill": ("options",),
    "batch_write": ("options",),
    "commit_session": ("options",),
    "create_session": ("options",),
    "find": ("image", "options"),
    "find_skills": ("telemetry",),
    "reindex": ("options",),
    "search": ("image", "options"),
    "set_tags": ("options",),
    "update_session_config": ("options",),
    "update_skill": ("options",),
    "write": ("options",),
}
"""The SDK's parameters of each operation that are not fields of its request model."""

CLIENT_PARAMETER_TYPES: dict[str, str] = {
    "options": "Mapping[str, Any] | None",
    "image": "Any",
    "telemetry": "Any",
}
"""The annotation of each client parameter (each defaults to ``None``)."""
