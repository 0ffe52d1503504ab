"""``MigrateService``: move a deployment (or one account) between storage backends.

Both ends open as a :class:`~openviking_mcp.service.ContextService` without background work
(their storage only: no default account is created on either end). Before anything is
written, every account is checked: it must exist on the source, must not exist on the target
(no metadata row and no content below its key: a migration never merges into live data), and
the source must have no pending or running task for it (unless ``force``).

Then, account by account:

1. content and vectors travel as a ROOT backup pack of the source, restored into the target
   (the vectors are reused when the target's index has the same model and dimension, else
   the target re-embeds, and its queue runs until the account's tasks are done);
2. the metadata rows the pack does not carry are copied in one transaction
   (:mod:`openviking_mcp.migrate.tables`);
3. the copy is verified (:func:`~openviking_mcp.migrate.verify.verify_account`).

Each phase is announced through ``progress`` (one line per account and phase).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    ConfigError,
    DeadlineExceededError,
    FailedPreconditionError,
    NotFoundError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.migrate import AccountMigration, MigrateRequest, MigrateResult
from openviking_mcp.contract.pack import BackupRequest, RestoreRequest, RestoreResult
from openviking_mcp.migrate.endpoints import Endpoint, endpoint_config, parse_endpoint
from openviking_mcp.migrate.tables import TABLES, busy_tasks, copy_rows, fetch_rows
from openviking_mcp.migrate.verify import digest_tree, index_rows, verify_account

if TYPE_CHECKING:
    from openviking_mcp.service import ContextService

__all__ = ["MigrateService", "Progress"]

Progress = Callable[[str], None]

_POLL_SECONDS = 0.2
_CHUNK = 1024 * 1024


def _quiet(line: str) -> None:
    del line


class MigrateService:
    """See the module docs. ``config``: the loaded configuration (models, limits); each end
    gets it with its own storage section."""

    def __init__(self, config: OpenVikingConfig, progress: Progress = _quiet) -> None:
        self._config = config
        self._progress = progress

    async def migrate(self, req: MigrateRequest) -> MigrateResult:
        """Copy the accounts and verify them (see the module docs)."""
        source = parse_endpoint(req.source, "source")
        target = parse_endpoint(req.target, "target")
        if source == target:
            raise ConfigError(
                "The migration source and target are the same", {"source": source.shown}
            )
        async with self._open(source) as src:
            accounts = await self._accounts(src, req)
            await self._require_idle(src, accounts, req.force)
            async with self._open(target) as dst:
                await self._require_absent(dst, accounts)
                results = [await self._account(src, dst, a, req.wait_seconds) for a in accounts]
        return MigrateResult(
            source=source.shown,
            target=target.shown,
            verified=all(r.verified for r in results),
            accounts=results,
        )

    @contextlib.asynccontextmanager
    async def _open(self, end: Endpoint) -> AsyncIterator[ContextService]:
        """One end's storage, opened without background work; a postgres end keeps its
        scratch files in a temporary folder, removed afterwards."""
        from openviking_mcp.service import ContextService

        scratch = Path(tempfile.mkdtemp(prefix="ov-migrate-"))
        try:
            service = ContextService(
                endpoint_config(self._config, end, scratch), background_tasks=False
            )
            await service.store.open()
            try:
                yield service
            finally:
                await service.close()
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _accounts(self, src: ContextService, req: MigrateRequest) -> list[str]:
        if req.account_id is not None:
            if not await src.store.accounts.account_exists(req.account_id):
                raise NotFoundError(req.account_id, "account")
            return [req.account_id]
        return [row["account_id"] for row in await src.store.accounts.list_accounts()]

    async def _require_idle(self, src: ContextService, accounts: list[str], force: bool) -> None:
        """Refuse (before the target is even opened) a source with queued work."""
        for account in accounts:
            busy = await busy_tasks(src.store.db, account)
            if busy and not force:
                raise FailedPreconditionError(
                    f"Account {account} has {busy} pending or running task(s) on the source; "
                    "stop its servers and workers and let the tasks finish (or pass --force)",
                    {"account_id": account, "tasks": busy},
                )

    async def _require_absent(self, dst: ContextService, accounts: list[str]) -> None:
        """Refuse before writing anything when an account exists on the target."""
        store = dst.store
        for account in accounts:
            if await store.accounts.account_exists(account) or await store.content.exists(account):
                raise AlreadyExistsError(
                    account,
                    "account",
                    message=f"Account {account} already exists on the target; a migration "
                    "never merges into existing data",
                )

    async def _account(
        self, src: ContextService, dst: ContextService, account: str, wait_seconds: float
    ) -> AccountMigration:
        say = self._progress
        say(f"{account}: reading the source tree")
        tree = await digest_tree(src.store, account)
        say(f"{account}: copying {len(tree.files)} file(s), {tree.size} bytes, with vectors")
        restored = await self._copy_content(src, dst, account)
        problems: list[str] = []
        if restored.task_ids:
            say(f"{account}: the target re-embeds ({len(restored.task_ids)} task(s))")
            problems += await self._wait_tasks(dst, account, restored.task_ids, wait_seconds)
        say(f"{account}: copying metadata rows")
        tables = {t: await fetch_rows(src.store.db, t, account) for t in TABLES}
        copied = await copy_rows(dst.store.db, tables)
        say(f"{account}: verifying")
        problems += await verify_account(src.store, dst.store, account, tree)
        say(f"{account}: {'verified' if not problems else f'{len(problems)} problem(s)'}")
        return AccountMigration(
            account_id=account,
            files=len(tree.files),
            bytes=tree.size,
            index_rows=await index_rows(dst.store, account),
            source_index_rows=await index_rows(src.store, account),
            metadata_rows=copied,
            vectors=restored.vectors,
            verified=not problems,
            problems=problems,
        )

    async def _copy_content(
        self, src: ContextService, dst: ContextService, account: str
    ) -> RestoreResult:
        """A ROOT backup of the account on the source, restored into the target."""
        ctx = RequestContext.root(account)
        with_vectors = src.store.index_error is None
        pack = await src.pack.backup(ctx, BackupRequest(include_vectors=with_vectors))
        upload: Path | None = None
        try:
            saved = await dst.uploads.save(ctx, "migrate.ovpack", _chunks(pack))
            upload, _ = await asyncio.to_thread(dst.uploads.upload_path, ctx, saved.temp_file_id)
            return await dst.pack.restore(ctx, RestoreRequest(temp_file_id=saved.temp_file_id))
        finally:
            await asyncio.to_thread(pack.unlink, True)
            if upload is not None:
                await asyncio.to_thread(upload.unlink, True)

    async def _wait_tasks(
        self, dst: ContextService, account: str, task_ids: list[str], wait_seconds: float
    ) -> list[str]:
        """Run the target's queue until the account has no pending or running task; the
        failed re-embedding tasks as problems."""
        queue = dst.store.tasks
        if queue.live_workers == 0:
            await queue.start()
        deadline = time.monotonic() + wait_seconds
        problems: list[str] = []
        for task_id in task_ids:
            record = await queue.wait(task_id, timeout=max(0.0, deadline - time.monotonic()))
            if record.status != "completed":
                problems.append(f"re-embedding task {task_id} {record.status}: {record.error}")
        while await busy_tasks(dst.store.db, account):
            if time.monotonic() > deadline:
                raise DeadlineExceededError("re-embedding", wait_seconds)
            await asyncio.sleep(_POLL_SECONDS)
        return problems


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """The bytes of ``path``, a chunk at a time."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, _CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
