"""Drift statistics per column and dataset drift (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from schemas.monitoring import DriftTest, Monitoring, Statistic
from tasks.core.monitor.drift import bin_edges, binned_counts, compare, statistic, summarize

pytestmark = pytest.mark.unit
RNG = np.random.default_rng(11)
SAME_A, SAME_B = RNG.normal(0, 1, 4000), RNG.normal(0, 1, 4000)
SHIFTED = RNG.normal(0.8, 1, 4000)
CATS = np.array(["a", "b", "c"], dtype=object)


def policy(numeric: str = "jensenshannon", threshold: float = 0.1, **kw: object) -> Monitoring:
    return Monitoring(numeric=DriftTest(statistic=numeric, threshold=threshold), **kw)


@pytest.mark.parametrize(
    ("name", "threshold"),
    [("psi", 0.2), ("wasserstein", 0.1), ("jensenshannon", 0.1), ("ks", 0.05)],
)
def test_each_numeric_statistic_separates_a_shift_from_noise(name: str, threshold: float) -> None:
    pol = policy(name, threshold)
    same = compare("x", "numeric", SAME_A, SAME_B, pol, 1)
    shifted = compare("x", "numeric", SAME_A, SHIFTED, pol, 1)

    assert (same.status, shifted.status) == ("tested", "tested")
    assert not same.drifted and shifted.drifted
    assert same.statistic == name and same.threshold == threshold


def test_categorical_statistics_see_a_new_category_and_shares_that_moved() -> None:
    ref = RNG.choice(CATS, 4000, p=[0.5, 0.3, 0.2])
    same = RNG.choice(CATS, 4000, p=[0.5, 0.3, 0.2])
    moved = RNG.choice(np.array(["a", "b", "c", "new"], dtype=object), 4000, p=[0.3] * 3 + [0.1])
    for stat, threshold in (("jensenshannon", 0.1), ("psi", 0.2), ("chisquare", 0.001)):
        pol = Monitoring(categorical=DriftTest(statistic=stat, threshold=threshold))
        assert not compare("c", "categorical", ref, same, pol, 1).drifted, stat
        assert compare("c", "categorical", ref, moved, pol, 1).drifted, stat


def test_jensen_shannon_is_scipys_distance_over_the_reference_bins() -> None:
    test = DriftTest(statistic=Statistic.JENSEN_SHANNON, threshold=0.1)
    p, q = binned_counts("numeric", SAME_A, SHIFTED)
    expected = jensenshannon(np.maximum(p / p.sum(), 1e-4), np.maximum(q / q.sum(), 1e-4), base=2)
    assert statistic(test, "numeric", SAME_A, SHIFTED) == pytest.approx(expected, rel=1e-3)


def test_p_value_statistics_flag_drift_below_the_threshold() -> None:
    assert DriftTest(statistic="ks", threshold=0.05).drifted(0.01)
    assert not DriftTest(statistic="ks", threshold=0.05).drifted(0.2)
    assert DriftTest(statistic="psi", threshold=0.2).drifted(0.2)


def test_a_flag_column_is_binned_by_its_values_not_by_deciles() -> None:
    flags = (RNG.random(4000) < 0.05).astype(float)
    assert list(bin_edges(flags)) == [0.5]
    now = (RNG.random(4000) < 0.4).astype(float)
    assert compare("flag", "numeric", flags, now, policy(), 1).drifted


def test_a_missing_column_or_only_nulls_counts_as_drift_never_as_none() -> None:
    missing = compare("x", "numeric", SAME_A, None, policy(), 1)
    nulls = compare("x", "numeric", SAME_A, np.full(100, np.nan), policy(), 1)
    cat_nulls = compare("c", "categorical", CATS, np.array([None] * 5, dtype=object), policy(), 1)

    assert (missing.status, missing.drifted, missing.current_rows) == ("missing", True, 0)
    assert (nulls.status, nulls.drifted, nulls.current_null_share) == ("all_null", True, 1.0)
    assert (cat_nulls.status, cat_nulls.drifted) == ("all_null", True)


def test_too_few_values_is_insufficient_data_not_a_verdict() -> None:
    few = compare("x", "numeric", SAME_A, SAME_B[:50], policy(min_rows=500), 1)
    assert (few.status, few.value, few.drifted) == ("insufficient_data", None, False)


def test_nulls_are_left_out_and_counted() -> None:
    current = SAME_B.copy()
    current[:1000] = np.nan
    result = compare("x", "numeric", SAME_A, current, policy(), 1)
    assert result.current_rows == 3000
    assert result.current_null_share == pytest.approx(0.25)


def test_dataset_drift_is_a_share_of_the_tested_columns() -> None:
    pol = policy(drift_share=0.5)
    drifted = compare("a", "numeric", SAME_A, SHIFTED, pol, 1)
    calm = compare("b", "numeric", SAME_A, SAME_B, pol, 1)
    untested = compare("c", "numeric", SAME_A, SAME_B[:10], pol, 1)

    half = summarize([drifted, calm, untested], None, pol)
    assert (half.share, half.drift_detected, half.drifted_features) == (0.5, True, ["a"])
    assert summarize([calm], drifted, pol).drift_detected  # the score counts too
    nothing = summarize([untested], None, pol)
    assert (nothing.share, nothing.drift_detected) == (None, False)


def test_samples_are_seeded_so_a_rerun_gives_the_same_values() -> None:
    big = RNG.normal(0, 1, 20_000)
    pol = policy(sample_rows=1000)
    assert compare("x", "numeric", big, SHIFTED, pol, 3) == compare(
        "x", "numeric", big, SHIFTED, pol, 3
    )
