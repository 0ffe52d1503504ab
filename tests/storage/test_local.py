from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp.storage import LocalContentStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path: Path) -> LocalContentStore:
    s = LocalContentStore(tmp_path / "ws")
    await s.open()
    return s


async def test_write_creates_parents_and_reads_back(store: LocalContentStore) -> None:
    assert await store.write_bytes("acct/resources/a/b/c.md", b"hello") == 5
    assert await store.read_bytes("acct/resources/a/b/c.md") == b"hello"
    assert (store.root / "acct" / "resources" / "a" / "b" / "c.md").is_file()


async def test_append_is_whole_file_atomic(store: LocalContentStore) -> None:
    await store.write_bytes("a/f.txt", b"one\n")
    await store.write_bytes("a/f.txt", b"two\n", append=True)
    assert await store.read_bytes("a/f.txt") == b"one\ntwo\n"


async def test_failure_mid_write_keeps_old_content_and_leaves_no_partial_file(
    store: LocalContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.write_bytes("a/f.md", b"original")
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "injected disk failure")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="injected"):
        await store.write_bytes("a/f.md", b"new content that must not land" * 1000)
    with pytest.raises(OSError, match="injected"):
        await store.write_bytes("a/new.md", b"never")
    monkeypatch.setattr(os, "fsync", real_fsync)

    assert await store.read_bytes("a/f.md") == b"original"
    assert not await store.exists("a/new.md")
    assert sorted(p.name for p in (store.root / "a").iterdir()) == ["f.md"]
    assert list((store.workspace / "tmp" / "writes").iterdir()) == []


async def test_failure_in_the_middle_of_the_byte_stream(
    store: LocalContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write itself dies after some bytes reached the temporary file."""
    await store.write_bytes("a/big.bin", b"old")
    calls = {"n": 0}
    real_fdopen = os.fdopen

    class FlakyHandle:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def __enter__(self) -> FlakyHandle:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

        def write(self, data: bytes) -> int:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, "disk full (injected)")
            return int(self._handle.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FlakyHandle(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="injected"):
        await store.write_bytes("a/big.bin", b"x" * (3 << 20))
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert calls["n"] == 2
    assert await store.read_bytes("a/big.bin") == b"old"
    assert list((store.workspace / "tmp" / "writes").iterdir()) == []


async def test_open_sweeps_leftovers_of_a_crashed_write(tmp_path: Path) -> None:
    staging = tmp_path / "ws" / "tmp" / "writes"
    staging.mkdir(parents=True)
    (staging / "w-crashed.tmp").write_bytes(b"half")
    await LocalContentStore(tmp_path / "ws").open()
    assert list(staging.iterdir()) == []


async def test_remove_non_empty_dir_needs_recursive(store: LocalContentStore) -> None:
    await store.write_bytes("a/d/f", b"x")
    with pytest.raises(OSError, match="not empty") as info:
        await store.remove("a/d")
    assert info.value.errno == errno.ENOTEMPTY
    await store.remove("a/d", recursive=True)
    assert not await store.exists("a/d")


async def test_move_refuses_existing_destination(store: LocalContentStore) -> None:
    await store.write_bytes("a/x", b"1")
    await store.write_bytes("a/y", b"2")
    with pytest.raises(FileExistsError):
        await store.move("a/x", "a/y")
    await store.move("a/x", "b/c/x")
    assert await store.read_bytes("b/c/x") == b"1"
    assert not await store.exists("a/x")


async def test_walk_is_depth_first_dirs_first_and_bounded(store: LocalContentStore) -> None:
    for key in ("r/b.md", "r/a/z.md", "r/a/deep/q.md", "r/c/y.md"):
        await store.write_bytes(key, b"x")
    walked = await store.walk("r", max_depth=10, max_entries=100)
    assert [e.key for e in walked] == [
        "r/a",
        "r/a/deep",
        "r/a/deep/q.md",
        "r/a/z.md",
        "r/c",
        "r/c/y.md",
        "r/b.md",
    ]
    assert [e.depth for e in walked][:3] == [1, 2, 3]
    shallow = await store.walk("r", max_depth=1, max_entries=100)
    assert [e.key for e in shallow] == ["r/a", "r/c", "r/b.md"]
    assert len(await store.walk("r", max_depth=10, max_entries=2)) == 2


async def test_path_for_refuses_unsafe_keys(store: LocalContentStore) -> None:
    with pytest.raises(PermissionError):
        store.path_for("a/../../etc/passwd")


async def test_writing_through_a_file_is_not_a_directory(store: LocalContentStore) -> None:
    await store.write_bytes("a/file", b"x")
    with pytest.raises(NotADirectoryError):
        await store.write_bytes("a/file/child", b"y")


@pytest.mark.slow
def test_concurrent_appends_from_two_processes_lose_nothing(tmp_path: Path) -> None:
    """Several processes share one workspace: every append lands, none interleave."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from pathlib import Path
        from openviking_mcp.storage import LocalContentStore

        async def main(ws, tag):
            store = LocalContentStore(Path(ws))
            await store.open()
            for i in range(40):
                await store.write_bytes("a/log.txt", f"{tag}-{i}\\n".encode(), append=True)

        asyncio.run(main(sys.argv[1], sys.argv[2]))
        """
    )
    ws = tmp_path / "ws"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(ws), tag]) for tag in ("p", "q", "r")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    lines = (ws / "accounts" / "a" / "log.txt").read_text().splitlines()
    assert len(lines) == 120
    assert sorted(lines) == sorted(f"{t}-{i}" for t in "pqr" for i in range(40))
