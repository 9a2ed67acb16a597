"""Seeded samples: the same data and seed always pick the same rows (pure)."""

from __future__ import annotations

import numpy as np


def sample_positions(total: int, rows: int, seed: int) -> np.ndarray:
    """Sorted positions of a seeded sample of ``rows`` out of ``total`` (all when fewer)."""
    if total <= rows:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=rows, replace=False))
