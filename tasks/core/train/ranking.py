"""From interactions, items and users to LambdaRank matrices and a per-user holdout (pure)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from schemas.errors import SpecError
from schemas.specs import ModelSpec, Ranking
from tasks.core.train import features as feats
from tasks.core.train.booster import Matrix
from tasks.core.train.candidates import HISTORY_FEATURES, Window, build_window
from tasks.core.train.negatives import sample_negatives
from tasks.core.train.prepared import NotEnoughData, Prepared, fingerprint_rows
from tasks.core.train.splits import Windows, compute_windows

BUILDER = "recs_history"
WINDOW_COL = "label_window"  # which stacked training window a row comes from (0: newest)


def ranking_bounds(
    w: Windows, spec: ModelSpec
) -> tuple[list[tuple[pd.Timestamp, pd.Timestamp]], dict[str, tuple[pd.Timestamp, pd.Timestamp]]]:
    """Stacked training label windows (newest first) and the validation/test windows."""
    cfg = _ranking(spec)
    day = pd.Timedelta(days=spec.split.training_window_days)
    train = [(w.val_start - (j + 1) * day, w.val_start - j * day) for j in range(cfg.label_windows)]
    return train, {
        "validation": (w.val_start, w.test_start),
        "test": (w.test_start, w.test_end + pd.Timedelta(microseconds=1)),
    }


def prepare_ranking(
    frames: dict[str, pd.DataFrame], spec: ModelSpec, as_of: pd.Timestamp | None = None
) -> Prepared:
    """Build stacked train, validation and test windows; each window's features use only
    interactions before it starts. Training windows keep sampled negatives; the test
    window keeps every candidate.

    Raises:
        NotEnoughData: a split has fewer query groups than ``split.min_rows``.
        SpecError: the spec's feature builder is not the ranking builder.
    """
    cfg, user = _ranking(spec), str(spec.group_by)
    events = frames[spec.datasets[0]]
    items, users = frames[cfg.items_dataset], frames[cfg.users_dataset]
    w = compute_windows(as_of if as_of is not None else events["event_time"].max(), spec.split)
    train_bounds, bounds = ranking_bounds(w, spec)
    w = replace(w, train_start=train_bounds[-1][0])
    built = {n: build_window(events, items, users, s, e, cfg, user) for n, (s, e) in bounds.items()}
    stacked = [build_window(events, items, users, s, e, cfg, user) for s, e in train_bounds]
    _check_sizes(spec, stacked, built)
    train_frame = pd.concat(
        [_training(win.frame.assign(**{WINDOW_COL: j}), cfg, user, spec.seed + j)
         for j, win in enumerate(stacked)],
        ignore_index=True,
    )  # fmt: skip
    valid = built["validation"].frame.assign(**{WINDOW_COL: 0})
    valid_frame = _training(valid, cfg, user, spec.seed)
    enc = feats.fit_encoding(
        feats.Built(
            train_frame,
            [*spec.features.numeric, *HISTORY_FEATURES],
            list(spec.features.categorical),
            ["age_band"],
        ),
        np.ones(len(train_frame), dtype=bool),
    )
    test = built["test"]
    keys = [user, cfg.item_column]
    return Prepared(
        windows=w,
        encoding=enc,
        train=_matrix(train_frame, enc, [WINDOW_COL, user]),
        valid=_matrix(valid_frame, enc, [WINDOW_COL, user]),
        test=_matrix(test.frame, enc, [user]),
        test_frame=test.frame,
        test_rows=np.arange(len(test.frame)),
        slice_columns=[c for c in spec.policy_slice_columns() if c in test.frame.columns],
        fingerprint=fingerprint_rows(test.frame[keys], test.frame["label"].to_numpy()),
        test_groups=np.searchsorted(test.truth.users, test.frame[user].astype(str).to_numpy()),
        truth=test.truth,
        info=_info(test, len(items), sum(len(s.truth.users) for s in stacked)),
    )


def _ranking(spec: ModelSpec) -> Ranking:
    if spec.ranking is None or spec.group_by is None or spec.features.builder != BUILDER:
        raise SpecError(f"ranking model {spec.name} needs features.builder: {BUILDER}")
    return spec.ranking


def _check_sizes(spec: ModelSpec, stacked: list[Window], built: dict[str, Window]) -> None:
    """Raise NotEnoughData naming the split, its size and the spec fields that set it."""
    sizes = {"train": sum(len(s.truth.users) for s in stacked)}
    sizes |= {name: len(win.truth.users) for name, win in built.items()}
    days = {
        "train": f"widen split.training_window_days (now {spec.split.training_window_days:g})"
        f" or stack more ranking.label_windows (now {_ranking(spec).label_windows})",
        "validation": f"widen split.validation_days (now {spec.split.validation_days:g})",
        "test": f"widen split.test_days (now {spec.split.test_days:g})",
    }
    for name, n in sizes.items():
        if n < spec.split.min_rows:
            raise NotEnoughData(
                f"{name} window has {n} users with history (needs split.min_rows"
                f" {spec.split.min_rows}): {days[name]}, or lower split.min_rows;"
                f" `retrain spec check {spec.name}` suggests windows"
            )


def _training(frame: pd.DataFrame, cfg: Ranking, user: str, seed: int) -> pd.DataFrame:
    """Sampled negatives, and only query groups with a relevant candidate (the others
    carry no ranking signal)."""
    frame = sample_negatives(frame, cfg.negatives, [user], seed)
    has_positive = frame.groupby(user)["label"].transform("max") > 0
    return frame[has_positive.to_numpy()].reset_index(drop=True)


def _matrix(frame: pd.DataFrame, enc: feats.Encoding, groups: list[str]) -> Matrix:
    sizes = frame.groupby(groups, sort=False).size().to_numpy()
    return Matrix(feats.encode(frame, enc), frame["label"].to_numpy(dtype=float), sizes)


def _info(test: Window, catalog: int, train_groups: int) -> dict[str, object]:
    return {
        "candidate_recall": test.candidate_recall,
        "candidate_recall_by_source": dict(test.source_recall),
        "candidate_mode": test.candidate_mode,
        "holdout_users": len(test.truth.users),
        "cold_users_excluded": test.cold_users,
        "catalog_items": catalog,
        "train_query_groups": train_groups,
    }
