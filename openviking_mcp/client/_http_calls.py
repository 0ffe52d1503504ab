"""The HTTP API call behind every client method, with the embedded client's signatures.

Each method of :class:`CallBuilder` has exactly the name, parameters and defaults of the
``AsyncOpenViking`` method it mirrors and returns the :class:`~._http_base.Call` for the route
of seed 000 (paths and field names as in its route table and the original's request models).
``AsyncHTTPClient`` and ``SyncHTTPClient`` wrap these into coroutines and plain methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openviking_mcp.client._http_base import Call, body, call, query, segment
from openviking_mcp.client._http_chat import ChatCalls
from openviking_mcp.client._http_pack import PackCalls
from openviking_mcp.client._uploads import resource_source, skill_source

if TYPE_CHECKING:
    # Annotations only: the contract's modules build pydantic models on import, which the
    # HTTP client (and the CLI's remote mode) never needs.
    from openviking_mcp.contract.content import WriteMode
    from openviking_mcp.contract.fs import ListOutput, SortBy, SortOrder
    from openviking_mcp.contract.resources import ProcessingMode

__all__ = ["CallBuilder"]

_FS = "/api/v1/fs"
_CONTENT = "/api/v1/content"
_SEARCH = "/api/v1/search"
_SYSTEM = "/api/v1/system"
_SKILLS = "/api/v1/skills"
_SESSIONS = "/api/v1/sessions"
_PRIVACY = "/api/v1/privacy-configs"


def _skills_list(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, dict):
        skills: list[dict[str, Any]] = result.get("skills") or []
        return skills
    return list(result or [])


def _privacy_values(result: Any) -> dict[str, str]:
    current = result.get("current") if isinstance(result, dict) else None
    values = current.get("values") if isinstance(current, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(k): str(v) for k, v in values.items()}


class CallBuilder(PackCalls, ChatCalls):
    """Stateless: builds the calls; the clients send them."""

    # -- system ----------------------------------------------------------------------------

    def health(self) -> Call[dict[str, Any]]:
        """``GET /health`` (no auth, plain JSON)."""
        return call("GET", "/health")

    # -- filesystem ------------------------------------------------------------------------

    def ls(
        self,
        uri: str = "viking://",
        *,
        simple: bool = False,
        recursive: bool = False,
        output: ListOutput = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        sort_by: SortBy = "name",
        sort_order: SortOrder = "asc",
    ) -> Call[list[Any]]:
        params = query(
            uri=uri,
            simple=simple,
            recursive=recursive,
            output=output,
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        return call("GET", f"{_FS}/ls", params=params)

    def tree(
        self,
        uri: str = "viking://",
        *,
        output: ListOutput = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        level_limit: int = 3,
    ) -> Call[list[dict[str, Any]]]:
        params = query(
            uri=uri,
            output=output,
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            level_limit=level_limit,
        )
        return call("GET", f"{_FS}/tree", params=params)

    def stat(self, uri: str) -> Call[dict[str, Any]]:
        return call("GET", f"{_FS}/stat", params={"uri": uri})

    def mkdir(self, uri: str, description: str | None = None) -> Call[dict[str, Any]]:
        return call("POST", f"{_FS}/mkdir", json=body(uri=uri, description=description))

    def rm(self, uri: str, *, recursive: bool = False) -> Call[dict[str, Any]]:
        return call("DELETE", _FS, params=query(uri=uri, recursive=recursive))

    def mv(self, from_uri: str, to_uri: str) -> Call[dict[str, Any]]:
        return call("POST", f"{_FS}/mv", json={"from_uri": from_uri, "to_uri": to_uri})

    # -- content ---------------------------------------------------------------------------

    def read(self, uri: str, *, offset: int = 0, limit: int = -1) -> Call[str]:
        return call("GET", f"{_CONTENT}/read", params=query(uri=uri, offset=offset, limit=limit))

    def read_bytes(self, uri: str) -> Call[bytes]:
        return call("GET", f"{_CONTENT}/download", params={"uri": uri}, raw=True)

    def abstract(self, uri: str) -> Call[str]:
        return call("GET", f"{_CONTENT}/abstract", params={"uri": uri})

    def overview(self, uri: str) -> Call[str]:
        return call("GET", f"{_CONTENT}/overview", params={"uri": uri})

    def write(
        self,
        uri: str,
        content: str,
        *,
        mode: WriteMode = "replace",
        wait: bool = False,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(uri=uri, content=content, mode=mode, wait=wait, timeout=timeout)
        return call("POST", f"{_CONTENT}/write", json=payload, waits=wait, wait_timeout=timeout)

    def edit(
        self,
        uri: str,
        old_string: str,
        new_string: str,
        *,
        replace_all: bool = False,
        wait: bool = False,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        """``POST /api/v1/content/edit`` (not in seed 000's table: this project's route)."""
        payload = body(
            uri=uri,
            old_string=old_string,
            new_string=new_string,
            replace_all=replace_all,
            wait=wait,
            timeout=timeout,
        )
        return call("POST", f"{_CONTENT}/edit", json=payload, waits=wait, wait_timeout=timeout)

    # -- resources and search --------------------------------------------------------------

    def add_resource(
        self,
        path: str,
        *,
        to: str | None = None,
        parent: str | None = None,
        create_parent: bool = False,
        reason: str = "",
        instruction: str = "",
        wait: bool = False,
        timeout: float | None = None,
        processing_mode: ProcessingMode = "semantic_and_vectors",
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        ignore_dirs: list[str] | None = None,
    ) -> Call[dict[str, Any]]:
        """A URL goes to the server as ``path``; a local file is uploaded, a local folder
        zipped and uploaded, and the import names the upload's ``temp_file_id``."""
        upload = resource_source(path, include, exclude, ignore_dirs)
        payload = body(
            path=path if upload is None else None,
            to=to,
            parent=parent,
            create_parent=create_parent,
            reason=reason,
            instruction=instruction,
            wait=wait,
            timeout=timeout,
            processing_mode=processing_mode,
            include=include,
            exclude=exclude,
            ignore_dirs=ignore_dirs,
        )
        return call(
            "POST",
            "/api/v1/resources",
            json=payload,
            upload=upload,
            waits=wait,
            wait_timeout=timeout,
        )

    def find(
        self,
        query: str,
        *,
        target_uri: str | list[str] | None = None,
        limit: int = 10,
        score_threshold: float | None = None,
        level: int | str | list[int] | None = None,
        context_type: str | list[str] | None = None,
        include_provenance: bool = False,
    ) -> Call[dict[str, Any]]:
        payload = body(
            query=query,
            target_uri=target_uri,
            limit=limit,
            score_threshold=score_threshold,
            level=level,
            context_type=context_type,
            include_provenance=include_provenance,
        )
        return call("POST", f"{_SEARCH}/find", json=payload)

    def search(
        self,
        query: str,
        *,
        session_id: str | None = None,
        target_uri: str | list[str] | None = None,
        limit: int = 10,
        score_threshold: float | None = None,
        context_type: str | list[str] | None = None,
        mode: str = "list",
        max_tokens: int | None = None,
        quotas: Mapping[str, int] | None = None,
        purpose: str | None = None,
        detail: str | Mapping[str, str] | None = None,
        exclude_uris: list[str] | None = None,
        rewrite: str | bool | None = None,
        rewrite_max_bullets: int | None = None,
    ) -> Call[dict[str, Any]]:
        """``POST /api/v1/search/search``; context-only fields are sent only when given."""
        payload = body(
            query=query,
            session_id=session_id,
            target_uri=target_uri,
            limit=limit,
            score_threshold=score_threshold,
            context_type=context_type,
            mode=mode,
            max_tokens=max_tokens,
            quotas=dict(quotas) if quotas is not None else None,
            purpose=purpose,
            detail=dict(detail) if isinstance(detail, Mapping) else detail,
            exclude_uris=exclude_uris,
            rewrite=rewrite,
            rewrite_max_bullets=rewrite_max_bullets,
        )
        return call("POST", f"{_SEARCH}/search", json=payload)

    def assemble_context(
        self,
        query: str,
        *,
        session_id: str | None = None,
        limit: int = 10,
        max_tokens: int = 1600,
        quotas: Mapping[str, int] | None = None,
        purpose: str | None = None,
        detail: str | Mapping[str, str] = "auto",
        exclude_uris: list[str] | None = None,
        context_type: str | list[str] | None = None,
        score_threshold: float | None = None,
        rewrite: str | bool = "off",
        rewrite_max_bullets: int = 6,
        dedup_turns: int = 0,
    ) -> Call[dict[str, Any]]:
        """``POST /api/v1/search/search`` with ``mode="context"``."""
        payload = body(
            query=query,
            mode="context",
            session_id=session_id,
            limit=limit,
            max_tokens=max_tokens,
            quotas=dict(quotas) if quotas is not None else None,
            purpose=purpose,
            detail=dict(detail) if isinstance(detail, Mapping) else detail,
            exclude_uris=exclude_uris,
            context_type=context_type,
            score_threshold=score_threshold,
            rewrite=rewrite,
            rewrite_max_bullets=rewrite_max_bullets,
            dedup_turns=dedup_turns,
        )
        return call("POST", f"{_SEARCH}/search", json=payload)

    def grep(
        self, uri: str, pattern: str, *, case_insensitive: bool = False, node_limit: int = 256
    ) -> Call[dict[str, Any]]:
        payload = {
            "uri": uri,
            "pattern": pattern,
            "case_insensitive": case_insensitive,
            "node_limit": node_limit,
        }
        return call("POST", f"{_SEARCH}/grep", json=payload)

    def glob(
        self, pattern: str, *, uri: str = "viking://", node_limit: int = 256
    ) -> Call[dict[str, Any]]:
        payload = {"pattern": pattern, "uri": uri, "node_limit": node_limit}
        return call("POST", f"{_SEARCH}/glob", json=payload)

    def reindex(
        self,
        uri: str = "viking://",
        *,
        mode: ProcessingMode = "vectors_only",
        wait: bool = True,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(uri=uri, mode=mode, wait=wait, timeout=timeout)
        return call("POST", f"{_CONTENT}/reindex", json=payload, waits=wait, wait_timeout=timeout)

    def consistency(self, uri: str = "viking://") -> Call[dict[str, Any]]:
        return call("POST", f"{_SYSTEM}/consistency", json={"uri": uri})

    def get_task(self, task_id: str) -> Call[dict[str, Any]]:
        return call("GET", f"/api/v1/tasks/{segment(task_id)}")

    def list_tasks(
        self, *, task_type: str | None = None, status: str | None = None, limit: int = 50
    ) -> Call[list[dict[str, Any]]]:
        params = query(task_type=task_type, status=status, limit=limit)
        return call("GET", "/api/v1/tasks", params=params)

    def wait_processing(self, timeout: float | None = None) -> Call[dict[str, Any]]:
        return call(
            "POST", f"{_SYSTEM}/wait", json=body(timeout=timeout), waits=True, wait_timeout=timeout
        )

    # -- skills ----------------------------------------------------------------------------

    def add_skill(
        self,
        data: object = None,
        *,
        temp_file_id: str | None = None,
        target_uri: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        """A skill dict, MCP tool dict or SKILL.md text travels as ``data``; a local file,
        folder (zipped) or bytes are uploaded first and sent as ``temp_file_id``."""
        upload = skill_source(data) if temp_file_id is None else None
        payload = body(
            data=data if upload is None else None,
            temp_file_id=temp_file_id,
            target_uri=target_uri,
            wait=wait,
            timeout=timeout,
        )
        return call("POST", _SKILLS, json=payload, upload=upload, waits=wait, wait_timeout=timeout)

    def list_skills(self, target_uri: str | None = None) -> Call[list[dict[str, Any]]]:
        return call("GET", _SKILLS, params=query(target_uri=target_uri), convert=_skills_list)

    def get_skill(self, name: str, *, target_uri: str | None = None) -> Call[dict[str, Any]]:
        return call("GET", f"{_SKILLS}/{segment(name)}", params=query(target_uri=target_uri))

    def delete_skill(self, name: str, *, target_uri: str | None = None) -> Call[dict[str, Any]]:
        return call("DELETE", f"{_SKILLS}/{segment(name)}", params=query(target_uri=target_uri))

    # -- privacy configs -------------------------------------------------------------------

    def upsert_privacy_config(
        self,
        category: str,
        target_key: str,
        values: dict[str, str],
        *,
        change_reason: str = "",
        labels: dict[str, str] | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(values=values, change_reason=change_reason, labels=labels)
        return call("POST", _privacy(category, target_key), json=payload)

    def get_privacy_config(self, category: str, target_key: str) -> Call[dict[str, Any]]:
        return call("GET", _privacy(category, target_key))

    def list_privacy_categories(self) -> Call[list[str]]:
        return call("GET", _PRIVACY)

    def list_privacy_targets(self, category: str) -> Call[list[str]]:
        return call("GET", f"{_PRIVACY}/{segment(category)}")

    def list_privacy_versions(self, category: str, target_key: str) -> Call[list[int]]:
        return call("GET", f"{_privacy(category, target_key)}/versions")

    def get_privacy_version(
        self, category: str, target_key: str, version: int
    ) -> Call[dict[str, Any]]:
        return call("GET", f"{_privacy(category, target_key)}/versions/{segment(version)}")

    def activate_privacy_version(
        self, category: str, target_key: str, version: int
    ) -> Call[dict[str, Any]]:
        path = f"{_privacy(category, target_key)}/activate"
        return call("POST", path, json={"version": version})

    def privacy_values(self, category: str, target_key: str) -> Call[dict[str, str]]:
        """The active values, read from ``GET .../{category}/{target_key}`` (``current``)."""
        return call("GET", _privacy(category, target_key), convert=_privacy_values)

    # -- sessions --------------------------------------------------------------------------

    def create_session(
        self,
        session_id: str | None = None,
        *,
        auto_commit_policy: Mapping[str, Any] | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(
            session_id=session_id,
            auto_commit_policy=dict(auto_commit_policy) if auto_commit_policy else None,
        )
        return call("POST", _SESSIONS, json=payload)

    def list_sessions(self) -> Call[list[dict[str, Any]]]:
        return call("GET", _SESSIONS)

    def get_session(self, session_id: str, *, auto_create: bool = False) -> Call[dict[str, Any]]:
        return call("GET", _session(session_id), params={"auto_create": auto_create})

    def delete_session(self, session_id: str) -> Call[dict[str, Any]]:
        return call("DELETE", _session(session_id))

    def add_message(
        self,
        session_id: str,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        *,
        peer_id: str | None = None,
        turn_id: str | None = None,
        created_at: str | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(
            role=role,
            content=content,
            parts=parts,
            peer_id=peer_id,
            turn_id=turn_id,
            created_at=created_at,
        )
        return call("POST", f"{_session(session_id)}/messages", json=payload)

    def add_messages(self, session_id: str, messages: list[dict[str, Any]]) -> Call[dict[str, Any]]:
        path = f"{_session(session_id)}/messages/batch"
        return call("POST", path, json={"messages": messages})

    def record_used(
        self,
        session_id: str,
        contexts: list[str] | None = None,
        skill: Mapping[str, Any] | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(contexts=contexts, skill=dict(skill) if skill is not None else None)
        return call("POST", f"{_session(session_id)}/used", json=payload)

    def session_context(self, session_id: str, token_budget: int = 128_000) -> Call[dict[str, Any]]:
        path = f"{_session(session_id)}/context"
        return call("GET", path, params={"token_budget": token_budget})

    def commit_session(
        self,
        session_id: str,
        *,
        keep_recent_count: int = 0,
        wait: bool = False,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        payload = body(keep_recent_count=keep_recent_count, wait=wait, timeout=timeout)
        return call(
            "POST",
            f"{_session(session_id)}/commit",
            json=payload,
            waits=wait,
            wait_timeout=timeout,
        )

    def extract(self, session_id: str) -> Call[dict[str, Any]]:
        return call("POST", f"{_session(session_id)}/extract", waits=True)

    def list_archives(self, session_id: str) -> Call[list[dict[str, Any]]]:
        return call("GET", f"{_session(session_id)}/archives")

    def get_archive(self, session_id: str, archive: int | str) -> Call[dict[str, Any]]:
        return call("GET", f"{_session(session_id)}/archives/{segment(archive)}")

    def retry_archive(
        self,
        session_id: str,
        archive: int | str,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> Call[dict[str, Any]]:
        path = f"{_session(session_id)}/archives/{segment(archive)}/retry"
        payload = body(wait=wait, timeout=timeout)
        return call("POST", path, json=payload, waits=wait, wait_timeout=timeout)


def _privacy(category: str, target_key: str) -> str:
    return f"{_PRIVACY}/{segment(category)}/{segment(target_key)}"


def _session(session_id: str) -> str:
    return f"{_SESSIONS}/{segment(session_id)}"
