"""Skills: folders holding a ``SKILL.md``, and importing a live MCP server's tools as skills.

A user's private skills live under ``viking://user/{uid}/skills/{name}`` (where a skill added
without ``target_uri`` goes; ROOT, which has no user space, adds to the account's), account-wide
skills under ``viking://agent/skills/{name}``; a private skill hides an account skill of the
same name for its user. In answers about one skill ``root_uri`` names the skill's folder (no
trailing ``/``; so does ``uri``, except in a find hit, where it is the matching file or tier)
and ``skills_root`` the skills root holding it.

A skill arrives as a skill dict, an MCP tool dict (with ``inputSchema``), SKILL.md text, a temp
upload (SKILL.md or zip) or, for local callers, a path. Secrets found in SKILL.md
are replaced by placeholders and restored only for the user who added them.

``update_skill`` replaces an existing skill (same name) and keeps the old one when the new
content is refused; ``validate_skill`` says what ``add_skill`` would make of some data without
storing anything; ``find_skills`` searches skills by what they do, one hit per skill.

An MCP import records its source in each skill's ``metadata.mcp``, so running it again refreshes
those skills (``added``, ``updated``, ``unchanged``, ``removed``) and leaves other skills alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Integer, OpenResult, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.tasks import QueueCounters

__all__ = [
    "OPERATIONS",
    "AddSkillRequest",
    "AddSkillResult",
    "DeleteSkillResult",
    "FindSkillsRequest",
    "FindSkillsResult",
    "GetSkillRequest",
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
    "SkillHit",
    "SkillList",
    "SkillPrompt",
    "SkillRequest",
    "SkillSummary",
    "SkillValidation",
    "SkillsRequest",
    "UpdateSkillRequest",
    "ValidateSkillRequest",
    "ValidationIssue",
]

_TARGET_DOC = (
    "viking://~/skills (default: your own) or viking://agent/skills (the whole account's)."
)


def _target() -> Any:
    return Field(default=None, description=_TARGET_DOC)


class AddSkillRequest(Request):
    """Add (or cleanly replace) a skill: give ``data`` or ``temp_file_id`` (which wins when
    both are given)."""

    data: Any = Field(
        default=None,
        description="Skill dict, MCP tool dict (with inputSchema), SKILL.md text, or a local "
        "path (local callers only).",
    )
    temp_file_id: str | None = Field(default=None, description="An uploaded SKILL.md or zip.")
    target_uri: str | None = _target()
    wait: bool = Field(default=False, description="Block until the skill is indexed.")
    timeout: float | None = None


class AddSkillResult(Result):
    """The added skill: ``uri`` and ``root_uri`` its folder, ``skills_root`` the root holding
    it; ``task_id`` of its indexing and, with ``wait``, ``queue_status``: that indexing per
    queue (``Semantic``, ``Embedding``) as ``/api/v1/system/wait`` reports queues. When the
    index is unavailable ``semantic_status``/``vector_status`` are ``skipped`` instead."""

    status: str = "success"
    uri: str
    root_uri: str
    skills_root: str
    name: str
    auxiliary_files: int
    action: Literal["create", "update"]
    secrets_redacted: int
    semantic_status: str | None = omitted()
    vector_status: str | None = omitted()
    task_id: str | None = omitted()
    queue_status: dict[str, QueueCounters] | None = omitted()


class SkillsRequest(Request):
    """Skills the caller can use, by name (a private skill hides an account skill)."""

    node_limit: Integer = Field(
        default=1000, description="At most this many entries per skills root (0: 1000)."
    )
    target_uri: str | None = Field(default=None, description="Only this skills root.")


class SkillSummary(Result):
    """A skill: ``uri`` and ``root_uri`` its folder, ``skill_md_uri`` its SKILL.md,
    ``skills_root`` the root holding it and ``scope`` whose that root is."""

    type: Literal["skill"] = "skill"
    name: str
    description: str
    uri: str
    root_uri: str
    skill_md_uri: str
    skills_root: str
    scope: Literal["agent", "user"]
    tags: list[Any] = []
    allowed_tools: list[Any] = []
    metadata: dict[str, Any] = {}


class SkillRequest(Request):
    skill_name: str = Field(description="The skill's name.")
    target_uri: str | None = _target()


class GetSkillRequest(SkillRequest):
    """One skill. ``level`` 0, 1 or 2 answers only the abstract, the overview or SKILL.md
    (``content``); without it all three. ``include_content`` forces SKILL.md in (``True``)
    or, without ``level=2``, out (``False``). ``include_integrity`` adds each file's
    ``sha256`` and the package ``revision``; ``include_source`` where the skill came from."""

    include_content: bool | None = Field(default=None, description="Include SKILL.md.")
    include_files: bool = Field(default=True, description="List the skill's files.")
    include_integrity: bool = Field(
        default=False, description="Add file sizes, sha256 and the package revision."
    )
    include_source: bool = Field(default=False, description="Add where the skill came from.")
    level: Integer | None = Field(default=None, description="0, 1 or 2: only that tier.")


SkillFileKind = Literal["definition", "summary", "auxiliary", "directory"]


class SkillFile(Result):
    """One entry of a skill folder; ``sha256`` only with ``include_integrity``."""

    name: str
    path: str
    uri: str
    is_dir: bool
    kind: SkillFileKind
    size: int
    sha256: str | None = omitted()


class SkillDetail(SkillSummary):
    """One skill: its summary, the tiers asked for, SKILL.md (``content``, with the caller's
    secrets restored, its ``body`` and ``content_sha256``), its files and, when asked, the
    package ``revision`` (a sha256 over the files' paths, sizes and hashes) and ``source``."""

    abstract: str | None = omitted()
    overview: str | None = omitted()
    content: str | None = omitted()
    body: str | None = omitted()
    content_sha256: str | None = omitted()
    files: list[SkillFile] | None = omitted()
    revision: str | None = omitted()
    source: dict[str, Any] | None = omitted()


class SkillList(Result):
    """``GET /api/v1/skills``: the skills, and ``root_uri`` (the one root listed, with a
    target) or ``root_uris`` (the caller's roots, private first)."""

    root_uri: str | None = omitted()
    root_uris: list[str] | None = omitted()
    skills: list[SkillSummary]
    total: int


class FindSkillsRequest(Request):
    """Search the caller's private skills and the account's (or only ``target_uri``'s root):
    one hit per skill, its best-scoring tier, best first."""

    query: str = Field(description="What the skill should do, in natural language.")
    limit: Integer = Field(default=10, description="Maximum number of skills (1 to 1000).")
    score_threshold: float | None = Field(default=None, description="Drop hits below this.")
    level: list[Integer] | None = Field(default=None, description="Only these tiers (0, 1, 2).")
    target_uri: str | None = Field(default=None, description="Only this skills root.")


class SkillHit(SkillSummary):
    """A found skill: its summary, and the ``uri``, ``score``, ``level`` and ``abstract`` of
    its best hit."""

    score: float
    match_reason: str = ""
    level: int
    abstract: str = ""


class FindSkillsResult(Result):
    """The hits; ``root_uri`` names the one root searched, ``root_uris`` the two otherwise."""

    root_uri: str | None = omitted()
    root_uris: list[str] | None = omitted()
    skills: list[SkillHit]
    total: int


class ValidateSkillRequest(Request):
    """Check a skill without storing it: would ``add_skill`` take it, and what would it be?"""

    data: Any = Field(description="Skill dict, MCP tool dict (with inputSchema) or SKILL.md text.")
    strict: bool = Field(
        default=False,
        description="Agent Skills format rules (directory name, lengths) are errors, not warnings.",
    )
    source_path: str | None = Field(default=None, description="Echoed in the report.")
    skill_dir_name: str | None = Field(
        default=None, description="The folder the skill lives in: its name must match."
    )
    target_uri: str | None = Field(default=None, description="Accepted; not used.")


class ValidationIssue(Result):
    rule: str
    message: str
    field: str | None = omitted()


class SkillValidation(Result):
    """``valid`` when there are no ``errors``. The skill's fields as ``add_skill`` would
    store them are left out when the data cannot be parsed at all."""

    valid: bool
    strict: bool
    name: str | None = omitted()
    description: str | None = omitted()
    tags: list[str] | None = omitted()
    allowed_tools: list[str] | None = omitted()
    body_lines: int | None = omitted()
    source_path: str
    skill_dir_name: str | None = omitted()
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]


class UpdateSkillRequest(Request):
    """Replace an existing skill: the new content's name must be ``skill_name``; a failed
    update leaves the old skill in place."""

    skill_name: str = Field(description="The skill to replace.")
    data: Any = Field(
        default=None,
        description="Skill dict, MCP tool dict (with inputSchema), SKILL.md text, or a local "
        "path (local callers only).",
    )
    temp_file_id: str | None = Field(default=None, description="An uploaded SKILL.md or zip.")
    target_uri: str | None = _target()
    wait: bool = Field(default=False, description="Block until the skill is indexed.")
    timeout: float | None = None


class ReadSkillRequest(Request):
    name: str


class SkillPrompt(SkillSummary):
    """One skill for prompts: its summary, the SKILL.md body and front matter (``meta``)."""

    body: str
    meta: dict[str, Any]


class DeleteSkillResult(Result):
    """The deleted skill: ``uri`` and ``root_uri`` its folder, ``skills_root`` its root."""

    name: str
    uri: str
    root_uri: str
    skills_root: str
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
        "update_skill",
        "skills.update",
        UpdateSkillRequest,
        AddSkillResult,
        ("skill_name", "data"),
        Route("PUT", _S + "/{skill_name}", waits="wait", upload="skill"),
        doc="Replace an existing skill (the new content must have the same name).",
        embedded={"allow_paths": True},
    ),
    Operation(
        "list_skills",
        "skills.list_skills",
        SkillsRequest,
        list[SkillSummary],
        ("node_limit", "target_uri"),
        Route("GET", _S, convert="skills_list"),
        doc="Skills the caller can use, by name (a private skill hides an account skill).",
    ),
    Operation(
        "find_skills",
        "skills.find",
        FindSkillsRequest,
        FindSkillsResult,
        ("query",),
        Route("POST", _S + "/find"),
        doc="Search skills by what they do: one hit per skill, best first.",
    ),
    Operation(
        "validate_skill",
        "skills.validate",
        ValidateSkillRequest,
        SkillValidation,
        ("data",),
        Route("POST", _S + "/validate"),
        doc="Check a skill without storing it: the errors and warnings add_skill would give.",
    ),
    Operation(
        "get_skill",
        "skills.get",
        GetSkillRequest,
        SkillDetail,
        ("skill_name",),
        Route("GET", _S + "/{skill_name}"),
        doc="One skill: its summary, tiers, SKILL.md and files.",
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
        ("skill_name",),
        Route("DELETE", _S + "/{skill_name}"),
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
