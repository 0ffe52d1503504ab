"""Where a session's files live and their formats (pure: no storage).

A session is the folder ``viking://user/{uid}/sessions/{sid}/``, a managed area that the
filesystem API cannot change and that is never indexed; only the session and commit services
write it, straight to the content store, under the session's path lock:

* ``.meta.json``: counters and settings (see :func:`new_meta`);
* ``messages.jsonl``: the live messages, one JSON object per line;
* ``tool-results/{id}.txt``: tool outputs too long to keep inline;
* ``history/archive_NNN/``: what each commit archived: ``messages.jsonl`` and ``.meta.json``
  from phase 1; ``.abstract.md``/``.overview.md``, ``memory_diff.json`` and ``.done`` (or
  ``.failed.json``) from phase 2, the durable :data:`SESSION_COMMIT_TASK` task.
"""

from __future__ import annotations

import json
import re
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext, validate_identifier
from openviking_mcp.sessions.messages import now_iso

__all__ = [
    "ARCHIVE_META",
    "ARCHIVE_RE",
    "DIFF_FILE",
    "DONE_FILE",
    "FAILED_FILE",
    "HISTORY_DIR",
    "LLM_USAGE_KEYS",
    "MESSAGES_FILE",
    "META_FILE",
    "SESSION_COMMIT_TASK",
    "TOOL_RESULTS_DIR",
    "add_llm_usage",
    "archive_name",
    "check_session_id",
    "detail_fields",
    "dump_json",
    "dump_messages",
    "empty_llm_usage",
    "empty_used",
    "new_meta",
    "parse_archive",
    "parse_messages",
    "usage_record",
]

META_FILE = ".meta.json"
MESSAGES_FILE = "messages.jsonl"
HISTORY_DIR = "history"
TOOL_RESULTS_DIR = "tool-results"
ARCHIVE_META = ".meta.json"
DONE_FILE = ".done"
FAILED_FILE = ".failed.json"
DIFF_FILE = "memory_diff.json"
ARCHIVE_RE = re.compile(r"archive_([0-9]{3,})")
_DIGITS_RE = re.compile(r"[0-9]{1,9}")

SESSION_COMMIT_TASK = "session_commit"
"""The task type of commit phase 2 (its ``resource_id`` is the archive URI)."""


def check_session_id(value: object) -> str:
    """A session id: an identifier (``[A-Za-z0-9_.@-]``, ≤128) not starting with ``.``."""
    if isinstance(value, str) and value.startswith("."):
        raise InvalidArgumentError(
            f"Invalid session_id: {value!r}", {"field": "session_id", "value": value}
        )
    return validate_identifier(value if isinstance(value, str) else "", "session_id")


def archive_name(number: int) -> str:
    return f"archive_{number:03d}"


def parse_archive(value: int | str) -> int:
    """An archive number from ``3``, ``"3"``, ``"003"`` or ``"archive_003"``."""
    text = str(value).strip()
    match = ARCHIVE_RE.fullmatch(text)
    digits = match.group(1) if match else text
    # ASCII digits only: "³" and other Unicode digits pass str.isdigit() but not int()
    if isinstance(value, bool) or not _DIGITS_RE.fullmatch(digits) or int(digits) < 1:
        raise InvalidArgumentError(
            f"Invalid archive id: {value!r} (archive_NNN or a positive number)",
            {"field": "archive_id", "value": text},
        )
    return int(digits)


def dump_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def dump_messages(messages: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages).encode("utf-8")


def parse_messages(text: str | None) -> list[dict[str, Any]]:
    """The messages of a ``messages.jsonl`` text (unreadable lines skipped)."""
    messages: list[dict[str, Any]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            messages.append(message)
    return messages


def empty_used() -> dict[str, list[Any]]:
    """The ``used`` record of a session with nothing recorded."""
    return {"contexts": [], "skills": []}


#: The counters of the original's ``llm_token_usage``.
LLM_USAGE_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
)
# The original's session detail keys that our ``.meta.json`` may lack, with its defaults.
_DETAIL_DEFAULTS: dict[str, Any] = {
    "keep_recent_count": 0,
    "retention_mode": "",
    "keep_recent_turn_count": 0,
    "retained_message_token_budget": 0,
    "min_raw_tail_steps": 1,
    "memory_policy": None,
    "auto_commit_policy": None,
}
# Times the original gives as "" while unset (ours store null).
_DETAIL_TIMES = (
    "last_commit_at",
    "last_message_at",
    "last_auto_commit_at",
    "last_idle_commit_accepted_at",
)


def empty_llm_usage() -> dict[str, int]:
    return dict.fromkeys(LLM_USAGE_KEYS, 0)


def add_llm_usage(total: dict[str, int], more: object) -> None:
    """Add the counters of ``more`` (a usage dict, anything else ignored) to ``total``."""
    if not isinstance(more, dict):
        return
    for name in LLM_USAGE_KEYS:
        value = more.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            total[name] = total.get(name, 0) + value


def detail_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with the original's session detail fields: its defaults for the keys ours lack,
    ``""`` for unset times, zero token usage (callers add the archives' real counts)."""
    detail = {**_DETAIL_DEFAULTS, **meta}
    for name in _DETAIL_TIMES:
        if detail.get(name) is None:
            detail[name] = ""
    detail["llm_token_usage"] = empty_llm_usage()
    detail["embedding_token_usage"] = {"total_tokens": 0}
    detail.setdefault("memory_extraction_config", {"events": {"tags": []}})
    return detail


def usage_record(uri: str, kind: str, skill: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``used`` record in the original's shape: ``{uri, type ("context" or "skill"),
    contribution, input, output, success, timestamp}``; a skill's ``input``, ``output`` and
    ``success`` come from the request (defaults ``""``, ``""``, ``true``)."""
    given = skill or {}
    return {
        "uri": uri,
        "type": kind,
        "contribution": 0.0,
        "input": given.get("input", ""),
        "output": given.get("output", ""),
        "success": given.get("success", True),
        "timestamp": now_iso(),
    }


def new_meta(
    ctx: RequestContext, session_id: str, auto_commit_policy: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``.meta.json`` of a new session (a subset of the original's keys)."""
    now = now_iso()
    return {
        "session_id": session_id,
        "created_at": now,
        "updated_at": now,
        "created_by_account_id": ctx.account_id,
        "created_by_user_id": ctx.user_id,
        "message_count": 0,
        "total_message_count": 0,
        "commit_count": 0,
        "pending_tokens": 0,
        "last_message_at": None,
        "last_commit_at": None,
        "last_auto_commit_at": None,
        "memories_extracted": {},
        "auto_commit_policy": auto_commit_policy,
        "used": empty_used(),
    }
