"""From interactions, items and users to LambdaRank matrices and a per-user holdout (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.errors import SpecError
from schemas.specs import ModelSpec
from tasks.core.train import features as feats
from tasks.core.train.booster import Matrix
from tasks.core.train.candidates import HISTORY_FEATURES, Window, build_window
from tasks.core.train.prepared import NotEnoughData, Prepared, fingerprint_rows
from tasks.core.train.splits import compute_windows

BUILDER = "recs_history"


def prepare_ranking(
    frames: dict[str, pd.DataFrame], spec: ModelSpec, as_of: pd.Timestamp | None = None
) -> Prepared:
    """Build train/validation/test windows; each window's features use only earlier data.

    Raises:
        NotEnoughData: a window has fewer query groups than ``split.min_rows``.
        SpecError: the spec's feature builder is not the ranking builder.
    """
    cfg, user = spec.ranking, spec.group_by
    if cfg is None or user is None or spec.features.builder != BUILDER:
        raise SpecError(f"ranking model {spec.name} needs features.builder: {BUILDER}")
    events = frames[spec.datasets[0]]
    items, users = frames[cfg.items_dataset], frames[cfg.users_dataset]
    w = compute_windows(as_of if as_of is not None else events["event_time"].max(), spec.split)
    bounds = {
        "train": (w.train_start, w.val_start),
        "validation": (w.val_start, w.test_start),
        "test": (w.test_start, w.test_end + pd.Timedelta(microseconds=1)),
    }
    windows = {
        name: build_window(events, items, users, s, e, cfg, user) for name, (s, e) in bounds.items()
    }
    for name, win in windows.items():
        if len(win.truth.users) < spec.split.min_rows:
            raise NotEnoughData(
                f"{name} window has {len(win.truth.users)} users with history "
                f"(needs {spec.split.min_rows})"
            )
    train_frame = _with_positives(windows["train"].frame, user)
    built = feats.Built(
        train_frame,
        [*spec.features.numeric, *HISTORY_FEATURES],
        list(spec.features.categorical),
        ["age_band"],
    )
    enc = feats.fit_encoding(built, np.ones(len(train_frame), dtype=bool))
    test = windows["test"]
    keys = [user, cfg.item_column]
    return Prepared(
        windows=w,
        encoding=enc,
        train=_matrix(train_frame, enc, user),
        valid=_matrix(_with_positives(windows["validation"].frame, user), enc, user),
        test=_matrix(test.frame, enc, user),
        test_frame=test.frame,
        test_rows=np.arange(len(test.frame)),
        slice_columns=[c for c in spec.policy_slice_columns() if c in test.frame.columns],
        fingerprint=fingerprint_rows(test.frame[keys], test.frame["label"].to_numpy()),
        test_groups=np.searchsorted(test.truth.users, test.frame[user].astype(str).to_numpy()),
        truth=test.truth,
        info=_info(windows, len(items)),
    )


def _with_positives(frame: pd.DataFrame, user: str) -> pd.DataFrame:
    """Drop query groups without any relevant candidate: they carry no ranking signal."""
    has_positive = frame.groupby(user)["label"].transform("max") > 0
    return frame[has_positive.to_numpy()].reset_index(drop=True)


def _matrix(frame: pd.DataFrame, enc: feats.Encoding, user: str) -> Matrix:
    sizes = frame.groupby(user, sort=False).size().to_numpy()
    return Matrix(feats.encode(frame, enc), frame["label"].to_numpy(dtype=float), sizes)


def _info(windows: dict[str, Window], catalog: int) -> dict[str, float | int]:
    test = windows["test"]
    return {
        "candidate_recall": test.candidate_recall,
        "holdout_users": len(test.truth.users),
        "cold_users_excluded": test.cold_users,
        "catalog_items": catalog,
    }
