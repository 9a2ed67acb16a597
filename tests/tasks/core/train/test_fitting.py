"""Do a spec's windows fit the data: counts per window and the suggested windows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from schemas.specs import ModelSpec, load_model_spec
from tasks.core.train.fitting import (
    LENGTHS,
    check_spec_windows,
    count_windows,
    describe,
    split_sizes,
)
from tasks.samples.recs_sparse import SPARSE_SPEC, generate_sparse_interactions, merge_spec

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    weeks = generate_sparse_interactions(30, dt.date(2026, 1, 5), 2, ratings_per_week=1500)
    return pd.concat(weeks.values(), ignore_index=True).sort_values("event_time")


def _recs(overrides: dict) -> ModelSpec:  # type: ignore[type-arg]
    spec = load_model_spec("recs")
    return spec.model_validate(merge_spec(spec.model_dump(), overrides))


def test_query_groups_are_active_users_with_history() -> None:
    t = pd.Timestamp("2026-01-01", tz="UTC")
    events = pd.DataFrame(
        {
            "user_id": ["a", "b", "a", "c", "b", "a"],
            "event_time": [t, t, t + pd.Timedelta(days=3), t + pd.Timedelta(days=3),
                           t + pd.Timedelta(days=5), t + pd.Timedelta(days=5)],
        }
    )  # fmt: skip
    spec = _recs({"split": {"training_window_days": 2, "validation_days": 2, "test_days": 2,
                            "label_maturity_days": 0}})  # fmt: skip
    counts = {c.split: c for c in count_windows(events, spec)}
    assert (counts["test"].rows, counts["test"].query_groups) == (4, 2)  # a, b; c is new
    assert (counts["validation"].rows, counts["validation"].query_groups) == (0, 0)
    assert (counts["train"].rows, counts["train"].query_groups) == (2, 0)  # no history yet


def test_thin_windows_get_the_shortest_windows_that_fit(events: pd.DataFrame) -> None:
    one_day = {"training_window_days": 1, "validation_days": 1, "test_days": 1}
    spec = _recs({"split": {"min_rows": 70, **one_day}})
    report = check_spec_windows(events, spec)
    suggestion = report["suggestion"]
    length = suggestion["split.test_days"]
    assert suggestion["split.training_window_days"] == suggestion["split.validation_days"] == length
    assert "split.min_rows" not in suggestion

    def smallest(days: int) -> int:
        trial = {"training_window_days": days, "validation_days": days, "test_days": days}
        return min(split_sizes(count_windows(events, _recs({"split": trial}))).values())

    assert smallest(length) >= 70
    assert all(smallest(d) < 70 for d in LENGTHS if d < length)
    assert min(report["query_groups"].values()) < 70 and report["fits"] is False
    text = describe(report)
    assert "split.min_rows 70 does NOT hold" in text and f"split.test_days: {length:g}" in text


def test_sparse_spec_fits_and_counts_stacked_windows_together(events: pd.DataFrame) -> None:
    report = check_spec_windows(events, _recs(SPARSE_SPEC))
    assert report["fits"] is True and report["suggestion"] is None
    train = [w for w in report["windows"] if w["split"] == "train"]
    assert len(train) == 3
    assert report["query_groups"]["train"] == sum(w["query_groups"] for w in train)


def test_unreachable_min_rows_suggests_what_the_data_allows(events: pd.DataFrame) -> None:
    report = check_spec_windows(events, _recs({"split": {"min_rows": 100_000}}))
    suggestion = report["suggestion"]
    assert 0 < suggestion["split.min_rows"] < 100_000
    assert "no length reaches min_rows 100000" in suggestion["why"]


def test_a_short_training_split_alone_gets_more_stacked_label_windows() -> None:
    """Weekly data: every 7-day window holds one day of events; the newest two days have 40
    active users each, each earlier day 15 others. 7-day windows hold validation and test
    at min_rows 30, but one training window holds 15 groups: two stacked ones hold 30."""
    t = pd.Timestamp("2026-01-01T12:00:00", tz="UTC")
    users = [f"u{i}" for i in range(200)]
    rows = [(u, t) for u in users]  # everyone has history from the first day
    for week, day in enumerate(range(63, 0, -7)):
        active = users[:40] if week < 2 else users[40 + 15 * (week - 2) : 55 + 15 * (week - 2)]
        rows += [(u, t + pd.Timedelta(days=day)) for u in active]
    rows.append((users[0], t + pd.Timedelta(days=63.5)))  # the clock: each window holds one day
    events = pd.DataFrame(rows, columns=["user_id", "event_time"]).sort_values("event_time")
    spec = _recs(
        {"split": {"min_rows": 30, "label_maturity_days": 0}, "ranking": {"label_windows": 1}}
    )

    suggestion = check_spec_windows(events, spec)["suggestion"]

    assert suggestion == {
        "split.training_window_days": 7, "split.validation_days": 7, "split.test_days": 7,
        "ranking.label_windows": 2,
        "why": "every split holds at least 30 groups, 2 stacked label windows",
    }  # fmt: skip
    assert "ranking.label_windows: 2" in describe(check_spec_windows(events, spec))
