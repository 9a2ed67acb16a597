"""The evaluation report's plots as inline SVG (matplotlib object API, via ``plots.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tasks.core.reports.plots import LIMIT, _figure, _styled, _svg

PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3"]


def _color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def curves(
    title: str,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    labels: tuple[str, str],
    diagonal: bool = False,
) -> str:
    """One line per model (name -> (x, y)), e.g. precision against recall."""

    def draw() -> str:
        fig = _figure(5.0, 3.4, bottom=0.16)
        ax = fig.add_subplot()
        for i, (name, (x, y)) in enumerate(series.items()):
            ax.plot(x, y, color=_color(i), linewidth=1.4, label=name, drawstyle="steps-post"
                    if not diagonal else "default")  # fmt: skip
        if diagonal:
            ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=8)
        return _svg(fig)

    return _styled(draw)


def reliability(title: str, series: dict[str, dict[str, list[Any]]]) -> str:
    """Observed positive rate against mean predicted probability per bin, per model."""

    def draw() -> str:
        fig = _figure(5.0, 3.4, bottom=0.16)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1, label="perfect")
        top = 0.0
        for i, (name, bins) in enumerate(series.items()):
            ax.plot(bins["predicted"], bins["observed"], marker="o", markersize=3,
                    color=_color(i), label=name)  # fmt: skip
            top = max(top, *bins["predicted"], *bins["observed"], 0.05)
        ax.set_xlim(0, min(1.0, top * 1.1))
        ax.set_ylim(0, min(1.0, top * 1.1))
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed positive rate")
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=8)
        return _svg(fig)

    return _styled(draw)


def score_distributions(title: str, histogram: dict[str, Any]) -> str:
    """Share of positive and negative rows per score bin (log scale: rare positives show)."""

    def draw() -> str:
        from matplotlib.ticker import FuncFormatter

        fig = _figure(5.0, 3.0, bottom=0.18)
        ax = fig.add_subplot()
        edges = np.asarray(histogram["edges"], dtype=float)
        for i, name in enumerate(("negative", "positive")):
            shares = np.asarray(histogram[name], dtype=float)
            rows = histogram.get(f"{name}_rows", "?")
            ax.stairs(shares, edges, fill=True, alpha=0.5, color=_color(i),
                      label=f"label {name} ({rows} rows)")  # fmt: skip
        ax.set_yscale("symlog", linthresh=1e-3)
        # plain numbers: the default 10^x labels go through mathtext, half the plot's time
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        ax.set_xlabel("score")
        ax.set_ylabel("share of the label's rows")
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=8)
        return _svg(fig)

    return _styled(draw)


def horizontal_bars(title: str, names: Sequence[str], values: Sequence[float]) -> str:
    """One bar per name, largest at the top (feature importance)."""

    def draw() -> str:
        height = 0.28 * len(names) + 1.0
        fig = _figure(6.0, height, left=0.3, bottom=0.55 / height)
        ax = fig.add_subplot()
        pos = np.arange(len(names))
        ax.barh(pos, values, color=_color(0))
        ax.set_yticks(pos, list(names))
        ax.invert_yaxis()
        ax.set_title(title)
        return _svg(fig)

    return _styled(draw)


def grouped_bars(
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    ylabel: str,
) -> str:
    """Side-by-side bars per group, one colour per model (e.g. NDCG@10 by user group)."""

    def draw() -> str:
        fig = _figure(6.0, 3.0, bottom=0.3)
        ax = fig.add_subplot()
        pos = np.arange(len(groups))
        width = 0.8 / max(len(series), 1)
        for i, (name, values) in enumerate(series.items()):
            vals = np.array([np.nan if v is None else v for v in values], dtype=float)
            ax.bar(pos - 0.4 + width * (i + 0.5), vals, width, color=_color(i), label=name)
        ax.set_xticks(pos, list(groups), rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=8)
        return _svg(fig)

    return _styled(draw)


def over_versions(
    title: str, versions: Sequence[str], values: Sequence[float | None], current: str
) -> str:
    """The primary metric of every registered version, the current one marked."""

    def draw() -> str:
        fig = _figure(6.0, 2.8)
        ax = fig.add_subplot()
        pos = np.arange(len(versions))
        vals = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(pos, vals, marker="o", color=_color(0))
        if current in versions:
            i = list(versions).index(current)
            ax.scatter([i], [vals[i]], s=80, facecolors="none", edgecolors=LIMIT, zorder=3,
                       label=f"this version ({current})")  # fmt: skip
            ax.legend(frameon=False, fontsize=8)
        ax.set_xticks(pos, list(versions), rotation=30, ha="right")
        ax.set_title(title)
        return _svg(fig)

    return _styled(draw)
