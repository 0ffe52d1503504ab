"""Where an import may land, and building the stored tree from a staged source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.resources.tree import (
    build_tree,
    is_resource_root,
    under_resources,
    unique_path,
)


def _uri(*parts: str) -> VikingURI:
    return VikingURI(parts[0], parts[1:])


def test_resource_roots_and_content() -> None:
    assert is_resource_root(_uri("resources"))
    assert is_resource_root(_uri("user", "alice", "resources"))
    assert not is_resource_root(_uri("resources", "x"))
    assert under_resources(_uri("resources", "x"))
    assert under_resources(_uri("user", "alice", "resources", "x", "y"))
    assert not under_resources(_uri("resources"))
    assert not under_resources(_uri("agent", "skills", "x"))


def test_unique_path_numbers_collisions() -> None:
    taken: dict[str, Any] = {"a.md": 1, "a_1.md": 1, "d/README": 1}
    assert unique_path("b.md", taken) == "b.md"
    assert unique_path("a.md", taken) == "a_2.md"
    assert unique_path("d/README", taken) == "d/README_1"


def _payload() -> dict[str, Any]:
    return {"filter": {"include": [], "exclude": [], "ignore_dirs": []}, "no_split": False}


def test_build_tree_of_a_folder_describes_every_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.md").write_text("# Alpha\n\nAlpha text.\n")
    (source / "a.html").write_text("<html><body><h1>Alpha</h1><p>Other.</p></body></html>")
    (source / "sub" / "notes.txt").write_text("Some notes.")
    warnings: list[str] = []
    tree, infos = build_tree(source, tmp_path / "tree", _payload(), warnings)
    assert tree == tmp_path / "tree" / "resource"
    # every document gets a folder of its own (two named "a" share one)
    assert set(infos) == {"a/a.md", "a/a_1.md", "sub/notes/notes.txt"}
    assert all(info["text"] is None for info in infos.values())
    assert (tree / "sub" / "notes" / "notes.txt").read_text() == "Some notes."


def test_build_tree_of_one_file(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide\n\nHello.\n")
    tree, infos = build_tree(doc, tmp_path / "tree", _payload(), [])
    assert list(infos) == ["guide.md"]
    assert (tree / "guide.md").read_text().startswith("# Guide")
