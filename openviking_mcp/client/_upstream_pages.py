"""openviking-sdk's paged listings, ``ls_page`` and ``tree_page``, over ``ls`` and ``tree``.

Each returns the SDK's ``{"result": [...], "has_more": bool}``. The call asks for one entry
more than the page (``limit`` wins over ``node_limit``, as on the server); getting it back
means more follow, and it is left out of the page.
"""

from __future__ import annotations

from typing import Any, cast

from openviking_mcp.client._operations import AsyncOperations

__all__ = ["AsyncListingPages"]


def _page_probe(node_limit: int, limit: int | None) -> tuple[int, int | None]:
    """The page size the SDK asks for (``limit`` wins over ``node_limit``) and the ``limit``
    to send: one more, so that the answer tells whether more follow (none below one)."""
    size = limit if limit is not None else node_limit
    return size, size + 1 if size >= 1 else limit


def _paged(rows: list[Any], size: int) -> dict[str, Any]:
    """The SDK's page of ``rows`` fetched with :func:`_page_probe`."""
    if size < 1:
        return {"result": rows, "has_more": False}
    return {"result": rows[:size], "has_more": len(rows) > size}


class AsyncListingPages(AsyncOperations):
    """``ls_page`` and ``tree_page`` with the SDK's parameters (names, order, defaults)."""

    async def ls_page(
        self,
        uri: str,
        simple: bool = False,
        recursive: bool = False,
        output: str = "original",
        abs_limit: int = 256,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        sort_by: str | None = None,
        sort_order: str = "asc",
        extra_fields: list[str] | None = None,
        tags: list[str] | None = None,
        include_tags: bool = False,
        offset: int = 0,
        limit: int | None = None,
        include_abstract: bool | None = None,
        include_overview: bool | None = None,
        overview_limit: int = 4000,
    ) -> dict[str, Any]:
        """``{result, has_more}``: one page of ``ls``; asking one entry more than the page
        tells whether more follow."""
        size, ask = _page_probe(node_limit, limit)
        rows = await self.ls(
            uri,
            simple=simple,
            recursive=recursive,
            output=cast(Any, output),
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            sort_by=cast(Any, sort_by or "name"),
            sort_order=cast(Any, sort_order),
            extra_fields=extra_fields,
            tags=tags,
            include_tags=include_tags,
            offset=offset,
            limit=ask,
            include_abstract=include_abstract,
            include_overview=include_overview,
            overview_limit=overview_limit,
        )
        return _paged(list(rows), size)

    async def tree_page(
        self,
        uri: str,
        output: str = "original",
        abs_limit: int = 128,
        show_all_hidden: bool = False,
        node_limit: int = 1000,
        level_limit: int = 3,
        extra_fields: list[str] | None = None,
        tags: list[str] | None = None,
        include_tags: bool = False,
        offset: int = 0,
        limit: int | None = None,
        include_abstract: bool | None = None,
        include_overview: bool | None = None,
        overview_limit: int = 4000,
        directories_only: bool = False,
    ) -> dict[str, Any]:
        """``{result, has_more}``: one page of ``tree``, as :meth:`ls_page`."""
        size, ask = _page_probe(node_limit, limit)
        rows = await self.tree(
            uri,
            output=cast(Any, output),
            abs_limit=abs_limit,
            show_all_hidden=show_all_hidden,
            node_limit=node_limit,
            level_limit=level_limit,
            extra_fields=extra_fields,
            tags=tags,
            include_tags=include_tags,
            offset=offset,
            limit=ask,
            include_abstract=include_abstract,
            include_overview=include_overview,
            overview_limit=overview_limit,
            directories_only=directories_only,
        )
        return _paged(list(rows), size)
