"""The pure parts of the observer: text tables, component shape, model facts without secrets
and facts about the host (Python, platform, CPU, memory, disk, uptime)."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from openviking_mcp._version import __version__
from openviking_mcp.contract.observer import (
    Component,
    CpuFacts,
    HostFacts,
    MemoryFacts,
    ModelInfo,
    TreeSize,
)

__all__ = [
    "MAX_WALK_FILES",
    "PROCESS_STARTED",
    "component",
    "host_facts",
    "memory_facts",
    "model_info",
    "render_table",
    "safe_url",
    "tree_size",
]

C = TypeVar("C", bound=Component)
M = TypeVar("M", bound=ModelInfo)

#: Files counted at most when measuring the workspace's size (the figure is then partial).
MAX_WALK_FILES = 200_000
PROCESS_STARTED = time.time()


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with ``+---+`` borders (the original observer's ``status`` text)."""
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(row: list[str]) -> str:
        return "|" + "|".join(f" {v:<{w}} " for v, w in zip(row, widths, strict=True)) + "|"

    body = [line(r) for r in cells[1:]]
    return "\n".join([rule, line(cells[0]), rule, *body, *([rule] if body else [])])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def component(
    kind: type[C],
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    details: Any,
    errors: Sequence[str] = (),
    warnings: Sequence[str] = (),
    *,
    text: str | None = None,
) -> C:
    """A component; ``errors`` make it unhealthy, ``warnings`` only set ``has_errors``. Its
    ``status`` is ``text``, else the table of ``headers`` and ``rows``."""
    return kind(
        name=name,
        is_healthy=not errors,
        has_errors=bool(errors or warnings),
        errors=[*errors, *warnings],
        status=text if text is not None else render_table(headers, rows),
        details=details,
    )


def safe_url(url: str | None) -> str | None:
    """``url`` without credentials, query or fragment (they may carry keys)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def model_info(
    kind: type[M], name: str, configured: bool, cfg: Any, model_id: str | None, **extra: Any
) -> M:
    """What is configured for one model, secrets left out (``extra``: the kind's own facts)."""
    return kind(
        kind=name,
        configured=configured,
        provider=getattr(cfg, "provider", None),
        model=getattr(cfg, "model", None),
        model_id=model_id,
        api_base=safe_url(getattr(cfg, "api_base", None)),
        api_key_set=bool(getattr(cfg, "api_key", None)),
        extra_headers=sorted(getattr(cfg, "extra_headers", {}) or {}),
        **extra,
    )


def memory_facts() -> MemoryFacts:
    """Host memory from ``/proc/meminfo`` and this process's resident size (Linux; else None)."""
    info: dict[str, int | None] = {"total": None, "available": None, "process_rss": None}
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        info["total"] = int(fields["MemTotal"].split()[0]) * 1024
        info["available"] = int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        pass
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            info["process_rss"] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        pass
    return MemoryFacts(**info)


def tree_size(root: Path) -> TreeSize:
    """Bytes and files under ``root`` (stops after :data:`MAX_WALK_FILES` files)."""
    total = files = 0
    partial = False
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            files += 1
            if files >= MAX_WALK_FILES:
                partial = True
                break
        if partial:
            break
    return TreeSize(bytes=total, files=files, partial=partial)


def host_facts(workspace: Path, auth_mode: str) -> HostFacts:
    """Python, platform, CPU, memory, the workspace's disk, start time and uptime."""
    try:
        disk: dict[str, int] | None = shutil.disk_usage(workspace)._asdict()
    except OSError:
        disk = None
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return HostFacts(
        version=__version__,
        python=sys.version.split()[0],
        implementation=platform.python_implementation(),
        platform=platform.platform(),
        machine=platform.machine(),
        pid=os.getpid(),
        cpu=CpuFacts(count=os.cpu_count(), load_average=load),
        memory=memory_facts(),
        disk=disk,
        workspace=str(workspace),
        started_at=PROCESS_STARTED,
        uptime_seconds=round(time.time() - PROCESS_STARTED, 3),
        auth_mode=auth_mode,
    )
