"""``index.max_file_bytes``: a larger file is stored and read whole, but indexed from its
start only, with a warning in the task result; indexing never reads the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.indexing.service import utf8_prefix
from openviking_mcp.storage import LocalContentStore
from openviking_mcp.storage.index import IndexFilter

pytestmark = pytest.mark.anyio

LIMIT = 4096
URI = "viking://resources/big/notes.md"


class RecordingStore(LocalContentStore):
    """The local store, noting the keys read whole."""

    def __init__(self, workspace: Path) -> None:
        super().__init__(workspace)
        self.read_whole: list[str] = []

    async def read_bytes(self, key: str) -> bytes:
        self.read_whole.append(key)
        return await super().read_bytes(key)


def _big_text() -> str:
    start = "# Notes\n\nThe kestrelword launch plan is ready.\n\n"
    filler = "".join(f"Line {i} of filler text about nothing much.\n" for i in range(400))
    end = "\nThe albatrossword appendix closes the file.\n"
    return start + filler + end


async def test_a_large_file_is_stored_whole_and_indexed_from_its_start(tmp_path: Path) -> None:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(tmp_path / "data")},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "index": {"max_file_bytes": LIMIT},
        }
    )
    store = RecordingStore(config.workspace)
    service = ContextService(config, store=store)
    await service.initialize()
    try:
        ctx = service.dev_context()
        text = _big_text()
        assert len(text.encode()) > 4 * LIMIT
        await service.write(ctx, URI, text, mode="create")
        store.read_whole.clear()
        result = await service.indexing.refresh_now(ctx, [URI], recursive=False, bubble=False)
        assert result["files_indexed"] == 1
        assert result["warnings"] == [
            f"{URI}: larger than index.max_file_bytes ({LIMIT}); indexed its start only"
        ]
        assert not [k for k in store.read_whole if k.endswith("notes.md")]  # bounded reads

        assert await service.read(ctx, URI) == text  # stored and read whole
        listed = await service.ls(ctx, "viking://resources/big")
        assert [e["name"] for e in listed] == ["notes.md"]
        rows, _ = await service.store.index.scroll(
            IndexFilter(account_id=ctx.account_id, uri_prefixes=(URI,)), 1000, None
        )
        indexed = " ".join(row.text for row in rows if row.level == 2)
        assert "kestrelword" in indexed  # the start is indexed
        assert "albatrossword" not in indexed  # past the bound: stored, not indexed
        found = await service.find(ctx, "kestrelword", target_uri="viking://resources/big")
        assert URI in [hit["uri"] for hit in found["resources"]]
    finally:
        await service.close()


def test_the_prefix_never_cuts_a_character() -> None:
    for text in ("abc" * 10, "é" * 10, "日本" * 10, "😀x" * 10):
        data = text.encode()
        for limit in range(len(data) + 1):
            cut = utf8_prefix(data, limit)
            cut.decode("utf-8")  # whole characters only
            assert limit - 3 <= len(cut) <= limit
