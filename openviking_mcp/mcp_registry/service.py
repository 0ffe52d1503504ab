"""``McpRegistryService``: registered MCP servers whose tools are imported as skills.

A server is a row of the ``mcp_servers`` table (:mod:`openviking_mcp.storage.mcp_servers`)
plus, when it has secret headers (URL) or environment variables (command), a privacy config of
the user who registered it (category ``mcp-servers``, the server id as key): the values are
never in the table, an answer, the audit log, the event log or a task payload. Every import
goes through :class:`~openviking_mcp.skills.importer.SkillImporter` with the stored config and
the secrets read back, and prunes: the skills of a tool that is gone are deleted.

Who may do what:

* anyone may register a URL server into their own skills root (``viking://~/skills``); an
  ADMIN (or ROOT) into the account's ``viking://agent/skills``;
* a ``command`` needs ``allow_command`` (ROOT, dev mode, or the local CLI and Python clients),
  and so does a URL that resolves to a private address (the URL-import guard, checked again
  on every refresh) unless the server allows private networks;
* ROOT has no user space to keep secrets in: its servers take no headers or env;
* a server is seen and managed by its registrant, the account's ADMINs for a shared one, and
  ROOT; anyone else gets ``NOT_FOUND``. Refreshes run as the registrant, with their role of
  the moment (a removed registrant's server fails its refreshes).

:attr:`scheduler` refreshes the servers that are due (see :mod:`.scheduler`).
"""

from __future__ import annotations

import time
import uuid
from contextlib import suppress

from openviking_mcp.contract.access import check_access
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
    UnavailableError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.mcp_servers import (
    DeleteMcpServerRequest,
    McpServerDeleted,
    McpServerRefreshed,
    McpServerRequest,
    McpServersRequest,
    RegisteredMcpServer,
    RegisterMcpServerRequest,
    UpdateMcpServerRequest,
)
from openviking_mcp.contract.privacy import PrivacyTargetRequest, UpsertPrivacyRequest
from openviking_mcp.contract.skills import (
    ImportMcpRequest,
    ImportReport,
    SkillRequest,
    SkillsRequest,
)
from openviking_mcp.mcp_registry import _model as model
from openviking_mcp.mcp_registry.scheduler import McpRegistryScheduler
from openviking_mcp.privacy.service import PrivacyService
from openviking_mcp.skills.importer import SkillImporter
from openviking_mcp.skills.service import SkillService
from openviking_mcp.storage.mcp_servers import McpServerHealth, McpServerRecord
from openviking_mcp.store import Store

__all__ = ["PRIVACY_CATEGORY", "McpRegistryService"]

#: The privacy category holding each server's ``{"headers": {...}, "env": {...}}``.
PRIVACY_CATEGORY = "mcp-servers"

Secrets = tuple[dict[str, str], dict[str, str]]


class McpRegistryService:
    """See the module docs."""

    def __init__(
        self,
        store: Store,
        skills: SkillService,
        importer: SkillImporter,
        privacy: PrivacyService,
    ) -> None:
        self._store = store
        self._skills = skills
        self._importer = importer
        self._privacy = privacy
        self._settings = store.config.mcp_registry
        self.scheduler = McpRegistryScheduler(self.refresh_due, self._settings)

    # -- secrets ---------------------------------------------------------------------------

    async def _load_secrets(self, owner: RequestContext, server_id: str) -> Secrets:
        request = PrivacyTargetRequest(category=PRIVACY_CATEGORY, target_key=server_id)
        values = await self._privacy.values(owner, request)
        headers, env = values.get("headers"), values.get("env")
        return (
            dict(headers) if isinstance(headers, dict) else {},
            dict(env) if isinstance(env, dict) else {},
        )

    async def _save_secrets(
        self, owner: RequestContext, server_id: str, secrets: Secrets, reason: str
    ) -> None:
        headers, env = secrets
        if owner.is_root:
            if headers or env:
                raise InvalidArgumentError(
                    "ROOT has no user space to keep secret headers or env in; register the "
                    "server as a user of the account",
                    {"field": "headers" if headers else "env"},
                )
            return
        if not headers and not env:
            await self._drop_secrets(owner, server_id)
            return
        request = UpsertPrivacyRequest(
            category=PRIVACY_CATEGORY,
            target_key=server_id,
            values={"headers": headers, "env": env},
            change_reason=reason,
        )
        await self._privacy.upsert(owner, request)

    async def _drop_secrets(self, owner: RequestContext, server_id: str) -> None:
        if not owner.is_root:
            request = PrivacyTargetRequest(category=PRIVACY_CATEGORY, target_key=server_id)
            await self._privacy.delete(owner, request)

    # -- importing -------------------------------------------------------------------------

    async def _import(
        self, ctx: RequestContext, record: McpServerRecord, secrets: Secrets
    ) -> ImportReport:
        """Import the server's tools as ``ctx`` and keep how it went (the error's text
        without any secret value)."""
        headers, env = secrets
        request = ImportMcpRequest(
            command=record.command,
            url=record.url,
            headers=headers or None,
            env=env or None,
            target_uri=record.skills_root,
            prune=True,
            timeout=self._settings.timeout_seconds,
        )
        started = time.monotonic()
        try:
            report = await self._importer.import_mcp_server(
                ctx, request, allow_command=record.trusted
            )
        except OpenVikingError as exc:
            elapsed = (time.monotonic() - started) * 1000
            message = model.scrub(exc.message, [*headers.values(), *env.values()])
            health = McpServerHealth("error", message[:1000], None, elapsed, {})
            await self._store.mcp_servers.record_health(record.server_id, health)
            raise
        elapsed = (time.monotonic() - started) * 1000
        count = model.tool_count(report)
        health = McpServerHealth("ok", None, count, elapsed, model.changes_of(report))
        await self._store.mcp_servers.record_health(record.server_id, health)
        return report

    async def _current_owner(self, record: McpServerRecord) -> RequestContext:
        """The registrant with their role of now; a registrant who was removed is an error
        kept as the server's health."""
        owner = model.owner_of(record)
        if owner.is_root:
            return owner
        try:
            user = await self._store.accounts.get_user(record.account_id, record.created_by)
        except NotFoundError as exc:
            health = McpServerHealth("error", exc.message, None, 0.0, {})
            await self._store.mcp_servers.record_health(record.server_id, health)
            raise
        return RequestContext(record.account_id, record.created_by, user.role)

    async def _refresh_record(self, record: McpServerRecord) -> ImportReport:
        """One refresh of a stored server, as its registrant."""
        owner = await self._current_owner(record)
        secrets = await self._load_secrets(owner, record.server_id)
        return await self._import(owner, record, secrets)

    async def refresh_due(self) -> int:
        """Refresh every enabled server whose time has come and that this process claims
        (one process per due server); how many were refreshed."""
        self._store.require_open()
        servers = self._store.mcp_servers
        lease = self._settings.timeout_seconds * 2 + 60
        done = 0
        for server_id in await servers.due(time.time()):
            if not await servers.claim(server_id, time.time(), lease):
                continue
            record = await servers.find(server_id)
            if record is None:
                continue
            with suppress(OpenVikingError):  # kept as the server's health
                await self._refresh_record(record)
            done += 1
        return done

    # -- operations ------------------------------------------------------------------------

    async def _visible(self, ctx: RequestContext, req: McpServerRequest) -> McpServerRecord:
        """The server, if ``ctx`` (ROOT: in ``account_id``) may manage it; ``NOT_FOUND``
        otherwise."""
        self._store.require_open()
        ctx = ctx.in_account(req.account_id, "MCP servers")
        server_id = req.server_id
        record = await self._store.mcp_servers.find(server_id)
        if record is None or not model.may_manage(ctx, record):
            raise NotFoundError(server_id, "MCP server")
        return record

    def _new_record(
        self, ctx: RequestContext, req: RegisterMcpServerRequest, root: str, trusted: bool
    ) -> McpServerRecord:
        transport, source = model.source_of(req.url, req.command)
        model.check_secret_kinds(transport, req.headers, req.env)
        interval = model.check_interval(req.refresh_interval_seconds, self._settings)
        now = time.time()
        return McpServerRecord(
            server_id="mcp_" + uuid.uuid4().hex[:16],
            account_id=ctx.account_id,
            name=model.check_name(req.name),
            transport=transport,
            url=req.url.strip() if req.url is not None else None,
            command=req.command,
            secret_names={"headers": sorted(req.headers or {}), "env": sorted(req.env or {})},
            skills_root=root,
            source_id=source,
            refresh_seconds=interval,
            enabled=req.enabled,
            trusted=trusted,
            created_by=ctx.user_id,
            created_role=ctx.role.value,
            created_at=now,
            updated_at=now,
            next_refresh_at=now + interval if interval else None,
        )

    async def register(
        self, ctx: RequestContext, req: RegisterMcpServerRequest, *, allow_command: bool = True
    ) -> McpServerRefreshed:
        """Register a server and import its tools now. A server that cannot be reached is
        registered all the same (its health says why; the schedule tries again); any other
        failure registers nothing."""
        self._store.require_open()
        ctx = ctx.in_account(req.account_id, "MCP servers")
        if not await self._store.accounts.account_exists(ctx.account_id):
            raise NotFoundError(ctx.account_id, "account")
        if req.command is not None and not allow_command:
            raise PermissionDeniedError(
                "Only ROOT (or dev mode) may register an MCP server command; give a url instead",
                {"field": "command"},
            )
        root = self._skills.skill_root(ctx, req.target_uri)
        if root.scope == "agent":
            check_access(ctx, root.join("mcp-import"), mutate=True)
            if not ctx.is_admin:  # a server keeps writing the account's skills
                raise PermissionDeniedError(
                    "Only an ADMIN of the account (or ROOT) may register a server into "
                    "viking://agent/skills; register it into viking://~/skills",
                    {"field": "target_uri", "required": "admin"},
                )
        record = self._new_record(ctx, req, root.uri, allow_command)
        secrets = (dict(req.headers or {}), dict(req.env or {}))
        await self._save_secrets(ctx, record.server_id, secrets, "register_mcp_server")
        try:
            await self._store.mcp_servers.create(record)
        except BaseException:
            await self._drop_secrets(ctx, record.server_id)
            raise
        report: ImportReport | None = None
        try:
            report = await self._import(ctx, record, secrets)
        except UnavailableError:
            pass
        except BaseException:
            await self._store.mcp_servers.delete(record.account_id, record.server_id)
            await self._drop_secrets(ctx, record.server_id)
            raise
        fresh = await self._store.mcp_servers.get(record.account_id, record.server_id)
        return McpServerRefreshed(server=model.info(fresh), report=report)

    async def list_servers(
        self, ctx: RequestContext, req: McpServersRequest
    ) -> list[RegisteredMcpServer]:
        """The servers ``ctx`` may manage, by skills root and name."""
        self._store.require_open()
        ctx = ctx.in_account(req.account_id, "MCP servers")
        records = await self._store.mcp_servers.all_of(ctx.account_id)
        return [model.info(r) for r in records if model.may_manage(ctx, r)]

    async def get(self, ctx: RequestContext, req: McpServerRequest) -> RegisteredMcpServer:
        return model.info(await self._visible(ctx, req))

    async def update(self, ctx: RequestContext, req: UpdateMcpServerRequest) -> RegisteredMcpServer:
        """Change what the request names (module docs of the contract)."""
        record = await self._visible(ctx, req)
        values: dict[str, object] = {}
        now = time.time()
        if req.name is not None:
            values["name"] = model.check_name(req.name)
        interval = record.refresh_seconds
        if req.refresh_interval_seconds is not None:
            interval = model.check_interval(req.refresh_interval_seconds, self._settings)
            values["refresh_seconds"] = interval
            values["next_refresh_at"] = now + interval if interval else None
        if req.enabled is not None and req.enabled != record.enabled:
            values["enabled"] = req.enabled
            values["next_refresh_at"] = now if req.enabled and interval else None
        if req.headers is not None or req.env is not None:
            model.check_secret_kinds(record.transport, req.headers, req.env)
            owner = model.owner_of(record)
            headers, env = await self._load_secrets(owner, record.server_id)
            secrets = (
                dict(req.headers) if req.headers is not None else headers,
                dict(req.env) if req.env is not None else env,
            )
            await self._save_secrets(owner, record.server_id, secrets, "update_mcp_server")
            values["secret_names"] = {"headers": sorted(secrets[0]), "env": sorted(secrets[1])}
        if values:
            record = await self._store.mcp_servers.update(
                record.account_id, record.server_id, **values
            )
        return model.info(record)

    async def refresh(self, ctx: RequestContext, req: McpServerRequest) -> McpServerRefreshed:
        """Refresh one server now (also when it is disabled); a failure is kept as its health
        and raised."""
        record = await self._visible(ctx, req)
        report = await self._refresh_record(record)
        fresh = await self._store.mcp_servers.get(record.account_id, record.server_id)
        return McpServerRefreshed(server=model.info(fresh), report=report)

    async def delete(self, ctx: RequestContext, req: DeleteMcpServerRequest) -> McpServerDeleted:
        """Unregister a server and drop its secrets; with ``remove_skills`` also delete the
        skills it imported (those whose ``metadata.mcp.id`` is its source id)."""
        record = await self._visible(ctx, req)
        owner = model.owner_of(record)
        removed = await self._remove_skills(owner, record) if req.remove_skills else []
        await self._store.mcp_servers.delete(record.account_id, record.server_id)
        await self._drop_secrets(owner, record.server_id)
        return McpServerDeleted(server=model.info(record), removed_skills=removed)

    async def _remove_skills(self, owner: RequestContext, record: McpServerRecord) -> list[str]:
        root = record.skills_root
        stored = await self._skills.list_skills(owner, SkillsRequest(target_uri=root))
        removed: list[str] = []
        for summary in stored:
            mcp = summary.metadata.get("mcp")
            if not isinstance(mcp, dict) or mcp.get("id") != record.source_id:
                continue
            with suppress(NotFoundError):
                await self._skills.delete(
                    owner, SkillRequest(skill_name=summary.name, target_uri=root)
                )
                removed.append(summary.name)
        return removed
