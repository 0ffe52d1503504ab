"""Embedded clients: the whole store in this process, no server.

``AsyncOpenViking`` is the async client, ``OpenViking`` the sync one (it drives the async client
on a private loop thread). Both mirror :class:`~openviking_mcp.service.ContextService` without
the identity argument: they act as one user of one account (``default``/``default`` unless told).

    with OpenViking(path="./data") as ov:
        ov.write("viking://resources/notes/todo.md", "- ship it", mode="create")
        print(ov.read("viking://resources/notes/todo.md"))
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from openviking_mcp.client._chat import ChatMethods, blocking_iter
from openviking_mcp.client._loop import LoopThread
from openviking_mcp.client._pack import PackMethods
from openviking_mcp.client._sessions import SessionMethods
from openviking_mcp.config import OpenVikingConfig, load_config
from openviking_mcp.contract.content import WriteMode
from openviking_mcp.contract.errors import NotInitializedError
from openviking_mcp.contract.fs import ListOutput, SortBy, SortOrder
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import ProcessingMode
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from pydantic_ai.models import Model

__all__ = ["AsyncOpenViking", "OpenViking"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncOpenViking(SessionMethods, PackMethods, ChatMethods):
    """Async embedded client.

    ``path`` is the workspace folder (overrides ``storage.workspace``); ``config`` an
    already-built configuration; ``config_file`` a path to ``ov.conf`` (else the usual lookup);
    ``chat_model`` a pydantic-ai model that replaces the bot's configured one (tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        config: OpenVikingConfig | None = None,
        config_file: str | os.PathLike[str] | None = None,
        account: str | None = None,
        user: str | None = None,
        chat_model: Model | None = None,
    ) -> None:
        overrides = {"storage": {"workspace": str(path)}} if path is not None else None
        if config is None:
            config = load_config(config_file, overrides=overrides)
        elif overrides:
            config = config.model_copy(
                update={"storage": config.storage.model_copy(update={"workspace": str(path)})}
            )
        self.config = config
        self.service = ContextService(config, chat_model=chat_model)
        self._account, self._user = account, user
        self._ctx: RequestContext | None = None

    @property
    def context(self) -> RequestContext:
        if self._ctx is None:
            raise NotInitializedError()
        return self._ctx

    async def initialize(self) -> None:
        await self.service.initialize()
        self._ctx = await self.service.local_context(self._account, self._user)

    async def close(self) -> None:
        await self.close_chat()
        await self.service.close()
        self._ctx = None

    async def __aenter__(self) -> AsyncOpenViking:
        await self.initialize()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- filesystem ------------------------------------------------------------------------

    async def ls(
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
    ) -> list[Any]:
        return await self.service.ls(
            self.context,
            uri,
            simple=simple,
            recursive=recursive,
            output=output,
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    async def tree(
        self,
        uri: str = "viking://",
        *,
        output: ListOutput = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        level_limit: int = 3,
    ) -> list[dict[str, Any]]:
        return await self.service.tree(
            self.context,
            uri,
            output=output,
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            level_limit=level_limit,
        )

    async def stat(self, uri: str) -> dict[str, Any]:
        return await self.service.stat(self.context, uri)

    async def mkdir(self, uri: str, description: str | None = None) -> dict[str, Any]:
        return await self.service.mkdir(self.context, uri, description)

    async def rm(self, uri: str, *, recursive: bool = False) -> dict[str, Any]:
        return await self.service.rm(self.context, uri, recursive=recursive)

    async def mv(self, from_uri: str, to_uri: str) -> dict[str, Any]:
        return await self.service.mv(self.context, from_uri, to_uri)

    # -- content ---------------------------------------------------------------------------

    async def read(self, uri: str, *, offset: int = 0, limit: int = -1) -> str:
        return await self.service.read(self.context, uri, offset=offset, limit=limit)

    async def read_bytes(self, uri: str) -> bytes:
        return await self.service.read_bytes(self.context, uri)

    async def abstract(self, uri: str) -> str:
        return await self.service.abstract(self.context, uri)

    async def overview(self, uri: str) -> str:
        return await self.service.overview(self.context, uri)

    async def write(
        self,
        uri: str,
        content: str,
        *,
        mode: WriteMode = "replace",
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return await self.service.write(
            self.context, uri, content, mode=mode, wait=wait, timeout=timeout
        )

    async def edit(
        self,
        uri: str,
        old_string: str,
        new_string: str,
        *,
        replace_all: bool = False,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Replace an exact substring of a text file (see ``ContextService.edit``)."""
        return await self.service.edit(
            self.context,
            uri,
            old_string,
            new_string,
            replace_all=replace_all,
            wait=wait,
            timeout=timeout,
        )

    # -- resources and search --------------------------------------------------------------

    async def add_resource(
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
    ) -> dict[str, Any]:
        """Import a URL or a local file, folder or zip (see ``ContextService.add_resource``)."""
        return await self.service.add_resource(
            self.context,
            path,
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

    async def find(
        self,
        query: str,
        *,
        target_uri: str | list[str] | None = None,
        limit: int = 10,
        score_threshold: float | None = None,
        level: int | str | list[int] | None = None,
        context_type: str | list[str] | None = None,
        include_provenance: bool = False,
    ) -> dict[str, Any]:
        return await self.service.find(
            self.context,
            query,
            target_uri=target_uri,
            limit=limit,
            score_threshold=score_threshold,
            level=level,
            context_type=context_type,
            include_provenance=include_provenance,
        )

    async def search(
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
    ) -> dict[str, Any]:
        """``find`` with session expansion; ``mode="context"`` assembles a budgeted context
        block (see :meth:`assemble_context`)."""
        return await self.service.search(
            self.context,
            query,
            session_id=session_id,
            target_uri=target_uri,
            limit=limit,
            score_threshold=score_threshold,
            context_type=context_type,
            mode=mode,
            max_tokens=max_tokens,
            quotas=quotas,
            purpose=purpose,
            detail=detail,
            exclude_uris=exclude_uris,
            rewrite=rewrite,
            rewrite_max_bullets=rewrite_max_bullets,
        )

    async def assemble_context(
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
    ) -> dict[str, Any]:
        """Injection-ready, token-budgeted context (see ``ContextService.assemble_context``)."""
        return await self.service.assemble_context(
            self.context,
            query,
            session_id=session_id,
            limit=limit,
            max_tokens=max_tokens,
            quotas=quotas,
            purpose=purpose,
            detail=detail,
            exclude_uris=exclude_uris,
            context_type=context_type,
            score_threshold=score_threshold,
            rewrite=rewrite,
            rewrite_max_bullets=rewrite_max_bullets,
            dedup_turns=dedup_turns,
        )

    async def grep(
        self, uri: str, pattern: str, *, case_insensitive: bool = False, node_limit: int = 256
    ) -> dict[str, Any]:
        return await self.service.grep(
            self.context, uri, pattern, case_insensitive=case_insensitive, node_limit=node_limit
        )

    async def glob(
        self, pattern: str, *, uri: str = "viking://", node_limit: int = 256
    ) -> dict[str, Any]:
        return await self.service.glob(self.context, pattern, uri=uri, node_limit=node_limit)

    async def reindex(
        self,
        uri: str = "viking://",
        *,
        mode: ProcessingMode = "vectors_only",
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return await self.service.reindex(self.context, uri, mode=mode, wait=wait, timeout=timeout)

    async def consistency(self, uri: str = "viking://") -> dict[str, Any]:
        return await self.service.consistency(self.context, uri)

    async def get_task(self, task_id: str) -> dict[str, Any]:
        return await self.service.get_task(self.context, task_id)

    async def list_tasks(
        self, *, task_type: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        return await self.service.list_tasks(
            self.context, task_type=task_type, status=status, limit=limit
        )

    async def wait_processing(self, timeout: float | None = None) -> dict[str, Any]:
        return await self.service.wait_processing(self.context, timeout)

    # -- skills ----------------------------------------------------------------------------

    async def add_skill(
        self,
        data: object = None,
        *,
        temp_file_id: str | None = None,
        target_uri: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Add or replace a skill: a skill dict, an MCP tool dict, SKILL.md text or a path."""
        return await self.service.add_skill(
            self.context,
            data,
            temp_file_id=temp_file_id,
            target_uri=target_uri,
            wait=wait,
            timeout=timeout,
        )

    async def list_skills(self, target_uri: str | None = None) -> list[dict[str, Any]]:
        return await self.service.list_skills(self.context, target_uri)

    async def get_skill(self, name: str, *, target_uri: str | None = None) -> dict[str, Any]:
        return await self.service.get_skill(self.context, name, target_uri=target_uri)

    async def delete_skill(self, name: str, *, target_uri: str | None = None) -> dict[str, Any]:
        return await self.service.delete_skill(self.context, name, target_uri=target_uri)

    async def install_bundled_skills(
        self, *, only_missing: bool = False, wait: bool = False
    ) -> dict[str, Any]:
        return await self.service.install_bundled_skills(
            self.context, only_missing=only_missing, wait=wait
        )

    # -- privacy configs -------------------------------------------------------------------

    async def upsert_privacy_config(
        self,
        category: str,
        target_key: str,
        values: dict[str, str],
        *,
        change_reason: str = "",
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Store values as the active config (see ``ContextService.upsert_privacy_config``)."""
        return await self.service.upsert_privacy_config(
            self.context, category, target_key, values, change_reason=change_reason, labels=labels
        )

    async def get_privacy_config(self, category: str, target_key: str) -> dict[str, Any]:
        return await self.service.get_privacy_config(self.context, category, target_key)

    async def list_privacy_categories(self) -> list[str]:
        return await self.service.list_privacy_categories(self.context)

    async def list_privacy_targets(self, category: str) -> list[str]:
        return await self.service.list_privacy_targets(self.context, category)

    async def list_privacy_versions(self, category: str, target_key: str) -> list[int]:
        return await self.service.list_privacy_versions(self.context, category, target_key)

    async def get_privacy_version(
        self, category: str, target_key: str, version: int
    ) -> dict[str, Any]:
        return await self.service.get_privacy_version(self.context, category, target_key, version)

    async def activate_privacy_version(
        self, category: str, target_key: str, version: int
    ) -> dict[str, Any]:
        return await self.service.activate_privacy_version(
            self.context, category, target_key, version
        )

    async def delete_privacy_config(self, category: str, target_key: str) -> bool:
        return await self.service.delete_privacy_config(self.context, category, target_key)

    async def privacy_values(self, category: str, target_key: str) -> dict[str, str]:
        return await self.service.privacy_values(self.context, category, target_key)


def _blocking(
    method: Callable[Concatenate[AsyncOpenViking, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[OpenViking, P], T]:
    """The sync twin of an ``AsyncOpenViking`` method (same signature and docs)."""

    @functools.wraps(method)
    def call(self: OpenViking, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._loop.run(method(self._async, *args, **kwargs))

    return call


def _streaming(
    method: Callable[Concatenate[AsyncOpenViking, P], AsyncIterator[T]],
) -> Callable[Concatenate[OpenViking, P], Iterator[T]]:
    """The sync twin of an ``AsyncOpenViking`` async-iterator method: a plain iterator whose
    steps run on the client's loop thread (same parameters and docs)."""

    @functools.wraps(method)
    def call(self: OpenViking, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return blocking_iter(self._loop, method(self._async, *args, **kwargs))

    signature = inspect.signature(method)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("AsyncIterator["):
        returns = returns[len("Async") :]
    call.__dict__["__signature__"] = signature.replace(return_annotation=returns)
    return call


class OpenViking:
    """Sync embedded client; same arguments and methods as :class:`AsyncOpenViking`."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        config: OpenVikingConfig | None = None,
        config_file: str | os.PathLike[str] | None = None,
        account: str | None = None,
        user: str | None = None,
        chat_model: Model | None = None,
    ) -> None:
        self._async = AsyncOpenViking(
            path,
            config=config,
            config_file=config_file,
            account=account,
            user=user,
            chat_model=chat_model,
        )
        self._loop = LoopThread()

    @property
    def config(self) -> OpenVikingConfig:
        return self._async.config

    @property
    def service(self) -> ContextService:
        return self._async.service

    @property
    def context(self) -> RequestContext:
        return self._async.context

    def initialize(self) -> None:
        self._loop.run(self._async.initialize())

    def close(self) -> None:
        """Close the store and stop the loop thread; the client cannot be used afterwards."""
        try:
            self._loop.run(self._async.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> OpenViking:
        self.initialize()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    ls = _blocking(AsyncOpenViking.ls)
    tree = _blocking(AsyncOpenViking.tree)
    stat = _blocking(AsyncOpenViking.stat)
    mkdir = _blocking(AsyncOpenViking.mkdir)
    rm = _blocking(AsyncOpenViking.rm)
    mv = _blocking(AsyncOpenViking.mv)
    read = _blocking(AsyncOpenViking.read)
    read_bytes = _blocking(AsyncOpenViking.read_bytes)
    abstract = _blocking(AsyncOpenViking.abstract)
    overview = _blocking(AsyncOpenViking.overview)
    write = _blocking(AsyncOpenViking.write)
    edit = _blocking(AsyncOpenViking.edit)
    add_resource = _blocking(AsyncOpenViking.add_resource)
    find = _blocking(AsyncOpenViking.find)
    search = _blocking(AsyncOpenViking.search)
    assemble_context = _blocking(AsyncOpenViking.assemble_context)
    grep = _blocking(AsyncOpenViking.grep)
    glob = _blocking(AsyncOpenViking.glob)
    reindex = _blocking(AsyncOpenViking.reindex)
    consistency = _blocking(AsyncOpenViking.consistency)
    get_task = _blocking(AsyncOpenViking.get_task)
    list_tasks = _blocking(AsyncOpenViking.list_tasks)
    wait_processing = _blocking(AsyncOpenViking.wait_processing)
    add_skill = _blocking(AsyncOpenViking.add_skill)
    list_skills = _blocking(AsyncOpenViking.list_skills)
    get_skill = _blocking(AsyncOpenViking.get_skill)
    delete_skill = _blocking(AsyncOpenViking.delete_skill)
    install_bundled_skills = _blocking(AsyncOpenViking.install_bundled_skills)
    upsert_privacy_config = _blocking(AsyncOpenViking.upsert_privacy_config)
    get_privacy_config = _blocking(AsyncOpenViking.get_privacy_config)
    list_privacy_categories = _blocking(AsyncOpenViking.list_privacy_categories)
    list_privacy_targets = _blocking(AsyncOpenViking.list_privacy_targets)
    list_privacy_versions = _blocking(AsyncOpenViking.list_privacy_versions)
    get_privacy_version = _blocking(AsyncOpenViking.get_privacy_version)
    activate_privacy_version = _blocking(AsyncOpenViking.activate_privacy_version)
    delete_privacy_config = _blocking(AsyncOpenViking.delete_privacy_config)
    privacy_values = _blocking(AsyncOpenViking.privacy_values)
    create_session = _blocking(AsyncOpenViking.create_session)
    list_sessions = _blocking(AsyncOpenViking.list_sessions)
    get_session = _blocking(AsyncOpenViking.get_session)
    delete_session = _blocking(AsyncOpenViking.delete_session)
    add_message = _blocking(AsyncOpenViking.add_message)
    add_messages = _blocking(AsyncOpenViking.add_messages)
    record_used = _blocking(AsyncOpenViking.record_used)
    session_context = _blocking(AsyncOpenViking.session_context)
    commit_session = _blocking(AsyncOpenViking.commit_session)
    extract = _blocking(AsyncOpenViking.extract)
    list_archives = _blocking(AsyncOpenViking.list_archives)
    get_archive = _blocking(AsyncOpenViking.get_archive)
    retry_archive = _blocking(AsyncOpenViking.retry_archive)
    export_pack = _blocking(AsyncOpenViking.export_pack)
    import_pack = _blocking(AsyncOpenViking.import_pack)
    backup = _blocking(AsyncOpenViking.backup)
    restore = _blocking(AsyncOpenViking.restore)
    get_relations = _blocking(AsyncOpenViking.get_relations)
    link = _blocking(AsyncOpenViking.link)
    unlink = _blocking(AsyncOpenViking.unlink)
    chat = _blocking(AsyncOpenViking.chat)
    chat_stream = _streaming(AsyncOpenViking.chat_stream)
    chat_resume = _streaming(AsyncOpenViking.chat_resume)
    chat_feedback = _blocking(AsyncOpenViking.chat_feedback)
    bot_health = _blocking(AsyncOpenViking.bot_health)
