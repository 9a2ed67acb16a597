"""Do a spec's windows fit the data? Rows and query groups per window, and windows that do.

What ``retrain spec check MODEL`` shows (pure). A ranking window's query groups are
the users active in it who have history before it starts (the others cannot be
ranked); a binary window's are its rows. ``split.min_rows`` applies per split, the
stacked training label windows of a ranker counting together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from schemas.specs import ModelSpec, Task
from tasks.core.train.splits import compute_windows

LENGTHS = (1, 2, 3, 7, 14, 21, 28, 42, 56, 84, 112)  # candidate window lengths in days
MAX_LABEL_WINDOWS = 8  # stacked training label windows a suggestion may ask for


@dataclass(frozen=True)
class WindowCount:
    """One window of the spec on the data: its bounds, rows and query groups."""

    split: str  # train, validation or test
    start: str
    end: str
    rows: int
    query_groups: int


def count_windows(
    events: pd.DataFrame, spec: ModelSpec, as_of: pd.Timestamp | None = None
) -> list[WindowCount]:
    """Every window the spec places on ``events`` (newest event time as the clock)."""
    w = compute_windows(as_of if as_of is not None else events["event_time"].max(), spec.split)
    end = w.test_end + pd.Timedelta(microseconds=1)
    spans = [("test", w.test_start, end), ("validation", w.val_start, w.test_start)]
    stacked = spec.ranking.label_windows if spec.ranking else 1
    day = pd.Timedelta(days=spec.split.training_window_days)
    spans += [("train", w.val_start - (j + 1) * day, w.val_start - j * day) for j in range(stacked)]
    times = events["event_time"]
    first = None
    if spec.task == Task.RANKING and spec.group_by:
        first = times.groupby(events[spec.group_by].astype(str)).min()
    out = []
    for split, start, stop in spans:
        inside = events[(times >= start) & (times < stop)]
        groups = len(inside)
        if first is not None and spec.group_by:
            users = inside[spec.group_by].astype(str).unique()
            groups = int((first.reindex(users) < start).sum())
        out.append(WindowCount(split, start.isoformat(), stop.isoformat(), len(inside), groups))
    return out


def split_sizes(counts: list[WindowCount]) -> dict[str, int]:
    """Query groups per split (stacked training windows summed)."""
    sizes: dict[str, int] = {}
    for c in counts:
        sizes[c.split] = sizes.get(c.split, 0) + c.query_groups
    return sizes


def check_spec_windows(events: pd.DataFrame, spec: ModelSpec) -> dict[str, Any]:
    """The spec's windows with their sizes, whether ``min_rows`` holds, and a suggestion.

    The suggestion is the shortest equal train/validation/test length (keeping the
    label-maturity delay) whose every split holds ``min_rows``, with the spec's stacked
    label windows or, for a ranker whose training split alone falls short, more of them
    (``ranking.label_windows``: more query groups from the same window length); when none
    does, the length that does best and the ``min_rows`` it would need.
    """
    counts = count_windows(events, spec)
    sizes = split_sizes(counts)
    fits = all(n >= spec.split.min_rows for n in sizes.values())
    return {
        "min_rows": spec.split.min_rows,
        "windows": [asdict(c) for c in counts],
        "query_groups": sizes,
        "fits": fits,
        "suggestion": None if fits else suggest_windows(events, spec),
    }


def suggest_windows(events: pd.DataFrame, spec: ModelSpec) -> dict[str, Any]:
    """Spec fields (dotted names) that make every split hold enough query groups."""
    span = (events["event_time"].max() - events["event_time"].min()) / pd.Timedelta(days=1)
    stacked = spec.ranking.label_windows if spec.ranking else 1
    best: tuple[int, int] | None = None
    for length in LENGTHS:
        if length * (2 + stacked) + spec.split.label_maturity_days > span:
            break  # no history left before the earliest training window
        trial = _with_length(spec, length)
        sizes = split_sizes(count_windows(events, trial))
        smallest = min(sizes.values())
        if smallest >= spec.split.min_rows:
            return {**_fields(length), "why": f"every split holds at least {smallest} groups"}
        stacked_more = _more_label_windows(events, trial, sizes, span)
        if stacked_more is not None:
            return {**_fields(length), **stacked_more}
        if best is None or smallest > best[0]:
            best = (smallest, length)
    if best is None or best[0] == 0:
        return {"why": f"the data spans {span:.0f} days: too short for these windows"}
    smallest, length = best
    return {
        **_fields(length),
        "split.min_rows": smallest,
        "why": f"no length reaches min_rows {spec.split.min_rows}; {smallest} groups at best",
    }


def _more_label_windows(
    events: pd.DataFrame, spec: ModelSpec, sizes: dict[str, int], span: float
) -> dict[str, Any] | None:
    """``ranking.label_windows`` that lift a ranker's training split to ``min_rows`` when
    validation and test already hold it (and the data reaches back far enough)."""
    need = spec.split.min_rows
    if spec.ranking is None or any(n < need for s, n in sizes.items() if s != "train"):
        return None
    length = spec.split.training_window_days
    for windows in range(spec.ranking.label_windows + 1, MAX_LABEL_WINDOWS + 1):
        if length * (2 + windows) + spec.split.label_maturity_days > span:
            return None
        ranking = spec.ranking.model_copy(update={"label_windows": windows})
        trial = spec.model_copy(update={"ranking": ranking})
        train = split_sizes(count_windows(events, trial))["train"]
        if train >= need:
            smallest = min(train, *(n for s, n in sizes.items() if s != "train"))
            why = f"every split holds at least {smallest} groups, {windows} stacked label windows"
            return {"ranking.label_windows": windows, "why": why}
    return None


def _fields(length: float) -> dict[str, Any]:
    return {
        "split.training_window_days": length,
        "split.validation_days": length,
        "split.test_days": length,
    }


def _with_length(spec: ModelSpec, length: float) -> ModelSpec:
    split = spec.split.model_copy(
        update={"training_window_days": length, "validation_days": length, "test_days": length}
    )
    return spec.model_copy(update={"split": split})


def describe(report: dict[str, Any]) -> str:
    """The check for people: one line per window, the verdict and the suggestion."""
    lines = [f"{'split':<11} {'start':<26} {'rows':>8} {'query groups':>13}"]
    for w in report["windows"]:
        lines.append(f"{w['split']:<11} {w['start']:<26} {w['rows']:>8} {w['query_groups']:>13}")
    sizes = ", ".join(f"{k} {v}" for k, v in report["query_groups"].items())
    verdict = "holds" if report["fits"] else "does NOT hold"
    lines.append(f"split.min_rows {report['min_rows']} {verdict} (query groups: {sizes})")
    suggestion = report.get("suggestion")
    if suggestion:
        fields = ", ".join(f"{k}: {v:g}" for k, v in suggestion.items() if k != "why")
        lines.append(f"suggested: {fields or '-'} ({suggestion['why']})")
    return "\n".join(lines)
