"""Skills from a directory or a zip (seed 004 format 4): auxiliary files and zip safety."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills import bundles, load_skill_zip, parse_skill
from tests._zips import zip_bytes

SKILL_MD = "---\nname: code-runner\ndescription: Run code\n---\n\n# code-runner\n"


def _unsafe_zip(name: str) -> bytes:
    """A zip whose entry keeps ``name`` verbatim (ZipInfo would normalise some names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", SKILL_MD)
        info = zipfile.ZipInfo("placeholder")
        info.filename = name
        archive.writestr(info, b"x")
    return buffer.getvalue()


def test_directory_with_auxiliary_files(tmp_path: Path) -> None:
    root = tmp_path / "code-runner"
    (root / "scripts" / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (root / "scripts" / "run.py").write_text("print(1)\n", encoding="utf-8")
    (root / "scripts" / "sub" / "SKILL.md").write_text("nested", encoding="utf-8")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\xff")
    (root / ".git" / "config").write_text("[core]", encoding="utf-8")
    (root / ".env").write_text("TOKEN=x", encoding="utf-8")
    skill = parse_skill(root, allow_paths=True)
    assert skill.name == "code-runner"
    assert skill.source == "directory"
    assert skill.auxiliary == [
        ("logo.png", b"\x89PNG\x00\xff"),
        ("scripts/run.py", b"print(1)\n"),
        ("scripts/sub/SKILL.md", b"nested"),  # a nested SKILL.md is just an auxiliary file
    ]


def test_directory_string_path(tmp_path: Path) -> None:
    (tmp_path / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    assert parse_skill(f"{tmp_path}/", allow_paths=True).source == "directory"


def test_directory_without_top_level_skill_md(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match=r"must contain SKILL\.md at its top level"):
        parse_skill(tmp_path, allow_paths=True)


def test_directory_link_out_of_the_skill_is_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    root = tmp_path / "skill"
    root.mkdir()
    (root / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (root / "link.txt").symlink_to(outside)
    assert parse_skill(root, allow_paths=True).auxiliary == []


def test_directory_file_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_BUNDLE_FILES", 2)
    (tmp_path / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    for i in range(2):
        (tmp_path / f"f{i}.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="more than 2 files"):
        parse_skill(tmp_path, allow_paths=True)


def test_zip_with_skill_at_the_top(tmp_path: Path) -> None:
    archive = tmp_path / "skill.zip"
    archive.write_bytes(zip_bytes({"SKILL.md": SKILL_MD.encode(), "docs/a.md": b"A"}))
    skill = parse_skill(archive, allow_paths=True)
    assert skill.source == "zip"
    assert skill.auxiliary == [("docs/a.md", b"A")]


def test_zip_with_a_single_root_folder() -> None:
    data = zip_bytes(
        {
            "code-runner/": b"",
            "code-runner/SKILL.md": SKILL_MD.encode(),
            "code-runner/bin/run.sh": b"#!/bin/sh\n",
            "__MACOSX/code-runner/._SKILL.md": b"junk",
        }
    )
    skill = parse_skill(data, allow_paths=False)  # zip bytes (an upload) need no path access
    assert skill.name == "code-runner"
    assert skill.auxiliary == [("bin/run.sh", b"#!/bin/sh\n")]


def test_zip_without_skill_md() -> None:
    with pytest.raises(InvalidArgumentError, match=r"must contain SKILL\.md"):
        load_skill_zip(zip_bytes({"a/SKILL.md": b"x", "b/c.txt": b"y"}))


def test_empty_zip() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        load_skill_zip(zip_bytes({}))
    assert info.value.details["reason"] == "empty"


def test_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InvalidArgumentError, match="not a valid zip"):
        parse_skill(archive, allow_paths=True)


@pytest.mark.parametrize(
    "entry", ["../x", "a/../../x", "/abs", "a\\b", "..\\evil", "C:/x", "c:evil"]
)
def test_zip_slip_entries_are_refused(entry: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        load_skill_zip(_unsafe_zip(entry))
    assert info.value.details["entry"] == entry
    assert entry in info.value.message


def test_zip_link_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", SKILL_MD)
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16) & 0xFFFF0000
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(InvalidArgumentError, match="link"):
        load_skill_zip(buffer.getvalue())


def test_zip_duplicate_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", SKILL_MD)
        archive.writestr("a.txt", b"1")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("a.txt", b"2")
    with pytest.raises(InvalidArgumentError) as info:
        load_skill_zip(buffer.getvalue())
    assert info.value.details == {"field": "data", "reason": "duplicate", "entry": "a.txt"}


def test_directory_skill_md_linking_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text(SKILL_MD, encoding="utf-8")
    root = tmp_path / "skill"
    root.mkdir()
    (root / "SKILL.md").symlink_to(outside)
    with pytest.raises(InvalidArgumentError, match="cannot be read"):
        parse_skill(root, allow_paths=True)


def test_zip_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_BUNDLE_BYTES", 1000)
    data = zip_bytes({"SKILL.md": SKILL_MD.encode(), "big.bin": b"\0" * 2000})
    with pytest.raises(InvalidArgumentError) as info:
        load_skill_zip(data)
    assert info.value.details["reason"] == "too_large"


def test_zip_entry_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_BUNDLE_FILES", 3)
    data = zip_bytes({"SKILL.md": SKILL_MD.encode(), **{f"f{i}": b"" for i in range(3)}})
    with pytest.raises(InvalidArgumentError) as info:
        load_skill_zip(data)
    assert info.value.details["reason"] == "too_many_files"


def test_zip_skill_md_must_be_utf8() -> None:
    with pytest.raises(InvalidArgumentError, match="not UTF-8"):
        load_skill_zip(zip_bytes({"SKILL.md": b"\xff\xfe"}))
