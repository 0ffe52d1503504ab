"""The preset tree every account and user starts with, each folder with a fixed L0 and L1.

Created for the default user at start-up, for an account's first admin, for every new user, and
for the embedded client's user. Existing sidecars are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PresetDir", "account_presets", "user_presets"]


@dataclass(frozen=True, slots=True)
class PresetDir:
    parts: tuple[str, ...]
    abstract: str
    overview: str


_ACCOUNT: list[PresetDir] = [
    PresetDir(
        ("resources",),
        "Shared resources of this account: documents, code, web pages and other knowledge.",
        "# Resources\n\nAccount-wide knowledge shared by every user: imported documents, code "
        "repositories, web pages and notes. Each resource is a directory with its own abstract "
        "(L0), overview (L1) and full content (L2).",
    ),
    PresetDir(
        ("agent",),
        "Account-global agent capabilities; skills live under viking://agent/skills.",
        "# Agent\n\nCapabilities shared by every agent of this account. Skills are kept under "
        "`viking://agent/skills/{name}/`, each with a SKILL.md.",
    ),
    PresetDir(
        ("agent", "skills"),
        "Account-global skills: each folder holds one skill's SKILL.md.",
        "# Skills\n\nSkills available to every user of this account. Each skill folder holds a "
        "SKILL.md with YAML front matter (name, description) and instructions, plus any "
        "auxiliary files.",
    ),
]

_USER_CHILDREN: list[tuple[str, str, str]] = [
    (
        "memories",
        "Long-term memories about this user: profile, preferences, entities, events and cases.",
        "# Memories\n\nDurable memories extracted from conversations: `profile.md`, "
        "`preferences/`, `entities/`, `events/` (dated), `cases/`, `patterns/` and more.",
    ),
    (
        "resources",
        "This user's private resources.",
        "# Private resources\n\nDocuments and other knowledge visible only to this user.",
    ),
    (
        "skills",
        "This user's private skills.",
        "# Private skills\n\nSkills visible only to this user, one folder per skill.",
    ),
    (
        "peers",
        "Memories and resources about the peers this user interacts with.",
        "# Peers\n\nOne folder per interaction peer, with its own `memories/` and `resources/`.",
    ),
    (
        "privacy",
        "Versioned private configuration values of this user.",
        "# Privacy\n\nVersioned secret configuration, one folder per category and target.",
    ),
    (
        "sessions",
        "Conversation sessions of this user; not part of the search index.",
        "# Sessions\n\nOne folder per session with its messages and archived history.",
    ),
]


def account_presets() -> list[PresetDir]:
    """Folders shared by the whole account."""
    return list(_ACCOUNT)


def user_presets(user_id: str) -> list[PresetDir]:
    """The user root and its first-level folders."""
    root = PresetDir(
        ("user", user_id),
        f"Private space of user {user_id}: memories, resources, skills, peers and sessions.",
        f"# User {user_id}\n\nEverything that belongs to this user: `memories/` (long-term "
        "memories), `resources/` (private knowledge), `skills/`, `peers/`, `privacy/` and "
        "`sessions/`.",
    )
    children = [
        PresetDir(("user", user_id, name), abstract, overview)
        for name, abstract, overview in _USER_CHILDREN
    ]
    return [root, *children]
