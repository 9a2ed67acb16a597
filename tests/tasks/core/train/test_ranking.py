"""Ranking metrics against hand-computed values, leakage, and the per-user paired gate."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from schemas.specs import ModelSpec, Negatives, load_model_spec
from tasks import samples as generate
from tasks.core.gate.bootstrap import paired_bootstrap
from tasks.core.gate.evaluation import evaluate_ranking
from tasks.core.gate.measure import baseline_scores
from tasks.core.gate.ranking_metrics import coverage, per_user_metrics, top_k, weighted_mean
from tasks.core.train.candidates import Truth, build_window
from tasks.core.train.negatives import sample_negatives
from tasks.core.train.prepared import NotEnoughData
from tasks.core.train.ranking import prepare_ranking
from tasks.samples.recs_sparse import (
    SPARSE_SPEC,
    generate_sparse_interactions,
    merge_spec,
    sparse_items,
    sparse_users,
)


def test_metrics_match_hand_computed_values() -> None:
    # user 0: candidates A(gain 2), B(0), C(1); scores rank B, A, C.
    # user 1: candidates D(0), E(0); has one relevant item that no candidate holds.
    groups = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.5, 0.9, 0.1, 0.3, 0.2])
    labels = np.array([2, 0, 1, 0, 0])
    truth = Truth(np.array(["u0", "u1"]), [np.array([2.0, 1.0]), np.array([1.0])])
    got = per_user_metrics(groups, scores, labels, truth, k=10)
    dcg = (2**2 - 1) / math.log2(3) + (2**1 - 1) / math.log2(4)  # A at rank 2, C at rank 3
    idcg = (2**2 - 1) / math.log2(2) + (2**1 - 1) / math.log2(3)
    assert got["ndcg@10"] == pytest.approx([dcg / idcg, 0.0])
    assert got["map@10"] == pytest.approx([(1 / 2 + 2 / 3) / 2, 0.0])
    assert got["recall@10"] == pytest.approx([1.0, 0.0])


def test_recall_counts_items_the_candidates_missed() -> None:
    groups, scores, labels = np.array([0]), np.array([1.0]), np.array([1])
    truth = Truth(np.array(["u"]), [np.array([1.0, 1.0, 2.0, 1.0])])  # 4 relevant, 1 candidate
    assert per_user_metrics(groups, scores, labels, truth)["recall@10"][0] == pytest.approx(0.25)


def test_top_k_cuts_at_k_and_breaks_ties_by_row_order() -> None:
    groups = np.zeros(12, dtype=int)
    tops = top_k(groups, np.ones(12), k=10)
    assert list(tops[0]) == list(range(10))


def test_coverage_is_share_of_catalog_shown() -> None:
    groups = np.array([0, 0, 1, 1])
    items = np.array(["a", "b", "a", "c"])
    assert coverage(groups, np.array([1, 0, 1, 0]), items, catalog=10, k=1) == pytest.approx(0.1)
    assert coverage(groups, np.array([1, 0, 0, 1]), items, catalog=10, k=1) == pytest.approx(0.2)


def test_gate_resamples_users_not_rows() -> None:
    ndcg_a = np.array([0.5, 0.6, 0.7, 0.4])
    iv = paired_bootstrap(
        weighted_mean,
        np.zeros(4),
        ndcg_a,
        ndcg_a - 0.1,
        resamples=200,
        confidence=0.9,
        seed=1,
        unit="users",
    )
    assert iv.unit == "users"
    assert iv.low == pytest.approx(0.1) and iv.high == pytest.approx(0.1)


@pytest.fixture(scope="module")
def recs_data() -> dict[str, pd.DataFrame]:
    users, items = generate.generate_users(3, n_users=400), generate.generate_items(3, n_items=200)
    days = generate.generate_interactions(
        10, dt.date(2026, 3, 1), 3, users, items, rows_per_day=800
    )
    events = pd.concat(days.values(), ignore_index=True)
    events = events.sort_values(["event_time", "user_id", "item_id"]).reset_index(drop=True)
    return {"interactions": events, "items": items, "users": users}


def test_window_features_ignore_the_window_itself(recs_data: dict[str, pd.DataFrame]) -> None:
    """Changing every rating inside the window must not change any feature of that window."""
    cfg = load_model_spec("recs").ranking
    assert cfg is not None
    events, items, users = recs_data["interactions"], recs_data["items"], recs_data["users"]
    start, end = pd.Timestamp("2026-03-08", tz="UTC"), pd.Timestamp("2026-03-10", tz="UTC")
    base = build_window(events, items, users, start, end, cfg, "user_id")
    tampered = events.copy()
    inside = (tampered["event_time"] >= start).to_numpy()
    tampered.loc[inside, "rating"] = 1.0
    later = build_window(tampered, items, users, start, end, cfg, "user_id")
    features = [c for c in base.frame.columns if c != "label"]
    pd.testing.assert_frame_equal(base.frame[features], later.frame[features])
    assert not base.frame["label"].equals(later.frame["label"])  # labels do come from the window


def test_candidates_exclude_seen_items(recs_data: dict[str, pd.DataFrame]) -> None:
    cfg = load_model_spec("recs").ranking
    assert cfg is not None
    events = recs_data["interactions"]
    start = pd.Timestamp("2026-03-08", tz="UTC")
    win = build_window(
        events,
        recs_data["items"],
        recs_data["users"],
        start,
        start + pd.Timedelta(days=2),
        cfg,
        "user_id",
    )
    seen = set(
        zip(
            events.loc[events["event_time"] < start, "user_id"],
            events.loc[events["event_time"] < start, "item_id"],
            strict=True,
        )
    )
    pairs = set(zip(win.frame["user_id"], win.frame["item_id"], strict=True))
    assert not pairs & seen
    assert 0 < win.candidate_recall <= 1


def test_prepare_ranking_groups_and_holdout(recs_data: dict[str, pd.DataFrame]) -> None:
    spec = load_model_spec("recs").model_copy(update={})
    spec = spec.model_validate(
        {**spec.model_dump(), "split": {**spec.split.model_dump(), "min_rows": 20}}
    )
    prep = prepare_ranking(recs_data, spec)
    assert prep.train.group_sizes is not None and prep.train.group_sizes.sum() == len(prep.train.y)
    assert prep.truth is not None and prep.test_groups is not None
    assert prep.test_groups.max() < len(prep.truth.users)
    assert prep.windows.test_start > prep.windows.val_start > prep.windows.train_start


def _with(spec: ModelSpec, overrides: dict[str, Any]) -> ModelSpec:
    return spec.model_validate(merge_spec(spec.model_dump(), overrides))


@pytest.fixture(scope="module")
def sparse_data() -> dict[str, pd.DataFrame]:
    weeks = generate_sparse_interactions(30, dt.date(2026, 1, 5), 5, ratings_per_week=1500)
    events = pd.concat(weeks.values(), ignore_index=True)
    events = events.sort_values(["event_time", "user_id", "item_id"]).reset_index(drop=True)
    return {"interactions": events, "items": sparse_items(5), "users": sparse_users(5)}


def test_small_catalogue_is_scored_whole(recs_data: dict[str, pd.DataFrame]) -> None:
    spec = _with(
        load_model_spec("recs"), {"ranking": {"candidates": {"whole_catalog_max_items": 5000}}}
    )
    assert spec.ranking is not None
    start = pd.Timestamp("2026-03-08", tz="UTC")
    events = recs_data["interactions"]
    win = build_window(
        events, recs_data["items"], recs_data["users"], start, start + pd.Timedelta(days=2),
        spec.ranking, "user_id",
    )  # fmt: skip
    assert win.candidate_mode == "whole_catalog" and win.source_recall == {"catalog": 1.0}
    seen = events[events["event_time"] < start].groupby("user_id")["item_id"].nunique()
    sizes = win.frame.groupby("user_id").size()
    assert (sizes + seen.reindex(sizes.index)).eq(len(recs_data["items"])).all()


def test_union_reports_recall_per_source(recs_data: dict[str, pd.DataFrame]) -> None:
    cfg = load_model_spec("recs").ranking
    assert cfg is not None
    start = pd.Timestamp("2026-03-08", tz="UTC")
    win = build_window(
        recs_data["interactions"], recs_data["items"], recs_data["users"], start,
        start + pd.Timedelta(days=2), cfg, "user_id",
    )  # fmt: skip
    assert win.candidate_mode == "union"
    assert set(win.source_recall) == {"recent_positive", "covisit", "genre"}
    assert all(0 < r <= win.candidate_recall for r in win.source_recall.values())
    assert win.candidate_recall < sum(win.source_recall.values())  # the sources overlap


def test_negatives_are_sampled_per_group_and_positives_kept() -> None:
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(["a", "b"], 50),
            "label": np.r_[[2, 1], np.zeros(48), [2], np.zeros(49)].astype(int),
            "log_item_count": np.log1p(np.tile(np.arange(50), 2)),
        }
    )
    kept = sample_negatives(frame, Negatives(per_user=5, popularity_exponent=0.0), ["user_id"], 1)
    assert kept.groupby("user_id").size().to_dict() == {"a": 7, "b": 6}
    assert kept["label"].gt(0).sum() == 3
    cfg = Negatives(per_user=5, popularity_exponent=0.0)
    assert kept.equals(sample_negatives(frame, cfg, ["user_id"], 1))  # seeded
    assert not kept.equals(sample_negatives(frame, cfg, ["user_id"], 2))
    assert sample_negatives(frame, Negatives(per_user=0), ["user_id"], 1).equals(frame)


def test_popular_negatives_come_with_the_exponent() -> None:
    n = 2000
    frame = pd.DataFrame(
        {"user_id": "u", "label": 0, "log_item_count": np.log1p(np.arange(n, dtype=float))}
    )
    mean = {
        e: sample_negatives(frame, Negatives(per_user=200, popularity_exponent=e), ["user_id"], 3)[
            "log_item_count"
        ].mean()
        for e in (0.0, 1.0)
    }
    assert mean[1.0] > mean[0.0] + 0.2


def test_stacked_windows_add_query_groups(sparse_data: dict[str, pd.DataFrame]) -> None:
    spec = _with(load_model_spec("recs"), SPARSE_SPEC)
    one = prepare_ranking(sparse_data, _with(spec, {"ranking": {"label_windows": 1}}))
    three = prepare_ranking(sparse_data, spec)
    assert three.info["train_query_groups"] > 2 * one.info["train_query_groups"]
    assert three.windows.train_start == three.windows.val_start - pd.Timedelta(days=3 * 28)
    assert three.fingerprint == one.fingerprint  # the holdout does not depend on training windows
    assert three.info["candidate_recall"] == 1.0
    assert three.info["candidate_mode"] == "whole_catalog"


def test_thin_windows_name_the_spec_fields(sparse_data: dict[str, pd.DataFrame]) -> None:
    expected = (
        r"train window has \d+ users with history \(needs split\.min_rows 200\): widen"
        r" split\.training_window_days \(now 2\) or stack more ranking\.label_windows \(now 1\)"
    )
    with pytest.raises(NotEnoughData, match=expected):
        prepare_ranking(sparse_data, load_model_spec("recs"))


def test_both_popularity_baselines_are_paired_on_the_holdout(
    sparse_data: dict[str, pd.DataFrame],
) -> None:
    spec = _with(load_model_spec("recs"), SPARSE_SPEC)
    prep = prepare_ranking(sparse_data, spec)
    scores = baseline_scores(prep.test_frame)
    recent = scores["popularity_recent_positive"]
    ev = evaluate_ranking(spec.policy, prep, recent, None, scores, "item_id", 1)
    by_name = {b.name: b for b in ev.baselines}
    assert set(by_name) == {"popularity_all_time", "popularity_recent_positive"}
    same = by_name["popularity_recent_positive"]
    assert same.metrics == ev.challenger
    assert same.interval is not None and same.interval.estimate == pytest.approx(0.0)
    other = by_name["popularity_all_time"].interval
    assert other is not None and other.unit == "users" and other.low <= other.estimate <= other.high
    assert ev.strongest_baseline() is not None
