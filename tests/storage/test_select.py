"""The top-k selection the in-memory search uses on big score arrays."""

from __future__ import annotations

import numpy as np
import pytest

from openviking_mcp.storage.index._select import largest


def _arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    flat = np.full(50_000, 0.25, dtype=np.float32)
    flat[[7, 900, 40_000]] = 0.9
    absent = rng.normal(size=60_000).astype(np.float32)
    absent[rng.random(60_000) < 0.8] = -np.inf  # rows a filter left out
    sparse = np.zeros(300_000, dtype=np.float32)  # keyword scores: most rows hold no token
    sparse[rng.choice(300_000, 12, replace=False)] = rng.random(12).astype(np.float32) + 0.1
    crowded = rng.normal(size=300_000).astype(np.float32)  # copies of one passage on top
    crowded[rng.choice(300_000, 200, replace=False)] = 9.0
    crowded[rng.choice(300_000, 40, replace=False)] = 10.0 + rng.random(40).astype(np.float32)
    return [
        sparse,
        crowded,
        rng.normal(size=300_000).astype(np.float32),
        -np.abs(rng.normal(size=100_000)).astype(np.float32),  # every score negative
        rng.integers(0, 3, size=40_000).astype(np.float32),  # heavy ties
        np.sort(rng.random(70_000).astype(np.float32)),  # the best all at the end
        flat,
        absent,
        rng.random(100).astype(np.float32),
    ]


@pytest.mark.parametrize("count", [1, 10, 30, 496, 2_000])
def test_largest_keeps_exactly_the_best_scores(count: int) -> None:
    for scores in _arrays():
        got = largest(scores, count)
        want = min(count, len(scores))
        assert len(got) == want
        assert len(set(got.tolist())) == want
        expected = np.sort(scores)[::-1][:want]
        assert np.array_equal(np.sort(scores[got])[::-1], expected)


def test_largest_of_nothing() -> None:
    assert len(largest(np.zeros(5, dtype=np.float32), 0)) == 0
    assert sorted(largest(np.arange(3, dtype=np.float32), 10).tolist()) == [0, 1, 2]
