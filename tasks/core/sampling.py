"""Seeded samples: the same data and seed always pick the same rows (pure)."""

from __future__ import annotations

import numpy as np


def sample_positions(total: int, rows: int, seed: int) -> np.ndarray:
    """Sorted positions of a seeded sample of ``rows`` out of ``total`` (all when fewer)."""
    if total <= rows:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=rows, replace=False))


def stratified_positions(labels: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Sorted positions of a seeded sample of about ``rows`` that keeps each label's share
    (at least one row of each label; all rows when there are no more than ``rows``)."""
    total = len(labels)
    if total <= rows:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    _, inverse = np.unique(labels, return_inverse=True)
    picked = []
    for label in range(int(inverse.max()) + 1):
        where = np.flatnonzero(inverse == label)
        take = min(len(where), max(1, round(len(where) * rows / total)))
        picked.append(rng.choice(where, size=take, replace=False))
    return np.sort(np.concatenate(picked))
