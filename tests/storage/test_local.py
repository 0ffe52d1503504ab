from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp.storage import LocalContentStore, local

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


async def test_concurrent_writes_of_many_files_all_land(store: LocalContentStore) -> None:
    payloads = {f"acct/resources/many/f-{i:03d}.md": f"body {i}\n".encode() for i in range(120)}
    await asyncio.gather(*(store.write_bytes(k, v) for k, v in payloads.items()))
    for key, data in payloads.items():
        assert await store.read_bytes(key) == data
    assert not list(store._staging.iterdir())  # nothing left staged


async def test_whole_file_writes_share_the_process_lock_appends_do_not(
    store: LocalContentStore,
) -> None:
    """A whole-file write runs while another process holds the lock shared, and waits while
    one holds it exclusive (as an append or a sweep does)."""
    await store.write_bytes("a/f.md", b"v0")
    fd = os.open(store._lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        await asyncio.wait_for(store.write_bytes("a/f.md", b"v1"), 5)
        append = asyncio.ensure_future(store.write_bytes("a/f.md", b"+", append=True))
        await asyncio.sleep(0.2)
        assert not append.done()  # exclusive: waits for the shared holder
        fcntl.flock(fd, fcntl.LOCK_UN)
        fcntl.flock(fd, fcntl.LOCK_EX)
        write = asyncio.ensure_future(store.write_bytes("a/g.md", b"g"))
        await asyncio.sleep(0.2)
        assert not write.done()  # shared: waits for the exclusive holder
        fcntl.flock(fd, fcntl.LOCK_UN)
        await asyncio.wait_for(asyncio.gather(append, write), 5)
    finally:
        os.close(fd)
    assert await store.read_bytes("a/f.md") == b"v1+"
    assert await store.read_bytes("a/g.md") == b"g"


def test_folder_fsyncs_are_shared_by_writers_that_wait_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each sync returns after a folder fsync that started after it was asked for; writers
    asking while one runs share the next one."""
    started: list[int] = []
    asked = [0]
    lock = threading.Lock()

    def slow_fsync(path: Path) -> None:
        with lock:
            started.append(asked[0])
        time.sleep(0.05)

    monkeypatch.setattr(local, "_fsync_dir", slow_fsync)
    syncer = local._FolderSync()
    seen: list[tuple[int, int]] = []

    def writer() -> None:
        with lock:
            asked[0] += 1
            mine = asked[0]
        syncer.sync(tmp_path)
        with lock:
            seen.append((mine, max(started)))

    threads = [threading.Thread(target=writer) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 12
    assert all(latest >= mine for mine, latest in seen)  # an fsync covered each writer
    assert len(started) < 12  # and they shared some


async def test_append_lines_appends_in_place_and_cuts_a_torn_tail(
    store: LocalContentStore,
) -> None:
    key = "u/sessions/s1/messages.jsonl"
    await store.append_lines(key, b'{"n": 1}\n')
    path = store.path_for(key)
    inode = path.stat().st_ino
    await store.append_lines(key, b'{"n": 2}\n{"n": 3}\n')
    assert path.stat().st_ino == inode  # appended in place, not rewritten
    with path.open("ab") as handle:  # a crash cut the next record short
        handle.write(b'{"n": 4, "te')
    await store.append_lines(key, b'{"n": 5}\n')
    assert await store.read_bytes(key) == b'{"n": 1}\n{"n": 2}\n{"n": 3}\n{"n": 5}\n'
    with pytest.raises(ValueError, match="newline"):
        await store.append_lines(key, b'{"n": 6}')


async def test_a_failed_append_leaves_the_file_as_it_was(
    store: LocalContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "u/log.jsonl"
    await store.append_lines(key, b"one\n")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        await store.append_lines(key, b"two\n")
    monkeypatch.undo()
    assert await store.read_bytes(key) == b"one\n"
