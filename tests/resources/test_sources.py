from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.resources.fetch import name_from_url
from openviking_mcp.resources.netguard import check_public_url
from openviking_mcp.resources.sources import (
    SourceFilter,
    extract_zip,
    stage_local,
    target_name,
    walk_source,
)

pytestmark = pytest.mark.anyio


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_extracts_and_unwraps_a_single_top_folder(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "pkg.zip", {"pkg/a.md": b"A", "pkg/sub/b.md": b"B"})
    root = extract_zip(archive, tmp_path / "out")
    assert root.name == "pkg"
    assert (root / "sub" / "b.md").read_bytes() == b"B"


@pytest.mark.parametrize("evil", ["../escape.txt", "a/../../escape.txt", "/abs.txt"])
def test_zip_slip_is_refused(tmp_path: Path, evil: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr(evil, b"evil")
    archive = tmp_path / "evil.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(PermissionDeniedError, match="escapes"):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_zip_links_and_garbage_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError, match="link"):
        extract_zip(_zip(tmp_path / "l.zip", {"a.txt": b"x"}, link="passwd"), tmp_path / "o1")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InvalidArgumentError, match="valid zip"):
        extract_zip(bad, tmp_path / "o2")


def test_walk_honours_gitignore_filters_and_default_ignores(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    for rel in (
        "README.md",
        "src/app.py",
        "src/app.pyc",
        "build/out.txt",
        "node_modules/x.js",
        "logs/today.log",
        "keep/important.log",
        "docs/guide.md",
        "docs/draft.md",
    ):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    (src / ".gitignore").write_text("*.pyc\n*.log\n!keep/important.log\n# comment\n")
    files = walk_source(src, SourceFilter(exclude=("draft.md",)))
    assert files == ["README.md", "docs/guide.md", "keep/important.log", "src/app.py"]
    only_md = walk_source(src, SourceFilter(include=("*.md",)))
    assert only_md == ["README.md", "docs/draft.md", "docs/guide.md"]
    assert "src/app.py" not in walk_source(src, SourceFilter(ignore_dirs=("src",)))


def test_stage_local_copies_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "f.md").write_text("hi")
    staged, n = stage_local(tmp_path / "f.md", tmp_path / "stage1", SourceFilter())
    assert (staged.read_text(), n) == ("hi", 1)
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "x.txt").write_text("x")
    staged, n = stage_local(tmp_path / "d", tmp_path / "stage2", SourceFilter())
    assert (staged / "e" / "x.txt").read_text() == "x"
    assert n == 1


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://example.com/docs/guide.md", "guide"),
        ("https://example.com/", "example.com"),
        ("https://example.com/blog/post/index.html", "post"),
        ("http://h/a%20b.pdf", "a b"),
    ],
)
def test_name_from_url(url: str, name: str) -> None:
    assert name_from_url(url) == name


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
    ],
)
async def test_ssrf_guard_refuses_private_addresses(url: str) -> None:
    with pytest.raises(PermissionDeniedError, match="non-public address"):
        await check_public_url(url, allow_private=False)
    await check_public_url(url, allow_private=True)


async def test_non_http_urls_are_invalid() -> None:
    with pytest.raises(InvalidArgumentError):
        await check_public_url("file:///etc/passwd", allow_private=True)


@pytest.mark.parametrize(
    ("name", "is_dir", "source_name", "expected"),
    [
        ("upload.md", False, None, "upload"),
        ("temp_upload_1.zip", False, "bench", "bench"),
        ("temp_upload_1.zip", False, "bench.zip", "bench"),
        ("temp_upload_1.zip", False, "v1.2", "v1.2"),
        ("upload.md", False, "/home/me/notes.md", "notes"),
        ("upload.md", False, "C:\\docs\\notes.md", "notes"),
        ("upload.pdf", False, "2601.00014", "2601.00014"),
        ("v1.2", True, None, "v1.2"),
        ("v1.2", True, "release.2", "release.2"),
        ("upload.md", False, "  ", "upload"),
    ],
)
def test_target_name(name: str, is_dir: bool, source_name: str | None, expected: str) -> None:
    assert target_name(name, is_dir, source_name) == expected
