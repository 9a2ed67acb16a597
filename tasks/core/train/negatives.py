"""Which non-relevant candidates a training window keeps (pure, seeded).

Scoring the whole catalogue gives each user hundreds of negatives; training on all
of them is slow and mostly teaches "unpopular means irrelevant". Keeping a sample
per query group, drawn near uniformly (weight (ratings + 1) ** exponent), keeps
training fast and lets the ranker learn taste rather than popularity alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.specs import Negatives


def sample_negatives(
    frame: pd.DataFrame, cfg: Negatives, groups: list[str], seed: int
) -> pd.DataFrame:
    """Every positive row and at most ``cfg.per_user`` negatives of each group, in order.

    Weighted sampling without replacement (Efraimidis-Spirakis keys); ``frame`` must
    hold ``label`` and ``log_item_count`` (log1p of the item's ratings in history).
    """
    if cfg.per_user == 0 or frame.empty:
        return frame
    negative = frame["label"].to_numpy() == 0
    weight = np.exp(cfg.popularity_exponent * frame["log_item_count"].to_numpy(dtype=float))
    u = np.random.default_rng(seed).random(len(frame))
    key = np.where(negative, np.log(np.maximum(u, 1e-300)) / weight, -np.inf)
    rank = (
        pd.Series(key, index=frame.index)
        .groupby([frame[g] for g in groups], sort=False)
        .rank(ascending=False, method="first")
    )
    keep = ~negative | (rank.to_numpy() <= cfg.per_user)
    return frame[keep].reset_index(drop=True)
