"""Skills: folders holding a ``SKILL.md`` (YAML front matter + Markdown body).

Account-wide skills live under ``viking://agent/skills/{name}/``, a user's private skills under
``viking://user/{uid}/skills/{name}/``; a private skill hides an account skill of the same name
for its user.

``add_skill`` accepts the four formats of seed 004 (see :mod:`openviking_mcp.skills`). A skill
folder is staged beside its target and swapped in whole, so a reader sees the old skill or the
new one, never a mix, and a failed add leaves nothing behind. The L0 abstract is the skill's
name and description (kept by later refreshes), the L1 overview is generated like any folder's
(LLM when configured, else extractive) and SKILL.md is the L2 content; all are indexed with
context type ``skill``. Secrets found in SKILL.md are replaced by placeholders and kept in the
adder's privacy config (category ``skill``); reads by that user restore them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from typing import Any

from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.skills import (
    Skill,
    parse_skill,
    redact,
    render_skill_md,
    restore,
    split_front_matter,
)
from openviking_mcp.skills.bundled import bundled_skill_dirs
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    render_sidecar,
    sidecar_body,
)

__all__ = ["SKILL_FILE", "SkillOps", "split_skill_md"]

SKILL_FILE = "SKILL.md"
_MAX_SKILLS = 1000
_PRIVACY_CATEGORY = "skill"
#: ``generated_by.component`` of a skill's L0 sidecar: refreshes keep it (see indexing).
SKILL_COMPONENT = "skill"


def split_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)`` of a stored SKILL.md; unreadable front matter counts as none."""
    try:
        parts = split_front_matter(text)
    except OpenVikingError:
        parts = None
    return parts if parts is not None else ({}, text.strip())


def _abstract(skill: Skill) -> str:
    """The L0 of a skill: its name and description (and tags)."""
    text = f"{skill.name}: {skill.description}"
    return f"{text}\nTags: {', '.join(skill.tags)}" if skill.tags else text


class SkillOps(ServiceCore):
    # -- where skills live -----------------------------------------------------------------

    def _skill_roots(self, ctx: RequestContext) -> list[VikingURI]:
        """Lookup order: the caller's private skills, then the account's."""
        roots = []
        if not ctx.is_root:
            roots.append(self._resolve(ctx, f"viking://user/{ctx.user_id}/skills"))
        roots.append(self._resolve(ctx, "viking://agent/skills"))
        return roots

    def _skill_root(self, ctx: RequestContext, target_uri: str | None) -> VikingURI:
        """The root a skill is added to: ``viking://agent/skills`` (default) or the caller's
        private ``viking://~/skills``; a URI below either collapses to it."""
        if not target_uri:
            return self._resolve(ctx, "viking://agent/skills")
        target = self._resolve(ctx, target_uri, field="target_uri")
        for root in self._skill_roots(ctx):
            if root == target or root.is_ancestor_of(target):
                return root
        raise InvalidArgumentError(
            "target_uri must be viking://agent/skills or your own viking://~/skills",
            {"field": "target_uri", "target_uri": target_uri},
        )

    async def _find_skill_dir(
        self, ctx: RequestContext, name: str, target_uri: str | None
    ) -> VikingURI:
        roots = [self._skill_root(ctx, target_uri)] if target_uri else self._skill_roots(ctx)
        for root in roots:
            directory = root.join(name)
            if await self.store.exists(f"{self._key(ctx, directory)}/{SKILL_FILE}"):
                return directory
        raise NotFoundError(name, "skill")

    # -- add / replace ---------------------------------------------------------------------

    async def add_skill(
        self,
        ctx: RequestContext,
        data: object = None,
        *,
        temp_file_id: str | None = None,
        target_uri: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
        allow_paths: bool = True,
        expect_name: str | None = None,
    ) -> dict[str, Any]:
        """Add (or cleanly replace) a skill; ``data`` is any format of seed 004 or a
        :class:`Skill`, or ``temp_file_id`` names an uploaded SKILL.md or zip.
        ``expect_name`` (a replace of a named skill) refuses content with another name.
        Result: ``{status, uri, root_uri, name, auxiliary_files, action, ...}``."""
        self._require_open()
        if (data is None) == (temp_file_id is None):
            raise InvalidArgumentError(
                "Give exactly one of data or temp_file_id", {"field": "data"}
            )
        if temp_file_id is not None:
            path, _ = await asyncio.to_thread(self._upload_path, ctx, temp_file_id)
            skill = await asyncio.to_thread(parse_skill, path, allow_paths=True)
        elif isinstance(data, Skill):
            skill = data
        else:
            skill = await asyncio.to_thread(parse_skill, data, allow_paths=allow_paths)
        if expect_name is not None and skill.name != expect_name:
            raise InvalidArgumentError(
                f"The skill's name '{skill.name}' does not match '{expect_name}'",
                {"field": "name", "expected": expect_name, "got": skill.name},
            )
        root = self._skill_root(ctx, target_uri)
        if root.scope == "agent":
            check_access(ctx, root.join(skill.name), mutate=True)
        text, secrets = redact(render_skill_md(skill), skill.name)
        directory = root.join(skill.name)
        existed = await self._swap_in(ctx, root, skill, text)
        await self._store_secrets(ctx, skill.name, secrets)
        if self._index_error is None:  # rows of files the new version may no longer have
            await self.index.delete(
                IndexFilter(account_id=ctx.account_id, uri_prefixes=(directory.uri,))
            )
        result: dict[str, Any] = {
            "status": "success",
            "uri": directory.uri + "/",
            "root_uri": root.uri,
            "name": skill.name,
            "auxiliary_files": len(skill.auxiliary),
            "action": "update" if existed else "create",
            "secrets_redacted": len(secrets),
        }
        if self._index_error is not None:
            return {**result, "semantic_status": "skipped", "vector_status": "skipped"}
        task_id = await self._queue_refresh(
            ctx, [directory.uri], recursive=True, resource_id=directory.uri
        )
        result["task_id"] = task_id
        if wait:
            record = await self.tasks.wait(task_id, timeout)
            result["queue_status"] = record.status
        return result

    async def _swap_in(self, ctx: RequestContext, root: VikingURI, skill: Skill, text: str) -> bool:
        """Stage the skill folder beside its target, then swap it in; True if it replaced one."""
        root_key = self._key(ctx, root)
        staging = f"{root_key}/.staging-{uuid.uuid4().hex}"
        target_key = f"{root_key}/{skill.name}"
        directory = root.join(skill.name)
        try:
            await self.store.mkdir(staging)
            await self.store.write_bytes(f"{staging}/{SKILL_FILE}", text.encode("utf-8"))
            abstract = render_sidecar(
                directory.uri, _abstract(skill), component=SKILL_COMPONENT, trigger="add"
            )
            await self.store.write_bytes(f"{staging}/{ABSTRACT_FILE}", abstract.encode("utf-8"))
            for rel, content in skill.auxiliary:
                await self.store.write_bytes(f"{staging}/{rel}", content)
            async with self.locks.lock(self._lock_path(ctx, directory)):
                existed = await self.store.exists(target_key)
                old = f"{root_key}/.old-{uuid.uuid4().hex}"
                if existed:
                    await self.store.move(target_key, old)
                try:
                    await self.store.move(staging, target_key)
                except BaseException:
                    if existed:
                        await self.store.move(old, target_key)
                    raise
                if existed:
                    await self.store.remove(old, recursive=True)
            return existed
        finally:
            if await self.store.exists(staging):
                await self.store.remove(staging, recursive=True)

    async def _store_secrets(self, ctx: RequestContext, name: str, secrets: dict[str, str]) -> None:
        """Keep redacted values in the adder's privacy config (``{field: value}``)."""
        if ctx.is_root:
            return
        values = {key.rsplit(":", 1)[-1].rstrip("}"): value for key, value in secrets.items()}
        if values:
            await self.upsert_privacy_config(
                ctx, _PRIVACY_CATEGORY, name, values, change_reason="add_skill"
            )

    async def _restore_secrets(self, ctx: RequestContext, name: str, text: str) -> str:
        if ctx.is_root or "{{ov_privacy:" not in text:
            return text
        values = await self.privacy_values(ctx, _PRIVACY_CATEGORY, name)
        mapping = {f"{{{{ov_privacy:skill:{name}:{k}}}}}": v for k, v in values.items()}
        return restore(text, mapping) if mapping else text

    async def install_bundled_skills(
        self, ctx: RequestContext, *, only_missing: bool = False, wait: bool = False
    ) -> dict[str, Any]:
        """Add the skills shipped with the package to ``viking://agent/skills``.

        ``only_missing`` leaves skills that already exist alone (a user's edits survive).
        """
        installed: list[str] = []
        skipped: list[str] = []
        for folder in bundled_skill_dirs():
            skill = await asyncio.to_thread(parse_skill, folder, allow_paths=True)
            target = self._resolve(ctx, "viking://agent/skills").join(skill.name)
            if only_missing and await self.store.exists(self._key(ctx, target)):
                skipped.append(skill.name)
                continue
            await self.add_skill(ctx, skill, wait=wait)
            installed.append(skill.name)
        return {"installed": installed, "skipped": skipped, "root_uri": "viking://agent/skills"}

    async def ensure_bundled_skills(self) -> dict[str, Any] | None:
        """On a fresh workspace, install the bundled skills into the default account once
        (a marker in ``meta/`` remembers it, so deleted skills stay deleted)."""
        marker = self.config.workspace / "meta" / "bundled-skills.json"
        if await asyncio.to_thread(marker.exists):
            return None
        ctx = RequestContext.root(self.config.default_account)
        report = await self.install_bundled_skills(ctx, only_missing=True)
        payload = json.dumps({"installed": report["installed"], "at": time.time()})
        await asyncio.to_thread(marker.write_text, payload, encoding="utf-8")
        return report

    # -- read ------------------------------------------------------------------------------

    async def list_skills(
        self, ctx: RequestContext, target_uri: str | None = None
    ) -> list[dict[str, Any]]:
        """Skills the caller can use, by name (a private skill hides an account skill):
        ``{name, description, uri, root_uri, scope, tags, allowed_tools, metadata}``."""
        roots = [self._skill_root(ctx, target_uri)] if target_uri else self._skill_roots(ctx)
        found: dict[str, dict[str, Any]] = {}
        for root in reversed(roots):  # private last, so it wins
            key = self._key(ctx, root)
            try:
                children = await self.store.listdir(key)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for child in children[:_MAX_SKILLS]:
                if not child.is_dir or child.name.startswith("."):
                    continue
                text = await self._read_text(f"{key}/{child.name}/{SKILL_FILE}")
                if text is None:
                    continue
                meta, body = split_skill_md(text)
                summary = _summary(meta, body, child.name, root.join(child.name), root)
                found[summary["name"]] = summary
        return sorted(found.values(), key=lambda s: s["name"])

    async def get_skill(
        self, ctx: RequestContext, name: str, *, target_uri: str | None = None
    ) -> dict[str, Any]:
        """One skill: its summary, ``abstract``, ``overview``, ``content`` (SKILL.md with the
        caller's secrets restored), ``content_sha256`` and ``files``."""
        directory = await self._find_skill_dir(ctx, name, target_uri)
        key = self._key(ctx, directory)
        raw = await self._read_text(f"{key}/{SKILL_FILE}") or ""
        content = await self._restore_secrets(ctx, name, raw)
        meta, body = split_skill_md(content)
        files = []
        for entry in await self.store.walk(key, 20, 10_000):
            rel = entry.key[len(key) + 1 :]
            if any(p.startswith(".") for p in rel.split("/")):
                continue
            kind = "auxiliary"
            if entry.is_dir:
                kind = "directory"
            elif rel == SKILL_FILE:
                kind = "definition"
            uri = directory.join(rel).uri
            files.append({"path": rel, "uri": uri, "kind": kind, "size": entry.size})
        root = directory.parent or directory
        return {
            "type": "skill",
            **_summary(meta, body, name, directory, root),
            "skill_md_uri": directory.join(SKILL_FILE).uri,
            "abstract": sidecar_body(await self._read_text(f"{key}/{ABSTRACT_FILE}") or ""),
            "overview": sidecar_body(await self._read_text(f"{key}/{OVERVIEW_FILE}") or ""),
            "content": content,
            "body": body,
            "content_sha256": hashlib.sha256(raw.encode("utf-8")).hexdigest(),
            "files": files,
        }

    async def read_skill(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        """One skill by name for prompts: ``{name, description, uri, scope, body, meta}``."""
        for skill in await self.list_skills(ctx):
            if skill["name"] == name:
                target = self._resolve(ctx, f"{skill['uri']}/{SKILL_FILE}")
                text = await self._read_text(self._key(ctx, target)) or ""
                meta, body = split_skill_md(await self._restore_secrets(ctx, name, text))
                return {**skill, "body": body, "meta": meta}
        raise NotFoundError(name, "skill")

    async def _after_read(self, ctx: RequestContext, uri: VikingURI, text: str) -> str:
        """SKILL.md reads restore the caller's own redacted secrets."""
        parts = uri.parts
        is_skill_md = uri.name == SKILL_FILE and (
            (len(parts) == 4 and parts[:2] == ("agent", "skills"))
            or (len(parts) == 5 and parts[0] == "user" and parts[2] == "skills")
        )
        if is_skill_md:
            text = await self._restore_secrets(ctx, parts[-2], text)
        return await super()._after_read(ctx, uri, text)

    # -- delete ----------------------------------------------------------------------------

    async def delete_skill(
        self, ctx: RequestContext, name: str, *, target_uri: str | None = None
    ) -> dict[str, Any]:
        """Remove a skill folder, its index rows and the caller's secrets for it."""
        directory = await self._find_skill_dir(ctx, name, target_uri)
        if directory.scope == "agent":
            check_access(ctx, directory, mutate=True)
        async with self.locks.lock(self._lock_path(ctx, directory)):
            await self.store.remove(self._key(ctx, directory), recursive=True)
        privacy_deleted = False
        if not ctx.is_root:
            privacy_deleted = bool(await self.delete_privacy_config(ctx, _PRIVACY_CATEGORY, name))
        await self._after_remove(ctx, directory)
        return {
            "name": name,
            "uri": directory.uri,
            "root_uri": (directory.parent or directory).uri,
            "privacy_deleted": privacy_deleted,
        }


def _summary(
    meta: dict[str, Any], body: str, name: str, directory: VikingURI, root: VikingURI
) -> dict[str, Any]:
    metadata = meta.get("metadata")
    return {
        "name": str(meta.get("name") or name),
        "description": str(meta.get("description") or _first_line(body)),
        "uri": directory.uri,
        "root_uri": root.uri,
        "scope": "agent" if root.scope == "agent" else "user",
        "tags": list(meta.get("tags") or []),
        "allowed_tools": list(meta.get("allowed-tools") or []),
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


def _first_line(body: str) -> str:
    for line in body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""
