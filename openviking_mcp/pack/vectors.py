"""Vector reuse on import: whether a pack's rows fit the index, and the rows to upsert.

A pack's vectors are reused only when they come from the index's model with its dimension and
every indexable file of the pack has rows; otherwise the import is re-embedded by a refresh
task. Rows are kept only for what was written (a restore skips files that already exist).
"""

from __future__ import annotations

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.indexing.rows import owner_of
from openviking_mcp.indexing.service import indexable
from openviking_mcp.pack.format import Pack
from openviking_mcp.storage.index import IndexRecord

__all__ = ["imported_records", "vector_mismatch"]

# The file each row level was computed from, relative to the row's path.
_SOURCES = {0: "/.abstract.md", 1: "/.overview.md", 2: ""}


def vector_mismatch(pack: Pack, dests: dict[str, VikingURI], model_id: str, dimension: int) -> str:
    """Why the pack's vectors cannot be reused by an index of ``model_id`` and
    ``dimension`` (``""`` if they can)."""
    if pack.vectors is None:
        return "the pack has no vectors"
    if (pack.vectors["model_id"], pack.vectors["dimension"]) != (model_id, dimension):
        return (
            f"the pack's vectors are from {pack.vectors['model_id']} "
            f"({pack.vectors['dimension']}), the index uses {model_id} ({dimension})"
        )
    covered = {row["path"] for row in pack.rows if row["level"] == 2}
    missing = [p for p in pack.files if indexable(dests[p]) and p not in covered]
    return f"the pack has no vectors for {missing[0]}" if missing else ""


def imported_records(
    ctx: RequestContext, pack: Pack, dests: dict[str, VikingURI], written: set[str]
) -> list[IndexRecord]:
    """The pack's rows as index records at their new place, for what was written."""
    records: list[IndexRecord] = []
    for row in pack.rows:
        uri = dests[row["path"]]
        if row["path"] + _SOURCES[row["level"]] not in written or not indexable(uri):
            continue
        parent = uri.parent
        records.append(
            IndexRecord(
                uri=uri.uri,
                level=row["level"],
                account_id=ctx.account_id,
                context_type=context_type_of(uri),
                vector=row["vector"],
                text=row.get("text", ""),
                abstract=row.get("abstract", ""),
                name=uri.name,
                parent_uri=parent.uri if parent else "",
                anchor=row.get("anchor", ""),
                owner_user_id=owner_of(uri),
                tags=list(row.get("tags", [])),
            )
        )
    return records
