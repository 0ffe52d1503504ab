"""Skills: folders holding a ``SKILL.md``, and importing a live MCP server's tools as skills.

Account-wide skills live under ``viking://agent/skills/{name}/``, a user's private skills under
``viking://user/{uid}/skills/{name}/``; a private skill hides an account skill of the same name
for its user. A skill arrives as a skill dict, an MCP tool dict (with ``inputSchema``), SKILL.md
text, a temp upload (SKILL.md or zip) or, for local callers, a path. Secrets found in SKILL.md
are replaced by placeholders and restored only for the user who added them.

An MCP import records its source in each skill's ``metadata.mcp``, so running it again refreshes
those skills (``added``, ``updated``, ``unchanged``, ``removed``) and leaves other skills alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import OpenResult, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AddSkillRequest",
    "AddSkillResult",
    "DeleteSkillResult",
    "ImportIssue",
    "ImportMcpRequest",
    "ImportReport",
    "InstallBundledRequest",
    "InstallBundledResult",
    "McpServerInfo",
    "NameTaken",
    "ReadSkillRequest",
    "SkillDetail",
    "SkillFile",
    "SkillFileKind",
    "SkillPrompt",
    "SkillRequest",
    "SkillSummary",
    "SkillsRequest",
]

_TARGET_DOC = "viking://agent/skills (default) or viking://~/skills."


def _target() -> Any:
    return Field(default=None, description=_TARGET_DOC)


class AddSkillRequest(Request):
    """Add (or cleanly replace) a skill: give ``data`` or ``temp_file_id`` (which wins when
    both are given).
    ``expect_name`` (a replace of a named skill) refuses content with another name."""

    data: Any = Field(
        default=None,
        description="Skill dict, MCP tool dict (with inputSchema), SKILL.md text, or a local "
        "path (local callers only).",
    )
    temp_file_id: str | None = Field(default=None, description="An uploaded SKILL.md or zip.")
    target_uri: str | None = _target()
    wait: bool = Field(default=False, description="Block until the skill is indexed.")
    timeout: float | None = None
    expect_name: str | None = Field(
        default=None, description="Refuse a skill whose name is not this one."
    )


class AddSkillResult(Result):
    """The added skill; ``task_id`` (and ``queue_status`` with ``wait``) of its indexing, or
    ``semantic_status``/``vector_status`` ``skipped`` when the index is unavailable."""

    status: str = "success"
    uri: str
    root_uri: str
    name: str
    auxiliary_files: int
    action: Literal["create", "update"]
    secrets_redacted: int
    semantic_status: str | None = omitted()
    vector_status: str | None = omitted()
    task_id: str | None = omitted()
    queue_status: str | None = omitted()


class SkillsRequest(Request):
    """Skills the caller can use, by name (a private skill hides an account skill)."""

    target_uri: str | None = Field(default=None, description="Only this skills root.")


class SkillSummary(Result):
    name: str
    description: str
    uri: str
    root_uri: str
    scope: Literal["agent", "user"]
    tags: list[Any] = []
    allowed_tools: list[Any] = []
    metadata: dict[str, Any] = {}


class SkillRequest(Request):
    name: str
    target_uri: str | None = _target()


SkillFileKind = Literal["definition", "auxiliary", "directory"]


class SkillFile(Result):
    path: str
    uri: str
    kind: SkillFileKind
    size: int


class SkillDetail(SkillSummary):
    """One skill: its summary, tiers, SKILL.md (``content``, with the caller's secrets
    restored), its body, the stored file's ``content_sha256`` and its files."""

    type: Literal["skill"] = "skill"
    skill_md_uri: str
    abstract: str
    overview: str
    content: str
    body: str
    content_sha256: str
    files: list[SkillFile]


class ReadSkillRequest(Request):
    name: str


class SkillPrompt(SkillSummary):
    """One skill for prompts: its summary, the SKILL.md body and front matter (``meta``)."""

    body: str
    meta: dict[str, Any]


class DeleteSkillResult(Result):
    name: str
    uri: str
    root_uri: str
    privacy_deleted: bool


class InstallBundledRequest(Request):
    """Add the skills shipped with the package to ``viking://agent/skills``;
    ``only_missing`` leaves skills that already exist alone (a user's edits survive)."""

    only_missing: bool = False
    wait: bool = False


class InstallBundledResult(Result):
    installed: list[str]
    skipped: list[str]
    root_uri: str


class ImportMcpRequest(Request):
    """Import (or refresh) the tools of one MCP server as skills: give ``command`` (program and
    arguments; ``env`` adds variables) or ``url`` (``headers`` are sent with each request).
    Header and env values are never stored. ``timeout`` bounds connecting and listing (60 s
    by default) and each ``wait``."""

    command: list[str] | None = Field(
        default=None, description="Program and arguments to launch (ROOT or dev mode only)."
    )
    url: str | None = Field(default=None, description="Streamable-HTTP endpoint of the server.")
    headers: dict[str, str] | None = Field(
        default=None, description="Headers sent to url (never stored)."
    )
    env: dict[str, str] | None = Field(
        default=None, description="Extra environment of the command (never stored)."
    )
    target_uri: str | None = _target()
    prune: bool = Field(default=False, description="Delete skills of tools that are gone.")
    wait: bool = False
    timeout: float | None = None


class McpServerInfo(OpenResult):
    """Who serves the tools: ``id`` names the source in each imported skill."""

    id: str
    transport: str
    name: str = ""
    version: str = ""


class ImportIssue(Result):
    """A tool that was not imported, and why (``invalid_tool``, ``duplicate_name``...)."""

    tool: str
    name: str | None = omitted()
    reason: str
    message: str


class NameTaken(ImportIssue):
    """A tool whose skill name belongs to a hand-written skill (``existing_source`` is
    ``None``) or to another MCP server's skill."""

    existing_source: str | None


class ImportReport(Result):
    """Skill names by outcome; ``removed`` skills are deleted only when ``pruned``."""

    server: McpServerInfo
    skills_root: str
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    removed: list[str] = []
    pruned: bool = False
    errors: list[NameTaken | ImportIssue] = []


_S = "/api/v1/skills"

OPERATIONS = (
    Operation(
        "add_skill",
        "skills.add",
        AddSkillRequest,
        AddSkillResult,
        ("data",),
        Route("POST", _S, waits="wait", upload="skill"),
        doc="Add (or cleanly replace) a skill.",
        embedded={"allow_paths": True},
    ),
    Operation(
        "list_skills",
        "skills.list_skills",
        SkillsRequest,
        list[SkillSummary],
        ("target_uri",),
        Route("GET", _S, convert="skills_list"),
        doc="Skills the caller can use, by name (a private skill hides an account skill).",
    ),
    Operation(
        "get_skill",
        "skills.get",
        SkillRequest,
        SkillDetail,
        ("name",),
        Route("GET", _S + "/{name}"),
    ),
    Operation(
        "read_skill",
        "skills.read",
        ReadSkillRequest,
        SkillPrompt,
        ("name",),
        doc="One skill by name for prompts: its summary, ``body`` and ``meta``.",
    ),
    Operation(
        "delete_skill",
        "skills.delete",
        SkillRequest,
        DeleteSkillResult,
        ("name",),
        Route("DELETE", _S + "/{name}"),
        doc="Remove a skill folder, its index rows and the caller's secrets for it.",
    ),
    Operation(
        "install_bundled_skills",
        "skills.install_bundled",
        InstallBundledRequest,
        InstallBundledResult,
        doc="Add the skills shipped with the package to ``viking://agent/skills``.",
    ),
    Operation(
        "import_mcp_server",
        "skill_import.import_mcp_server",
        ImportMcpRequest,
        ImportReport,
        (),
        Route("POST", _S + "/import-mcp", waits="wait"),
        doc="Import (or refresh) the tools of one MCP server as skills.",
        embedded={"allow_command": True},
    ),
)
