"""Candidate sources: each user's top-k allowed items, ties kept in catalogue order."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.core.train.sources import _top_per_user

pytestmark = pytest.mark.unit


def _by_stable_sort(scores: np.ndarray, k: int, allowed: np.ndarray) -> np.ndarray:
    """The definition: a stable descending sort of each row, the first k, positive only."""
    mask = np.zeros_like(allowed)
    masked = np.where(allowed, scores, -np.inf)
    if k:
        top = np.argsort(-masked, axis=1, kind="stable")[:, :k]
        np.put_along_axis(mask, top, True, axis=1)
    return mask & (masked > 0)


@pytest.mark.parametrize("seed", range(40))
def test_top_per_user_equals_a_stable_sort_with_ties_and_disallowed_items(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, items = int(rng.integers(1, 30)), int(rng.integers(1, 40))
    # one decimal: many ties; some scores zero or negative (never candidates)
    scores = np.round(rng.random((rows, items)) * 3, 1) - (rng.random((rows, items)) < 0.2)
    allowed = rng.random((rows, items)) < 0.7
    for k in (0, 1, 3, items - 1, items, items + 5):
        expected = _by_stable_sort(scores, max(k, 0), allowed)
        assert (_top_per_user(scores, max(k, 0), allowed) == expected).all(), k


def test_top_per_user_on_an_empty_catalogue() -> None:
    empty = np.zeros((3, 0))
    assert _top_per_user(empty, 5, empty.astype(bool)).shape == (3, 0)
