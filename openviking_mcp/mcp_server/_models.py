"""Structured results of the MCP tools (their ``outputSchema``).

Fields have plain defaults instead of ``None`` so the published schemas need no unions; every
model allows extra keys, so a service result that grows a field still validates.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AddResourceResult",
    "AddSkillResult",
    "AttrsResult",
    "CopyResult",
    "EditResult",
    "FindResult",
    "FindSkillsResult",
    "ForgetResult",
    "GlobResult",
    "GrepMatch",
    "GrepResult",
    "HealthResult",
    "Hit",
    "ListEntry",
    "ListResult",
    "ReadItem",
    "ReadResult",
    "SearchResult",
    "SkillIssue",
    "SkillMatch",
    "SkillValidationResult",
    "StatResult",
    "TagsResult",
    "TreeResult",
    "WriteResult",
]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Hit(_Open):
    context_type: str = Field(description="memory, resource or skill")
    uri: str
    level: int = Field(description="0 directory abstract, 1 directory overview, 2 file content")
    score: float
    abstract: str = ""
    tags: list[str] = []


class FindResult(_Open):
    memories: list[Hit] = []
    resources: list[Hit] = []
    skills: list[Hit] = []
    total: int = 0


class SearchResult(FindResult):
    mode: str = Field(default="list", description="list or context")
    query_plan: dict[str, Any] = {}
    entries: list[dict[str, Any]] = Field(
        default=[], description="context mode: the assembled entries"
    )
    rendered: str = Field(default="", description="context mode: the injection-ready block")
    digest: str = ""
    stats: dict[str, Any] = {}


class ReadItem(_Open):
    uri: str
    level: str = "full"
    is_dir: bool = False
    text: str = ""
    error: str = Field(default="", description="why this URI could not be read, if it failed")


class ReadResult(_Open):
    items: list[ReadItem]


class ListEntry(_Open):
    uri: str
    name: str
    is_dir: bool
    size: int = 0
    abstract: str = ""
    rel_path: str = Field(default="", description="tree: path below the root ('dir/' for dirs)")


class ListResult(_Open):
    uri: str
    entries: list[ListEntry]


class TreeResult(ListResult):
    truncated: bool = False


class StatResult(_Open):
    uri: str
    name: str
    size: int
    isDir: bool
    modTime: str
    context_type: str = ""


class WriteResult(_Open):
    uri: str
    mode: str
    written_bytes: int
    semantic_status: str = ""
    vector_status: str = ""
    task_id: str = ""


class EditResult(_Open):
    uri: str
    replacements: int = 0
    written_bytes: int = 0
    changed: bool = True
    semantic_status: str = ""
    vector_status: str = ""
    task_id: str = ""


class TagsResult(_Open):
    uri: str
    tags: list[str] = []
    mode: str = ""
    updated_uris: list[str] = Field(default=[], description="The paths now carrying the tags.")


class AttrsResult(_Open):
    uri: str
    context_type: str = ""
    tags: list[str] = []
    memory: dict[str, Any] = Field(default={}, description="A memory file's fields.")


class AddResourceResult(_Open):
    status: str = Field(description="accepted, success, failed or upload_required")
    root_uri: str = ""
    task_id: str = ""
    upload_url: str = Field(default="", description="upload_required: POST the file here")
    expires_at: str = ""


class AddSkillResult(_Open):
    status: str = Field(description="success or upload_required")
    uri: str = Field(default="", description="The skill's folder.")
    root_uri: str = Field(default="", description="The skill's folder (as uri).")
    skills_root: str = Field(default="", description="The skills root holding it.")
    name: str = ""
    auxiliary_files: int = 0
    action: str = Field(default="", description="create or update")
    upload_url: str = ""
    expires_at: str = ""


class SkillMatch(_Open):
    name: str
    description: str = ""
    uri: str = Field(description="The skill's best hit (its folder, SKILL.md or a file).")
    skill_md_uri: str = Field(description="The skill's instructions: read this file.")
    score: float
    level: int = Field(description="0 abstract, 1 overview, 2 file content")
    abstract: str = ""


class FindSkillsResult(_Open):
    skills: list[SkillMatch]
    total: int


class SkillIssue(_Open):
    rule: str
    message: str
    field: str = ""


class SkillValidationResult(_Open):
    valid: bool
    strict: bool
    name: str = ""
    description: str = ""
    errors: list[SkillIssue] = []
    warnings: list[SkillIssue] = []


class GrepMatch(_Open):
    uri: str
    line: int
    content: str
    pattern: str = ""


class GrepResult(_Open):
    matches: list[GrepMatch]
    count: int
    truncated: bool = False


class GlobResult(_Open):
    matches: list[str]
    count: int


class ForgetResult(_Open):
    uri: str
    isDir: bool = False


class CopyResult(_Open):
    """The copy's ``{from, to, ...}`` (``from`` travels as an extra key)."""

    to: str
    recursive: bool = Field(description="whether a directory was copied")
    files_created: int


class HealthResult(_Open):
    status: str
    healthy: bool
    version: str
    auth_mode: str
    identity: str = Field(default="", description="account/user the tools act as")
    ready: dict[str, Any] = {}
