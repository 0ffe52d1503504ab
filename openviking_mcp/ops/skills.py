"""Skills: folders holding a ``SKILL.md`` (YAML front matter + Markdown body).

Account-wide skills live under ``viking://agent/skills/{name}/``, a user's private skills under
``viking://user/{uid}/skills/{name}/``; a private skill hides an account skill of the same name
for its user. This module reads them (listing, one skill's body); adding skills is the
``add_skill`` operation.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import NotFoundError
from ..identity import RequestContext
from .base import ServiceCore

__all__ = ["SKILL_FILE", "SkillOps", "split_skill_md"]

SKILL_FILE = "SKILL.md"
_MAX_SKILLS = 1000


def split_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)`` of a SKILL.md; unreadable front matter counts as none."""
    if text.startswith("---\n") or text.startswith("---\r\n"):
        normalized = text.replace("\r\n", "\n")
        end = normalized.find("\n---", 3)
        if end >= 0:
            try:
                meta = yaml.safe_load(normalized[4:end])
            except yaml.YAMLError:
                meta = None
            rest = normalized[end + 4 :]
            body = rest.split("\n", 1)[1] if "\n" in rest else ""
            return (meta if isinstance(meta, dict) else {}), body.strip()
    return {}, text.strip()


class SkillOps(ServiceCore):
    def _skill_roots(self, ctx: RequestContext) -> list[str]:
        roots = ["viking://agent/skills"]
        if not ctx.is_root:
            roots.append(f"viking://user/{ctx.user_id}/skills")
        return roots

    async def list_skills(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every skill the caller can use: ``{name, description, uri, scope}``, by name."""
        found: dict[str, dict[str, Any]] = {}
        for root in self._skill_roots(ctx):
            base = self._resolve(ctx, root)
            key = self._key(ctx, base)
            try:
                children = await self.store.listdir(key)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for child in children[:_MAX_SKILLS]:
                if not child.is_dir or child.name.startswith("."):
                    continue
                text = await self._read_text(f"{key}/{child.name}/{SKILL_FILE}")
                if text is None:
                    continue
                meta, body = split_skill_md(text)
                name = str(meta.get("name") or child.name)
                found[name] = {
                    "name": name,
                    "description": str(meta.get("description") or _first_line(body)),
                    "uri": base.join(child.name).uri,
                    "scope": "agent" if root.startswith("viking://agent") else "user",
                }
        return sorted(found.values(), key=lambda s: s["name"])

    async def read_skill(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        """One skill by name: ``{name, description, uri, scope, body, meta}``."""
        for skill in await self.list_skills(ctx):
            if skill["name"] == name:
                target = self._resolve(ctx, f"{skill['uri']}/{SKILL_FILE}")
                text = await self._read_text(self._key(ctx, target)) or ""
                meta, body = split_skill_md(text)
                return {**skill, "body": body, "meta": meta}
        raise NotFoundError(name, "skill")


def _first_line(body: str) -> str:
    for line in body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""
