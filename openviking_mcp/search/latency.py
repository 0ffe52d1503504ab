"""The find latency window: how long recent ``find`` calls took, for the observer and
``/metrics``.

:class:`~openviking_mcp.search.service.SearchService` records every ``find`` call here (every
surface and every internal search goes through it): the last :data:`LATENCY_WINDOW` durations
in memory, plus call and error totals since the process started.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from openviking_mcp.contract.observer import LatencySummary

__all__ = ["LATENCY_WINDOW", "LatencyWindow"]

#: How many recent ``find`` calls the window summarises.
LATENCY_WINDOW = 512


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence."""
    rank = max(1, min(len(ordered), int(q * len(ordered) + 0.999999)))
    return ordered[rank - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class LatencyWindow:
    """Durations of the last ``size`` calls, plus totals since the process started."""

    def __init__(self, size: int = LATENCY_WINDOW) -> None:
        self._recent: deque[float] = deque(maxlen=size)
        self.calls = 0
        self.errors = 0
        self.results = 0
        self.zero_results = 0
        self.last_at: float | None = None

    def add(self, seconds: float, *, ok: bool = True, results: int = 0) -> None:
        """One call: its duration, whether it succeeded and how many hits it returned."""
        self.calls += 1
        self.errors += 0 if ok else 1
        self.results += results
        self.zero_results += 1 if ok and not results else 0
        self.last_at = time.time()
        self._recent.append(seconds)

    def summary(self) -> LatencySummary:
        """Calls, errors, window size, mean/p50/p95/max in ms (``None`` before any call)."""
        recent = sorted(self._recent)
        summary = LatencySummary(
            calls=self.calls,
            errors=self.errors,
            results=self.results,
            zero_results=self.zero_results,
            window=len(recent),
            last_at=self.last_at,
        )
        if recent:
            summary.mean_ms = _ms(sum(recent) / len(recent))
            summary.p50_ms = _ms(_percentile(recent, 0.50))
            summary.p95_ms = _ms(_percentile(recent, 0.95))
            summary.max_ms = _ms(recent[-1])
        return summary
