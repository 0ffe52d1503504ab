"""Every operation of the store, in one table: what the composition root serves and what the
Python clients are generated from (:mod:`openviking_mcp.client._codegen`)."""

from __future__ import annotations

from openviking_mcp.contract import (
    admin,
    analytics,
    audit,
    content,
    debug,
    eventlog,
    fs,
    keys,
    mcp_servers,
    memory,
    observer,
    pack,
    privacy,
    relations,
    resources,
    search,
    sessions,
    skills,
    tags,
    tasks,
    uploads,
    webhooks,
)
from openviking_mcp.contract.operations import Operation

__all__ = ["BY_NAME", "OPERATIONS"]

OPERATIONS: tuple[Operation, ...] = (
    *fs.OPERATIONS,
    *content.OPERATIONS,
    *tags.OPERATIONS,
    *uploads.OPERATIONS,
    *privacy.OPERATIONS,
    *relations.OPERATIONS,
    *sessions.OPERATIONS,
    *memory.OPERATIONS,
    *pack.OPERATIONS,
    *search.OPERATIONS,
    *observer.OPERATIONS,
    *resources.OPERATIONS,
    *tasks.OPERATIONS,
    *skills.OPERATIONS,
    *admin.OPERATIONS,
    *keys.OPERATIONS,
    *debug.OPERATIONS,
    *audit.OPERATIONS,
    *analytics.OPERATIONS,
    *eventlog.OPERATIONS,
    *webhooks.OPERATIONS,
    *mcp_servers.OPERATIONS,
)
BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
