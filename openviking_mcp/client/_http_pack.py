"""The pack (``.ovpack``) and relations calls of the HTTP clients (mixed into
:class:`~._http_calls.CallBuilder`), with the embedded client's signatures.

Exports and backups arrive as a file stream; the client saves them into a new temporary folder
and returns that path, as the embedded client returns the file it wrote ("yours to move or
delete").
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openviking_mcp.client._http_base import Call, call

if TYPE_CHECKING:
    from openviking_mcp.contract.pack import OnConflict, VectorMode  # annotations only

__all__ = ["PackCalls"]

_PACK = "/api/v1/pack"
_RELATIONS = "/api/v1/relations"


def _saver(filename: str) -> Callable[[bytes], Path]:
    def save(data: bytes) -> Path:
        path = Path(tempfile.mkdtemp(prefix="openviking-pack-")) / filename
        path.write_bytes(data)
        return path

    return save


def _leaf(uri: str) -> str:
    leaf = uri.rstrip("/").rsplit("/", 1)[-1]
    return leaf if leaf and not leaf.endswith(":") and leaf != "~" else "export"


class PackCalls:
    """``/api/v1/pack/*`` and ``/api/v1/relations`` (seed 000's route table)."""

    def export_pack(self, uri: str, *, include_vectors: bool = False) -> Call[Path]:
        """``POST /api/v1/pack/export``; the ``.ovpack`` is saved to a new temp folder."""
        payload = {"uri": uri, "include_vectors": include_vectors}
        save = _saver(f"{_leaf(uri)}.ovpack")
        return call("POST", f"{_PACK}/export", json=payload, raw=True, waits=True, convert=save)

    def import_pack(
        self,
        temp_file_id: str,
        parent: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> Call[dict[str, Any]]:
        """``POST /api/v1/pack/import`` of an uploaded pack (see ``upload_temp_file``)."""
        payload = {
            "temp_file_id": temp_file_id,
            "parent": parent,
            "on_conflict": on_conflict,
            "vector_mode": vector_mode,
        }
        return call("POST", f"{_PACK}/import", json=payload, waits=True)

    def backup(self, include_vectors: bool = False) -> Call[Path]:
        """``POST /api/v1/pack/backup`` (ADMIN); saved to a new temp folder."""
        save = _saver("openviking-backup.ovpack")
        payload = {"include_vectors": include_vectors}
        return call("POST", f"{_PACK}/backup", json=payload, raw=True, waits=True, convert=save)

    def restore(
        self,
        temp_file_id: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> Call[dict[str, Any]]:
        payload = {
            "temp_file_id": temp_file_id,
            "on_conflict": on_conflict,
            "vector_mode": vector_mode,
        }
        return call("POST", f"{_PACK}/restore", json=payload, waits=True)

    def get_relations(self, uri: str) -> Call[list[dict[str, str]]]:
        return call("GET", _RELATIONS, params={"uri": uri})

    def link(
        self, from_uri: str, to_uris: str | list[str], reason: str = ""
    ) -> Call[dict[str, Any]]:
        payload = {"from_uri": from_uri, "to_uris": to_uris, "reason": reason}
        return call("POST", f"{_RELATIONS}/link", json=payload)

    def unlink(self, from_uri: str, to_uri: str) -> Call[dict[str, Any]]:
        payload = {"from_uri": from_uri, "to_uri": to_uri}
        return call("DELETE", f"{_RELATIONS}/link", json=payload)
