"""The console's memories pages: the caller's memories by category (abstract, version,
sources, ``active_count``) and one memory with the commits that changed it."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from http_api.console._web import TenantCaller, page_router, render, service_of
from openviking_mcp.contract.memory import MemoryDetailRequest, MemoryEntry, MemoryListRequest

__all__ = ["router"]

router = page_router()

_CONVERSATIONS = "conversations"


def _groups(
    entries: list[MemoryEntry], categories: list[str]
) -> list[tuple[str, list[MemoryEntry]]]:
    """``(category, memories)`` in the memory service's order of categories, then any other
    category found, conversation turns last."""
    by_category: dict[str, list[MemoryEntry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category, []).append(entry)
    order = [*categories, *sorted(set(by_category) - set(categories) - {_CONVERSATIONS})]
    order.append(_CONVERSATIONS)
    return [(name, by_category.get(name, [])) for name in order]


@router.get("/memories")
async def memories_page(
    request: Request,
    caller: TenantCaller,
    q: str = "",
    conversations: bool = False,
) -> Response:
    """``q`` keeps the memories whose abstract or address contains it; ``conversations``
    lists the conversation turns too."""
    service = service_of(request)
    req = MemoryListRequest(include_conversations=conversations)
    entries = await service.memory.list_memories(caller, req)
    needle = q.strip().casefold()
    if needle:
        entries = [e for e in entries if needle in f"{e.abstract} {e.uri}".casefold()]
    categories = list(service.memory.schemas())
    context = {
        "title": "Memories",
        "active": "memories",
        "groups": _groups(entries, categories),
        "total": len(entries),
        "q": q,
        "conversations": conversations,
    }
    return render(request, "memories.html", context)


@router.get("/memories/item")
async def memory_page(request: Request, caller: TenantCaller, uri: str) -> Response:
    service = service_of(request)
    detail = await service.memory.memory_detail(caller, MemoryDetailRequest(uri=uri))
    name = detail.memory.uri.rsplit("/", 1)[-1]
    context = {"title": f"Memory {name}", "active": "memories", "detail": detail, "name": name}
    return render(request, "memory.html", context)
