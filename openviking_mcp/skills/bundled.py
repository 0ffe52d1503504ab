"""The SKILL.md skills shipped with the package (``skills/`` at the repository root).

A wheel carries them as ``openviking_mcp/bundled_skills``; a source checkout (editable install)
reads the repository's ``skills/`` folder.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_skill_dirs", "bundled_skills_root"]

_PACKAGE = Path(__file__).resolve().parents[1]


def bundled_skills_root() -> Path | None:
    """The folder holding the bundled skills, or ``None`` if this install has none."""
    for candidate in (_PACKAGE / "bundled_skills", _PACKAGE.parent / "skills"):
        if candidate.is_dir() and any(candidate.glob("*/SKILL.md")):
            return candidate
    return None


def bundled_skill_dirs() -> list[Path]:
    """One folder per bundled skill, by name."""
    root = bundled_skills_root()
    if root is None:
        return []
    return sorted(p.parent for p in root.glob("*/SKILL.md"))
