"""The skill service: add, replace, validate, find, list, get, read and delete skills, and
install the bundled ones.

A user's private skills live under ``viking://user/{uid}/skills/{name}``, account-wide skills
under ``viking://agent/skills/{name}``; a private skill hides an account skill of the same name
for its user. A skill added without ``target_uri`` is private to the user who adds it (ROOT,
which has no user space, adds to the account's); the bundled skills go to the account's.

A skill folder is staged beside its target and swapped in whole, so a reader sees the old skill
or the new one, never a mix, and a failed add leaves nothing behind. The L0 abstract is the
skill's name and description (kept by later refreshes), the L1 overview is generated like any
folder's and SKILL.md is the L2 content; all are indexed with context type ``skill``. Secrets
found in SKILL.md are replaced by placeholders and kept in the adder's privacy config (category
``skill``); reads by that user restore them (:meth:`SkillService.restore_for_reader` is the
:class:`~openviking_mcp.events.TextRead` filter doing so for plain file reads). Deleting a skill
publishes :class:`~openviking_mcp.events.Removed`. ``find`` runs the search feature's
``find``, which the constructor receives (:mod:`openviking_mcp.skills.finding`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.privacy import PrivacyTargetRequest, UpsertPrivacyRequest
from openviking_mcp.contract.skills import (
    AddSkillRequest,
    AddSkillResult,
    DeleteSkillResult,
    FindSkillsRequest,
    FindSkillsResult,
    GetSkillRequest,
    InstallBundledRequest,
    InstallBundledResult,
    ReadSkillRequest,
    SkillDetail,
    SkillList,
    SkillPrompt,
    SkillRequest,
    SkillsRequest,
    SkillSummary,
    SkillValidation,
    UpdateSkillRequest,
    ValidateSkillRequest,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.events import Removed, TextRead
from openviking_mcp.indexing.service import IndexingService
from openviking_mcp.privacy.service import PrivacyService
from openviking_mcp.skills.bundled import bundled_skill_dirs
from openviking_mcp.skills.detail import read_skill_detail
from openviking_mcp.skills.finding import FindHits, SkillFinder
from openviking_mcp.skills.formats import parse_skill
from openviking_mcp.skills.model import Skill, validate_skill_name
from openviking_mcp.skills.secrets import redact, restore
from openviking_mcp.skills.skill_md import render_skill_md
from openviking_mcp.skills.stored import (
    SKILL_COMPONENT,
    SKILL_FILE,
    is_skill_md,
    skill_abstract,
    skill_summary,
    split_skill_md,
)
from openviking_mcp.skills.validation import validate_skill_data
from openviking_mcp.skills.waiting import task_queue_status
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, render_sidecar
from openviking_mcp.store import Store
from openviking_mcp.uploads.service import UploadService

__all__ = ["AGENT_SKILLS", "SkillService"]

AGENT_SKILLS = "viking://agent/skills"
_MAX_SKILLS = 1000
_PRIVACY_CATEGORY = "skill"


class SkillService:
    """See the module docs."""

    def __init__(
        self,
        store: Store,
        privacy: PrivacyService,
        uploads: UploadService,
        indexing: IndexingService,
        find: FindHits,
    ) -> None:
        self._store = store
        self._privacy = privacy
        self._uploads = uploads
        self._indexing = indexing
        self._finder = SkillFinder(store, find)

    # -- where skills live -----------------------------------------------------------------

    def skill_roots(self, ctx: RequestContext) -> list[VikingURI]:
        """Lookup order: the caller's private skills, then the account's."""
        roots = []
        if not ctx.is_root:
            roots.append(self._store.resolve(ctx, f"viking://user/{ctx.user_id}/skills"))
        roots.append(self._store.resolve(ctx, AGENT_SKILLS))
        return roots

    def skill_root(self, ctx: RequestContext, target_uri: str | None) -> VikingURI:
        """The root a skill is added to: the caller's private ``viking://~/skills`` (default;
        ROOT's is ``viking://agent/skills``) or ``viking://agent/skills``; a URI below either
        collapses to it. Another target is ``INVALID_ARGUMENT`` naming the ``allowed`` roots."""
        roots = self.skill_roots(ctx)
        if not target_uri:
            return roots[0]
        target = self._store.resolve(ctx, target_uri, field="target_uri")
        for root in roots:
            if root == target or root.is_ancestor_of(target):
                return root
        allowed = [root.uri for root in roots]
        raise InvalidArgumentError(
            f"Unsupported skill target URI: {target_uri}; use {' or '.join(allowed)}",
            {"field": "target_uri", "target_uri": target_uri, "allowed": allowed},
        )

    async def _find_skill_dir(
        self, ctx: RequestContext, name: str, target_uri: str | None
    ) -> VikingURI:
        """The folder of skill ``name``: in ``target_uri``'s root, else the caller's private
        skills, then the account's (an invalid name is ``INVALID_ARGUMENT``)."""
        name = validate_skill_name(name)
        roots = [self.skill_root(ctx, target_uri)] if target_uri else self.skill_roots(ctx)
        for root in roots:
            directory = root.join(name)
            key = self._store.key(ctx, directory)
            if await self._store.content.exists(f"{key}/{SKILL_FILE}"):
                return directory
        raise NotFoundError(name, "skill")

    # -- add / replace ---------------------------------------------------------------------

    async def add(
        self, ctx: RequestContext, req: AddSkillRequest, *, allow_paths: bool = True
    ) -> AddSkillResult:
        """Add (or cleanly replace) a skill from ``data`` (any accepted format, or a
        :class:`Skill`; a local path only with ``allow_paths``) or an uploaded
        ``temp_file_id`` (which wins when both are given)."""
        self._store.require_open()
        skill = await self._parse(ctx, req.data, req.temp_file_id, allow_paths=allow_paths)
        return await self.add_parsed(
            ctx, skill, target_uri=req.target_uri, wait=req.wait, timeout=req.timeout
        )

    async def _parse(
        self, ctx: RequestContext, data: object, temp_file_id: str | None, *, allow_paths: bool
    ) -> Skill:
        """The skill of ``data`` or of the upload ``temp_file_id`` (which wins)."""
        if data is None and temp_file_id is None:
            raise InvalidArgumentError("Give data or temp_file_id", {"field": "data"})
        if temp_file_id is not None:
            await self._uploads.localize(temp_file_id)
            path, _ = await asyncio.to_thread(self._uploads.upload_path, ctx, temp_file_id)
            return await asyncio.to_thread(parse_skill, path, allow_paths=True)
        if isinstance(data, Skill):
            return data
        return await asyncio.to_thread(parse_skill, data, allow_paths=allow_paths)

    async def update(
        self, ctx: RequestContext, req: UpdateSkillRequest, *, allow_paths: bool = True
    ) -> AddSkillResult:
        """Replace the existing skill ``skill_name`` (``NOT_FOUND`` if there is none) in its
        own root; content with another name is refused and the old skill stays."""
        self._store.require_open()
        directory = await self._find_skill_dir(ctx, req.skill_name, req.target_uri)
        skill = await self._parse(ctx, req.data, req.temp_file_id, allow_paths=allow_paths)
        result = await self.add_parsed(
            ctx,
            skill,
            target_uri=(directory.parent or directory).uri,
            wait=req.wait,
            timeout=req.timeout,
            expect_name=directory.name,
        )
        result.action = "update"
        return result

    async def validate(self, ctx: RequestContext, req: ValidateSkillRequest) -> SkillValidation:
        """What ``add_skill`` would make of ``req.data``, and its format issues; stores
        nothing."""
        return await asyncio.to_thread(validate_skill_data, req)

    async def find(self, ctx: RequestContext, req: FindSkillsRequest) -> FindSkillsResult:
        """The skills matching ``req.query`` in the caller's roots (or ``target_uri``'s)."""
        self._store.require_open()
        if req.target_uri:
            root = self.skill_root(ctx, req.target_uri)
            return await self._finder.find(ctx, req, [root], one_root=True)
        return await self._finder.find(ctx, req, self.skill_roots(ctx), one_root=False)

    async def add_parsed(
        self,
        ctx: RequestContext,
        skill: Skill,
        *,
        target_uri: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
        expect_name: str | None = None,
    ) -> AddSkillResult:
        """Store a parsed skill (see :meth:`add`) and queue its indexing."""
        if expect_name is not None and skill.name != expect_name:
            raise InvalidArgumentError(
                f"The skill's name '{skill.name}' does not match '{expect_name}'",
                {"field": "name", "expected": expect_name, "got": skill.name},
            )
        store = self._store
        root = self.skill_root(ctx, target_uri)
        if root.scope == "agent":
            check_access(ctx, root.join(skill.name), mutate=True)
        text, secrets = redact(render_skill_md(skill), skill.name)
        directory = root.join(skill.name)
        existed = await self._swap_in(ctx, root, skill, text)
        await self._store_secrets(ctx, skill.name, secrets)
        result = AddSkillResult(
            uri=directory.uri,
            root_uri=directory.uri,
            skills_root=root.uri,
            name=skill.name,
            auxiliary_files=len(skill.auxiliary),
            action="update" if existed else "create",
            secrets_redacted=len(secrets),
        )
        if not store.indexing_enabled:
            result.semantic_status = result.vector_status = "skipped"
            return result
        # rows of files the new version may no longer have
        await store.index.delete(
            IndexFilter(account_id=ctx.account_id, uri_prefixes=(directory.uri,))
        )
        result.task_id = await self._indexing.queue_refresh(
            ctx, [directory.uri], recursive=True, resource_id=directory.uri
        )
        if wait:
            record = await store.tasks.wait(result.task_id, timeout)
            result.queue_status = task_queue_status(record, str(store.config.workspace))
        return result

    async def _stage(self, staging: str, directory: VikingURI, skill: Skill, text: str) -> None:
        """Write the whole skill folder at the storage key ``staging``."""
        content = self._store.content
        await content.mkdir(staging)
        await content.write_bytes(f"{staging}/{SKILL_FILE}", text.encode("utf-8"))
        abstract = render_sidecar(
            directory.uri, skill_abstract(skill), component=SKILL_COMPONENT, trigger="add"
        )
        await content.write_bytes(f"{staging}/{ABSTRACT_FILE}", abstract.encode("utf-8"))
        for rel, data in skill.auxiliary:
            await content.write_bytes(f"{staging}/{rel}", data)

    async def _swap_in(self, ctx: RequestContext, root: VikingURI, skill: Skill, text: str) -> bool:
        """Stage the skill folder beside its target, then swap it in; True if it replaced one."""
        store, content = self._store, self._store.content
        root_key = store.key(ctx, root)
        staging = f"{root_key}/.staging-{uuid.uuid4().hex}"
        target_key = f"{root_key}/{skill.name}"
        directory = root.join(skill.name)
        try:
            await self._stage(staging, directory, skill, text)
            async with store.locks.lock(store.lock_path(ctx, directory)):
                existed = await content.exists(target_key)
                if existed:  # replacing a shared skill follows the owner rule
                    await store.owners.require(ctx, directory)
                else:
                    await store.owners.claim(ctx, directory)
                old = f"{root_key}/.old-{uuid.uuid4().hex}"
                if existed:
                    await content.move(target_key, old)
                try:
                    await content.move(staging, target_key)
                except BaseException:
                    if existed:
                        await content.move(old, target_key)
                    raise
                if existed:
                    await content.remove(old, recursive=True)
            return existed
        finally:
            if await content.exists(staging):
                await content.remove(staging, recursive=True)

    # -- secrets ---------------------------------------------------------------------------

    async def _store_secrets(self, ctx: RequestContext, name: str, secrets: dict[str, str]) -> None:
        """Keep redacted values in the adder's privacy config (``{field: value}``)."""
        if ctx.is_root:
            return
        values = {key.rsplit(":", 1)[-1].rstrip("}"): value for key, value in secrets.items()}
        if values:
            request = UpsertPrivacyRequest(
                category=_PRIVACY_CATEGORY,
                target_key=name,
                values=values,
                change_reason="add_skill",
            )
            await self._privacy.upsert(ctx, request)

    async def _restore_secrets(self, ctx: RequestContext, name: str, text: str) -> str:
        """``text`` with the placeholders of skill ``name`` replaced by the caller's values."""
        if ctx.is_root or "{{ov_privacy:" not in text:
            return text
        request = PrivacyTargetRequest(category=_PRIVACY_CATEGORY, target_key=name)
        values = await self._privacy.values(ctx, request)
        mapping = {f"{{{{ov_privacy:skill:{name}:{k}}}}}": v for k, v in values.items()}
        return restore(text, mapping) if mapping else text

    async def restore_for_reader(self, event: TextRead, text: str) -> str:
        """The :class:`TextRead` filter: SKILL.md reads restore the reader's own secrets."""
        if not is_skill_md(event.uri):
            return text
        return await self._restore_secrets(event.ctx, event.uri.parts[-2], text)

    # -- bundled skills --------------------------------------------------------------------

    async def install_bundled(
        self, ctx: RequestContext, req: InstallBundledRequest
    ) -> InstallBundledResult:
        """Add the skills shipped with the package to ``viking://agent/skills``.

        ``only_missing`` leaves skills that already exist alone (a user's edits survive).
        """
        installed: list[str] = []
        skipped: list[str] = []
        root = self._store.resolve(ctx, AGENT_SKILLS)
        for folder in bundled_skill_dirs():
            skill = await asyncio.to_thread(parse_skill, folder, allow_paths=True)
            exists = await self._store.content.exists(self._store.key(ctx, root.join(skill.name)))
            if req.only_missing and exists:
                skipped.append(skill.name)
                continue
            await self.add_parsed(ctx, skill, target_uri=root.uri, wait=req.wait)
            installed.append(skill.name)
        return InstallBundledResult(installed=installed, skipped=skipped, root_uri=AGENT_SKILLS)

    async def ensure_bundled(self) -> InstallBundledResult | None:
        """On a fresh workspace, install the bundled skills into the default account once
        (a marker remembers it, so deleted skills stay deleted: ``meta/`` of a local
        workspace, the database of a shared one)."""
        store = self._store
        if await store.read_system("bundled-skills.json") is not None:
            return None
        ctx = RequestContext.root(store.config.default_account)
        report = await self.install_bundled(ctx, InstallBundledRequest(only_missing=True))
        payload = json.dumps({"installed": report.installed, "at": time.time()})
        await store.write_system("bundled-skills.json", payload.encode())
        return report

    # -- read ------------------------------------------------------------------------------

    async def list_page(self, ctx: RequestContext, req: SkillsRequest) -> SkillList:
        """:meth:`list_skills` with the roots listed: ``root_uri`` with a ``target_uri``,
        else ``root_uris`` (the caller's private root first)."""
        if req.target_uri:
            root = self.skill_root(ctx, req.target_uri)
            skills = await self._list_roots(ctx, [root], req.node_limit)
            return SkillList(root_uri=root.uri, skills=skills, total=len(skills))
        roots = self.skill_roots(ctx)
        skills = await self._list_roots(ctx, roots, req.node_limit)
        return SkillList(root_uris=[r.uri for r in roots], skills=skills, total=len(skills))

    async def list_skills(self, ctx: RequestContext, req: SkillsRequest) -> list[SkillSummary]:
        """Skills the caller can use, by name (a private skill hides an account skill); each
        root contributes its first ``node_limit`` folders (0 or less: 1000)."""
        target_uri = req.target_uri
        roots = [self.skill_root(ctx, target_uri)] if target_uri else self.skill_roots(ctx)
        return await self._list_roots(ctx, roots, req.node_limit)

    async def _list_roots(
        self, ctx: RequestContext, roots: list[VikingURI], node_limit: int
    ) -> list[SkillSummary]:
        """The skills of ``roots`` by name, an earlier root's hiding a later one's."""
        store = self._store
        limit = node_limit if node_limit > 0 else _MAX_SKILLS
        found: dict[str, SkillSummary] = {}
        for root in reversed(roots):  # private last, so it wins
            key = store.key(ctx, root)
            try:
                children = await store.content.listdir(key)
            except (FileNotFoundError, NotADirectoryError):
                continue
            folders = [c for c in children if c.is_dir and not c.name.startswith(".")]
            for child in folders[:limit]:
                text = await store.read_text(f"{key}/{child.name}/{SKILL_FILE}")
                if text is None:
                    continue
                meta, body = split_skill_md(text)
                summary = skill_summary(meta, body, child.name, root.join(child.name), root)
                found[summary["name"]] = SkillSummary.model_validate(summary)
        return sorted(found.values(), key=lambda s: s.name)

    async def get(self, ctx: RequestContext, req: GetSkillRequest) -> SkillDetail:
        """One skill: its summary, the tiers asked for, SKILL.md (the caller's secrets
        restored) and its files (see :mod:`openviking_mcp.skills.detail`)."""
        directory = await self._find_skill_dir(ctx, req.skill_name, req.target_uri)
        return await read_skill_detail(self._store, ctx, req, directory, self._restore_secrets)

    async def read(self, ctx: RequestContext, req: ReadSkillRequest) -> SkillPrompt:
        """One skill by name for prompts: its summary, ``body`` and ``meta``."""
        store = self._store
        for skill in await self.list_skills(ctx, SkillsRequest()):
            if skill.name == req.name:
                target = store.resolve(ctx, f"{skill.uri}/{SKILL_FILE}")
                text = await store.read_text(store.key(ctx, target)) or ""
                meta, body = split_skill_md(await self._restore_secrets(ctx, req.name, text))
                return SkillPrompt(**skill.model_dump(), body=body, meta=meta)
        raise NotFoundError(req.name, "skill")

    # -- delete ----------------------------------------------------------------------------

    async def delete(self, ctx: RequestContext, req: SkillRequest) -> DeleteSkillResult:
        """Remove a skill folder, its index rows and the caller's secrets for it."""
        store = self._store
        name = req.skill_name
        directory = await self._find_skill_dir(ctx, name, req.target_uri)
        if directory.scope == "agent":
            check_access(ctx, directory, mutate=True)
        async with store.locks.lock(store.lock_path(ctx, directory)):
            await store.owners.require(ctx, directory)  # account skills: their creator or ADMIN
            await store.content.remove(store.key(ctx, directory), recursive=True)
            await store.owners.removed(ctx, directory)
        privacy_deleted = False
        if not ctx.is_root:
            request = PrivacyTargetRequest(category=_PRIVACY_CATEGORY, target_key=name)
            privacy_deleted = await self._privacy.delete(ctx, request)
        await store.events.publish(Removed(ctx, directory))
        return DeleteSkillResult(
            name=name,
            uri=directory.uri,
            root_uri=directory.uri,
            skills_root=(directory.parent or directory).uri,
            privacy_deleted=privacy_deleted,
        )
