"""Where a workspace's disk goes, for ``scale.py``: files, the index folder, and what of the
index the current table version uses (the rest is older versions that ``optimize`` prunes
only once they are ``CLEANUP_OLDER_THAN`` old, an hour).

The table is opened read-only from this process while the server runs (LanceDB readers
never block writers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TABLE = "contexts"


def allocated_bytes(root: Path) -> int:
    """Bytes allocated to every file under ``root`` (what ``du`` counts)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
    return total


def breakdown(workspace: Path) -> dict[str, float]:
    """MiB of the workspace, its files (``accounts/``) and index folder, the index's current
    version, its rows and versions."""
    import lancedb  # only here: the rest of the benchmark talks HTTP

    figures = {
        "disk_mb": allocated_bytes(workspace) / 2**20,
        "files_mb": allocated_bytes(workspace / "accounts") / 2**20,
        "index_dir_mb": allocated_bytes(workspace / "index") / 2**20,
    }
    try:
        table = lancedb.connect(str(workspace / "index")).open_table(TABLE)
        stats: Any = table.stats()  # a dict at run time, a class in the stubs
        figures["index_live_mb"] = float(stats["total_bytes"]) / 2**20
        figures["index_rows"] = float(stats["num_rows"])
        figures["index_versions"] = float(len(table.list_versions()))
    except (OSError, ValueError, KeyError, RuntimeError):  # no table yet, or another layout
        pass
    return figures
