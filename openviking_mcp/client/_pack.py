"""The pack and relations methods of the embedded async client (mixed into ``AsyncOpenViking``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.pack import OnConflict, VectorMode
from openviking_mcp.service import ContextService

__all__ = ["PackMethods"]


class PackMethods:
    """Mirror of the service's pack (``.ovpack``) and relations operations."""

    service: ContextService

    @property
    def context(self) -> RequestContext:
        raise NotImplementedError

    async def export_pack(self, uri: str, *, include_vectors: bool = False) -> Path:
        """Write an ``.ovpack`` of ``uri`` into ``{workspace}/exports/``; returns its path (the
        file is yours to move or delete)."""
        return await self.service.export_pack(self.context, uri, include_vectors=include_vectors)

    async def import_pack(
        self,
        temp_file_id: str,
        parent: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> dict[str, Any]:
        """Import an uploaded ``.ovpack`` (see ``save_upload``) as ``{parent}/{name}``."""
        return await self.service.import_pack(
            self.context, temp_file_id, parent, on_conflict=on_conflict, vector_mode=vector_mode
        )

    async def backup(self, include_vectors: bool = False) -> Path:
        """Write a backup pack of the whole account (ADMIN) into ``{workspace}/exports/``."""
        return await self.service.backup(self.context, include_vectors)

    async def restore(
        self,
        temp_file_id: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> dict[str, Any]:
        """Merge an uploaded backup pack into the account (ADMIN)."""
        return await self.service.restore(
            self.context, temp_file_id, on_conflict=on_conflict, vector_mode=vector_mode
        )

    async def get_relations(self, uri: str) -> list[dict[str, str]]:
        return await self.service.get_relations(self.context, uri)

    async def link(
        self, from_uri: str, to_uris: str | list[str], reason: str = ""
    ) -> dict[str, Any]:
        return await self.service.link(self.context, from_uri, to_uris, reason)

    async def unlink(self, from_uri: str, to_uri: str) -> dict[str, Any]:
        return await self.service.unlink(self.context, from_uri, to_uri)
