"""Paired bootstrap: exact zero for identical models, sign, determinism, group draws, pairing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.core.gate.bootstrap import paired_bootstrap, paired_intervals
from tasks.core.gate.metrics import average_precision, brier, log_loss, roc_auc

pytestmark = pytest.mark.unit


def _data(seed: int = 0, n: int = 600, rate: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0.001, 0.999)
    return y, score


@pytest.mark.parametrize("metric", [average_precision, roc_auc, log_loss, brier])
@pytest.mark.parametrize("groups", [False, True], ids=["rows", "groups"])
def test_identical_models_give_exact_zero_interval(metric, groups: bool) -> None:
    y, score = _data()
    g = np.arange(len(y)) // 10 if groups else None
    iv = paired_bootstrap(
        metric, y, score, score.copy(), resamples=300, confidence=0.95, seed=1, groups=g
    )
    assert (iv.estimate, iv.low, iv.high) == (0.0, 0.0, 0.0)
    assert iv.resamples == 300
    assert iv.unit == ("groups" if groups else "rows")


@pytest.mark.parametrize("metric", [average_precision, roc_auc])
def test_clearly_better_challenger_has_positive_lower_bound(metric) -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(800) < 0.2).astype(int)
    good = 0.6 * y + rng.random(800) * 0.5
    noise = rng.random(800)
    better = paired_bootstrap(metric, y, good, noise, resamples=500, confidence=0.95, seed=0)
    assert better.estimate > 0
    assert 0 < better.low <= better.estimate <= better.high
    worse = paired_bootstrap(metric, y, noise, good, resamples=500, confidence=0.95, seed=0)
    assert worse.high < 0
    assert worse.estimate == pytest.approx(-better.estimate)


def test_lower_is_better_metric_keeps_metric_sign() -> None:
    """The difference is challenger - champion in the metric's own units (log loss drops)."""
    rng = np.random.default_rng(8)
    y = (rng.random(500) < 0.3).astype(int)
    sharp = np.where(y == 1, 0.8, 0.2)
    vague = np.full(500, 0.5)
    iv = paired_bootstrap(log_loss, y, sharp, vague, resamples=300, confidence=0.95, seed=0)
    assert iv.high < 0
    assert iv.estimate == pytest.approx(log_loss(y, sharp) - log_loss(y, vague))


def test_estimate_is_the_full_sample_difference() -> None:
    y, score = _data(5)
    other = np.roll(score, 7)
    iv = paired_bootstrap(roc_auc, y, score, other, resamples=200, confidence=0.9, seed=0)
    assert iv.estimate == pytest.approx(roc_auc(y, score) - roc_auc(y, other))
    assert iv.confidence == 0.9


@pytest.mark.parametrize("groups", [False, True], ids=["rows", "groups"])
def test_deterministic_for_a_seed(groups: bool) -> None:
    y, score = _data(2)
    other = np.clip(score + np.random.default_rng(1).normal(0, 0.1, len(y)), 0, 1)
    g = np.arange(len(y)) % 37 if groups else None

    def run(seed: int):
        return paired_bootstrap(
            average_precision, y, score, other, resamples=450, confidence=0.95, seed=seed, groups=g
        )

    first, again, other = run(11), run(11), run(12)
    assert first == again
    assert first.to_dict() == again.to_dict()
    assert (first.low, first.high) != (other.low, other.high)


def test_resample_count_not_a_multiple_of_the_chunk() -> None:
    y, score = _data(4)
    iv = paired_bootstrap(
        brier, y, score, np.roll(score, 1), resamples=451, confidence=0.95, seed=0
    )
    assert iv.resamples == 451


def _recording_metric(seen: list[np.ndarray]):
    def metric(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None):
        if weight is None:
            return float(np.mean(score))
        seen.append(np.asarray(weight).copy())
        return np.asarray(weight) @ score / np.sum(weight, axis=-1)

    return metric


def test_group_resampling_draws_whole_groups() -> None:
    # interleaved, unevenly sized, string-labelled groups
    sizes = {"q-a": 3, "q-b": 7, "q-c": 1, "q-d": 5, "q-e": 4}
    labels = np.array([g for g, k in sizes.items() for _ in range(k)], dtype=object)
    labels = labels[np.random.default_rng(0).permutation(len(labels))]
    y = np.zeros(len(labels))
    score = np.random.default_rng(1).random(len(labels))
    seen: list[np.ndarray] = []
    iv = paired_bootstrap(
        _recording_metric(seen),
        y,
        score,
        score * 0.5,
        resamples=250,
        confidence=0.95,
        seed=0,
        groups=labels,
    )
    assert iv.unit == "groups"
    weights = np.concatenate(seen)
    assert weights.shape == (2 * 250, len(labels))  # both models, same draws
    for name, size in sizes.items():
        member = weights[:, labels == name]
        assert member.shape[1] == size
        # every row of a group carries the same count: the group is drawn whole
        assert (member == member[:, :1]).all(), name
    # each resample draws exactly as many groups as there are (with replacement)
    firsts = [np.flatnonzero(labels == name)[0] for name in sizes]
    assert (weights[:, firsts].sum(axis=1) == len(sizes)).all()
    # the two models of a resample see the very same draw
    assert np.array_equal(seen[0], seen[1])


def test_distinct_groups_metric_counts_groups_not_rows() -> None:
    """A metric counting the distinct groups drawn never exceeds the number of groups."""
    groups = np.repeat(np.arange(4), 25)  # 4 groups of 25 rows
    y = np.zeros(100)

    def distinct_groups(y, score, weight):
        if weight is None:
            return float(score.max()) * 4
        drawn = np.stack([np.bincount(groups, weights=row, minlength=4) > 0 for row in weight])
        return score.max() * drawn.sum(axis=1)

    ones, zeros = np.ones(100), np.zeros(100)
    by_group = paired_bootstrap(
        distinct_groups, y, ones, zeros, resamples=400, confidence=0.99, seed=0, groups=groups
    )
    by_row = paired_bootstrap(
        distinct_groups, y, ones, zeros, resamples=400, confidence=0.99, seed=0
    )
    # drawing 4 groups with replacement often misses one; drawing 100 rows never does
    assert by_group.low < 4
    assert by_group.high <= 4
    assert (by_row.low, by_row.high) == (4.0, 4.0)


def test_row_resampling_does_not_keep_groups_together() -> None:
    y = np.zeros(40)
    score = np.linspace(0, 1, 40)
    seen: list[np.ndarray] = []
    paired_bootstrap(_recording_metric(seen), y, score, score, resamples=50, confidence=0.9, seed=0)
    weights = np.concatenate(seen)
    assert (weights.sum(axis=1) == 40).all()  # n rows drawn per resample
    assert not (weights == weights[:, :1]).all()


def test_paired_interval_narrower_than_independent_one() -> None:
    """Correlated models: pairing cancels the shared noise of the holdout draw."""
    rng = np.random.default_rng(21)
    n = 1000
    y = (rng.random(n) < 0.25).astype(int)
    champion = 0.5 * y + rng.random(n)
    challenger = champion + rng.normal(0, 0.05, n)  # nearly the same model
    resamples, confidence = 600, 0.95
    paired = paired_bootstrap(
        roc_auc, y, challenger, champion, resamples=resamples, confidence=confidence, seed=0
    )
    # naive: each model resampled on its own independent draw
    draw = np.random.default_rng(0)
    w1 = np.stack([np.bincount(draw.integers(0, n, n), minlength=n) for _ in range(resamples)])
    w2 = np.stack([np.bincount(draw.integers(0, n, n), minlength=n) for _ in range(resamples)])
    naive = roc_auc(y, challenger, w1.astype(float)) - roc_auc(y, champion, w2.astype(float))
    naive_low, naive_high = np.quantile(naive, [0.025, 0.975])
    assert paired.high - paired.low < 0.25 * (naive_high - naive_low)
    assert paired.low <= paired.estimate <= paired.high


def test_higher_confidence_gives_wider_interval() -> None:
    y, score = _data(6)
    other = np.clip(score + np.random.default_rng(2).normal(0, 0.2, len(y)), 0, 1)
    narrow = paired_bootstrap(roc_auc, y, score, other, resamples=800, confidence=0.8, seed=0)
    wide = paired_bootstrap(roc_auc, y, score, other, resamples=800, confidence=0.99, seed=0)
    assert wide.low < narrow.low
    assert wide.high > narrow.high


def test_resamples_without_a_positive_are_dropped() -> None:
    y = np.array([1] + [0] * 9)
    score = np.linspace(1, 0, 10)
    iv = paired_bootstrap(
        average_precision, y, score, score[::-1].copy(), resamples=400, confidence=0.9, seed=0
    )
    # P(no positive in 10 draws) = 0.9**10 ~ 35%: those resamples are dropped, not NaN
    assert 150 < iv.resamples < 350
    assert math.isfinite(iv.low)
    assert math.isfinite(iv.high)


def test_no_defined_resample_gives_nan_interval() -> None:
    y = np.zeros(20, dtype=int)
    score = np.linspace(0, 1, 20)
    iv = paired_bootstrap(
        roc_auc, y, score, score[::-1].copy(), resamples=200, confidence=0.95, seed=0
    )
    assert iv.resamples == 0
    assert math.isnan(iv.low)
    assert math.isnan(iv.high)


def test_to_dict_round_trips_fields() -> None:
    y, score = _data(1)
    iv = paired_bootstrap(brier, y, score, score, resamples=100, confidence=0.95, seed=0)
    assert iv.to_dict() == {
        "estimate": 0.0,
        "low": 0.0,
        "high": 0.0,
        "confidence": 0.95,
        "resamples": 100,
        "unit": "rows",
        "sample": None,
    }


def test_paired_intervals_share_the_draws_and_equal_one_bootstrap_per_model() -> None:
    rng = np.random.default_rng(11)
    y = (rng.random(3000) < 0.1).astype(float)
    challenger, champion, baseline = (y * s + rng.random(3000) for s in (0.6, 0.4, 0.2))
    together = paired_intervals(
        average_precision, y, challenger, [champion, baseline],
        resamples=300, confidence=0.95, seed=5,
    )  # fmt: skip
    alone = [
        paired_bootstrap(average_precision, y, challenger, other, resamples=300,
                         confidence=0.95, seed=5)
        for other in (champion, baseline)
    ]  # fmt: skip
    assert together == alone
    assert together[1].low > together[0].low  # the weaker baseline is beaten by more
    assert paired_intervals(average_precision, y, challenger, [], resamples=10,
                            confidence=0.95, seed=5) == []  # fmt: skip


def test_a_large_holdout_is_bootstrapped_through_a_rescaled_stratified_sample() -> None:
    """m-out-of-n: the interval of 4,000 resampled rows rescaled to 40,000 has the full
    bootstrap's centre and width (within Monte Carlo error), and says it was sampled."""
    rng = np.random.default_rng(3)
    n = 40_000
    y = (rng.random(n) < 0.05).astype(float)
    challenger, champion = (y * s + rng.random(n) for s in (0.5, 0.45))
    args = {"resamples": 400, "confidence": 0.9, "seed": 2}
    (full,) = paired_intervals(average_precision, y, challenger, [champion], **args)
    (sampled,) = paired_intervals(
        average_precision, y, challenger, [champion], **args, max_rows=4_000
    )
    assert full.sample is None and full.to_dict()["sample"] is None
    assert sampled.sample == (4_000, n)
    assert sampled.to_dict()["sample"] == [4_000, n]
    assert sampled.estimate == full.estimate  # always the whole holdout's difference
    width, sampled_width = full.high - full.low, sampled.high - sampled.low
    assert sampled_width == pytest.approx(width, rel=0.25)
    assert (sampled.low + sampled.high) / 2 == pytest.approx((full.low + full.high) / 2,
                                                             abs=0.25 * width)  # fmt: skip
    unscaled = paired_bootstrap(
        average_precision, y[:4_000], challenger[:4_000], champion[:4_000], **args
    )
    assert unscaled.high - unscaled.low > 2 * sampled_width  # the rescaling is what narrows


def test_stratified_sample_keeps_the_label_shares() -> None:
    from tasks.core.sampling import stratified_positions

    y = np.r_[np.ones(100), np.zeros(9_900)]
    keep = stratified_positions(y, 1_000, 4)
    assert len(keep) == 1_000 and int(y[keep].sum()) == 10
    assert np.array_equal(keep, np.sort(keep))
    assert np.array_equal(keep, stratified_positions(y, 1_000, 4))
    assert np.array_equal(stratified_positions(y, 20_000, 4), np.arange(10_000))
    rare = np.r_[np.ones(1), np.zeros(9_999)]
    assert rare[stratified_positions(rare, 100, 0)].sum() == 1  # every label keeps a row


def test_draws_do_not_depend_on_how_many_threads_evaluate_them(monkeypatch) -> None:
    """Chunks have their own spawned generators: one thread or four, the same interval;
    another seed, another one."""
    from tasks.core.gate import bootstrap

    rng = np.random.default_rng(8)
    n = 5_000
    y = (rng.random(n) < 0.1).astype(float)
    challenger, champion = (y * s + rng.random(n) for s in (0.5, 0.4))
    monkeypatch.setattr(bootstrap, "MAX_CELLS", 50 * n)  # 50 resamples a chunk: 8 chunks
    args = {"resamples": 400, "confidence": 0.95}
    by_workers = {}
    for workers in (1, 4):
        monkeypatch.setattr(bootstrap, "WORKERS", workers)
        by_workers[workers] = paired_bootstrap(
            average_precision, y, challenger, champion, **args, seed=3
        )
    assert by_workers[1] == by_workers[4]
    other = paired_bootstrap(average_precision, y, challenger, champion, **args, seed=4)
    assert (other.low, other.high) != (by_workers[1].low, by_workers[1].high)
