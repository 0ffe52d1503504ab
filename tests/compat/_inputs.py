"""Local files the upstream clients upload: a document, a folder, a zip and skills."""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = ["make_inputs"]

_SKILL = "---\nname: {name}\ndescription: {description}\n---\n# {name}\n{body}\n"


def make_inputs(root: Path) -> Path:
    """Write the inputs under ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "guide.md").write_text("# Guide\nThe walrus guide: feed the walrus at noon.\n")
    bench = root / "bench"
    bench.mkdir(exist_ok=True)
    (bench / "note_00.md").write_text("# Note zero\nOolong tea is brewed at 90 degrees.\n")
    (bench / "note_01.md").write_text("# Note one\nOat milk foams well.\n")
    with zipfile.ZipFile(root / "archive.zip", "w") as archive:
        archive.writestr("zipped_a.md", "# Zipped A\nPelicans nest on islands.\n")
        archive.writestr("zipped_b.md", "# Zipped B\nPuffins dive for fish.\n")
    skill = root / "folder-skill"
    skill.mkdir(exist_ok=True)
    text = _SKILL.format(name="folder-skill", description="Skill from a folder", body="Steps.")
    (skill / "SKILL.md").write_text(text)
    (skill / "helper.md").write_text("An auxiliary file.\n")
    text = _SKILL.format(name="file-skill", description="Skill from a file", body="Do it.")
    (root / "file-skill.md").write_text(text)
    return root
