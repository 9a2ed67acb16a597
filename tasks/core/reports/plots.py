"""Plots as inline SVG strings, drawn with matplotlib's object API (no pyplot, no GUI)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tasks.core.monitor.drift import bin_edges

REFERENCE, CURRENT, LIMIT = "#4c72b0", "#dd8452", "#c44e52"
STYLE: dict[Any, Any] = {
    "svg.hashsalt": "retrain",  # stable element ids: the same data gives the same SVG
    "svg.fonttype": "none",  # text stays text (readable, searchable)
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(
    width: float = 5.0, height: float = 2.6, left: float = 0.14, bottom: float = 0.3
) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    # fixed margins: a layout solver would double the time of each plot
    fig.subplots_adjust(left=left, right=0.98, top=0.88, bottom=bottom)
    return fig


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: the SVG is inlined in HTML


def _styled(draw: Any) -> str:
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        return draw()


def distributions(
    title: str, reference: np.ndarray, current: np.ndarray, kind: str, top: int = 12
) -> str:
    """Reference and recent shares of one column, over the bins its drift statistic uses:
    the reference's deciles (numeric; heavy tails stay readable) or the ``top`` most
    frequent categories (categorical)."""
    if kind == "numeric":
        names, ref_share, cur_share = _decile_shares(_numbers(reference), _numbers(current))
    else:
        names, ref_share, cur_share = _category_shares(_labels(reference), _labels(current), top)

    def draw() -> str:
        fig = _figure()
        ax = fig.add_subplot()
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, ref_share, 0.4, color=REFERENCE, label="reference")
        ax.bar(pos + 0.2, cur_share, 0.4, color=CURRENT, label="recent")
        ax.set_xticks(pos, names, rotation=30, ha="right")
        ax.set_ylabel("share of rows")
        ax.set_title(title)
        ax.legend(frameon=False)
        return _svg(fig)

    return _styled(draw)


def _decile_shares(
    reference: np.ndarray, current: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Shares of both samples in the bins the drift statistic uses (``drift.bin_edges``)."""
    if not len(reference):
        return [], np.empty(0), np.empty(0)
    inner = bin_edges(reference)
    if not len(inner):
        labels = [f"{reference[0]:.3g}"]
    else:
        labels = [f"<{inner[0]:.3g}"]
        labels += [f"{a:.3g}-{b:.3g}" for a, b in itertools.pairwise(inner)]
        labels += [f">={inner[-1]:.3g}"]

    def shares(values: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(labels))
        return counts / max(len(values), 1)

    return labels, shares(reference), shares(current)


def _numbers(values: np.ndarray) -> np.ndarray:
    """The finite numbers among ``values`` (None, NaN and text dropped)."""
    floats = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    return floats[np.isfinite(floats)].to_numpy()


def _labels(values: np.ndarray) -> np.ndarray:
    """The non-null values as text."""
    return np.array([str(v) for v in values if not pd.isna(v)], dtype=object)


def _category_shares(
    reference: np.ndarray, current: np.ndarray, top: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    values, counts = np.unique(np.concatenate([reference, current]).astype(str), return_counts=True)
    names = [str(v) for v in values[np.argsort(-counts, kind="stable")][:top]]
    ref = np.array([np.mean(reference.astype(str) == n) if len(reference) else 0.0 for n in names])
    cur = np.array([np.mean(current.astype(str) == n) if len(current) else 0.0 for n in names])
    return names, ref, cur


def statistic_bars(
    title: str, names: Sequence[str], values: Sequence[float], thresholds: Sequence[float]
) -> str:
    """Each column's drift statistic as a bar, its threshold as a mark."""

    def draw() -> str:
        height = 0.3 * len(names) + 1.0
        fig = _figure(6.0, height, left=0.28, bottom=0.55 / height)
        ax = fig.add_subplot()
        pos = np.arange(len(names))
        ax.barh(pos, values, color=REFERENCE)
        ax.scatter(thresholds, pos, marker="|", s=300, color=LIMIT, label="threshold", zorder=3)
        ax.set_yticks(pos, list(names))
        ax.invert_yaxis()
        ax.set_title(title)
        ax.legend(frameon=False, loc="lower right")
        return _svg(fig)

    return _styled(draw)


def metric_over_time(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    limits: dict[str, float],
) -> str:
    """A metric run after run with its interval, and horizontal lines for its limits."""

    def draw() -> str:
        fig = _figure(6.0, 2.8)
        ax = fig.add_subplot()
        pos = np.arange(len(labels))
        val = np.array([np.nan if v is None else v for v in values], dtype=float)
        low = np.array([np.nan if v is None else v for v in lows], dtype=float)
        high = np.array([np.nan if v is None else v for v in highs], dtype=float)
        ax.fill_between(pos, low, high, color=REFERENCE, alpha=0.2, label="interval")
        ax.plot(pos, val, marker="o", color=REFERENCE, label="value")
        for name, limit in limits.items():
            ax.axhline(limit, color=LIMIT, linestyle="--", linewidth=1)
            ax.annotate(name, (0, limit), textcoords="offset points", xytext=(2, 3), color=LIMIT)
        ax.set_xticks(pos, list(labels), rotation=30, ha="right")
        ax.set_title(title)
        ax.legend(frameon=False)
        return _svg(fig)

    return _styled(draw)
