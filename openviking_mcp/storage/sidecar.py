"""Directory sidecars: ``.abstract.md`` (L0) and ``.overview.md`` (L1).

New sidecars are Markdown with a YAML front matter block (``directory``, ``generated_by``...)
followed by the body. Read surfaces return the body only; legacy sidecars without front matter
are plain bodies.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = [
    "ABSTRACT_FILE",
    "OVERVIEW_FILE",
    "SIDECAR_FILES",
    "render_sidecar",
    "sidecar_body",
    "sidecar_meta",
]

ABSTRACT_FILE = ".abstract.md"
OVERVIEW_FILE = ".overview.md"
SIDECAR_FILES = frozenset({ABSTRACT_FILE, OVERVIEW_FILE})


def _split(text: str) -> tuple[str | None, str]:
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---\n", 3)
    if end < 0:
        return None, text
    return text[4:end], text[end + 5 :]


#: libyaml's safe dumper and loader where PyYAML was built with it (4x faster), else Python's.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def render_sidecar(directory_uri: str, body: str, *, component: str, trigger: str) -> str:
    """Sidecar text for ``directory_uri`` (the front matter's directory always ends with ``/``)."""
    directory = directory_uri if directory_uri.endswith("/") else directory_uri + "/"
    meta = {"directory": directory, "generated_by": {"component": component, "trigger": trigger}}
    front = yaml.dump(meta, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n{body.strip()}\n"


def sidecar_body(text: str) -> str:
    """The body of a sidecar, without front matter and surrounding blank lines."""
    return _split(text)[1].strip()


def sidecar_meta(text: str) -> dict[str, Any]:
    """The front matter as a dict (``{}`` for legacy sidecars or unreadable YAML)."""
    front, _ = _split(text)
    if front is None:
        return {}
    try:
        data = yaml.load(front, Loader=_LOADER)  # a safe loader (C or Python)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}
