"""The ``status`` texts of the observer components, in the layout that OpenViking's own
clients read: ``ov status`` summarises each component from these tables (collections and
vectors, model names per section, lock count, query count, mounts). The full facts stay in
each component's ``details``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openviking_mcp.contract.observer import (
    FilesystemDetails,
    HeldLock,
    LatencySummary,
    ModelInfo,
)
from openviking_mcp.observer.report import render_table

__all__ = [
    "filesystem_text",
    "lock_text",
    "models_text",
    "retrieval_text",
    "vikingdb_text",
]

_SECTIONS = (("vlm", "VLM"), ("embedding", "Embedding"), ("rerank", "Rerank"), ("bot", "Bot"))


def vikingdb_text(collection: str, index_count: int, vectors: int, healthy: bool) -> str:
    """One row per collection (ours has one table) and a ``TOTAL`` row."""
    headers = ("Collection", "Index Count", "Vector Count", "Status")
    status = "OK" if healthy else "ERROR"
    rows = [(collection, index_count, vectors, status), ("TOTAL", index_count, vectors, "")]
    return render_table(headers, rows)


def models_text(models: Sequence[ModelInfo]) -> str:
    """A ``<Kind> Models:`` section with a table for every configured model."""
    by_kind = {m.kind: m for m in models if m.configured}
    lines: list[str] = []
    for kind, title in _SECTIONS:
        info = by_kind.get(kind)
        if info is None:
            continue
        row = (info.model_id or info.model or "-", info.provider or "-", "configured")
        lines += [f"\n{title} Models:", render_table(("Model", "Provider", "Status"), [row]), ""]
    return "\n".join(lines) if lines else "No model usage data available."


def lock_text(held: Sequence[HeldLock]) -> str:
    if not held:
        return "No active locks"
    rows = [(h.account_id, h.uri) for h in held]
    return f"{len(held)} active locks\n" + render_table(("Account", "Locked URI"), rows)


def retrieval_text(latency: LatencySummary, config: dict[str, Any]) -> str:
    """Query figures first (``Total Queries``, ``Zero-Result Rate`` ...), then the settings."""
    answered = latency.calls - latency.errors
    rate = latency.zero_results / answered if answered else 0.0
    rows: list[tuple[str, Any]] = [
        ("Total Queries", latency.calls),
        ("Total Results", latency.results),
        ("Zero-Result Queries", latency.zero_results),
        ("Zero-Result Rate", f"{rate:.1%}"),
        ("Errors", latency.errors),
        ("Avg Latency (ms)", latency.mean_ms),
        ("P50 Latency (ms)", latency.p50_ms),
        ("P95 Latency (ms)", latency.p95_ms),
        ("Max Latency (ms)", latency.max_ms),
    ]
    settings = render_table(("Setting", "Value"), list(config.items()))
    return render_table(("Metric", "Value"), rows) + "\n\n" + settings


def filesystem_text(details: FilesystemDetails) -> str:
    """A ``Mount:`` heading for the workspace, then its size and the volume's space."""
    rows: list[tuple[str, Any]] = list(details.workspace_size.model_dump().items())
    if details.volume is not None:
        rows += [(f"Volume {k}", v) for k, v in details.volume.items()]
    heading = f"Mount: {details.workspace} (plugin: local)"
    return "\n".join([heading, "=" * 60, render_table(("Metric", "Value"), rows)])
