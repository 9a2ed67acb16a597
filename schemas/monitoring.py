"""The monitoring policy of a model spec (``monitoring:``): what drift and degradation mean.

Every field has a default, so a spec without the section is watched with the defaults.
Distance statistics (PSI, Wasserstein, Jensen-Shannon) flag drift when the value reaches
the threshold; test statistics (Kolmogorov-Smirnov, chi-squared) when the p-value falls
below it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from schemas.contracts import Frozen


class Statistic(StrEnum):
    """Drift statistics: how a column's recent values are compared with the reference."""

    PSI = "psi"  # population stability index over reference-quantile bins (or categories)
    WASSERSTEIN = "wasserstein"  # earth mover's distance, in reference standard deviations
    JENSEN_SHANNON = "jensenshannon"  # Jensen-Shannon distance of the binned distributions
    KS = "ks"  # two-sample Kolmogorov-Smirnov test (p-value)
    CHI_SQUARED = "chisquare"  # chi-squared test of category frequencies (p-value)


P_VALUE_STATISTICS = frozenset({Statistic.KS, Statistic.CHI_SQUARED})
NUMERIC_STATISTICS = frozenset(Statistic) - {Statistic.CHI_SQUARED}
CATEGORICAL_STATISTICS = frozenset({Statistic.PSI, Statistic.JENSEN_SHANNON, Statistic.CHI_SQUARED})


class DriftTest(Frozen):
    """One statistic and the threshold at which a column counts as drifted."""

    statistic: Statistic = Field(description="psi, wasserstein, jensenshannon, ks or chisquare.")
    threshold: float = Field(
        gt=0,
        description="Distances: drifted when the value is at least this. Tests (ks,"
        " chisquare): drifted when the p-value is below this.",
    )

    def drifted(self, value: float) -> bool:
        """Whether ``value`` of this statistic means drift."""
        if self.statistic in P_VALUE_STATISTICS:
            return value < self.threshold
        return value >= self.threshold


class Monitoring(Frozen):
    """How the champion is watched after promotion (``retrain monitor``, ``monitor-model``)."""

    features: list[str] | None = Field(
        default=None, description="Columns to watch (default: every model input)."
    )
    watch_score: bool = Field(default=True, description="Also watch the score (prediction drift).")
    numeric: DriftTest = Field(
        default=DriftTest(statistic=Statistic.JENSEN_SHANNON, threshold=0.1),
        description="Statistic for numeric columns and the score (default Jensen-Shannon"
        " distance >= 0.1 over the reference's deciles; PSI >= 0.2 is the classic"
        " alternative, less sensitive).",
    )
    categorical: DriftTest = Field(
        default=DriftTest(statistic=Statistic.JENSEN_SHANNON, threshold=0.1),
        description="Statistic for categorical columns (default Jensen-Shannon >= 0.1).",
    )
    min_rows: int = Field(
        default=500, ge=10, description="Fewest non-null values on each side to test a column."
    )
    drift_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of watched columns (the score included) that must drift for the"
        " data to count as drifted.",
    )
    window_days: float | None = Field(
        default=None,
        gt=0,
        description="Compare only the newest this many days (default: everything newer"
        " than the champion's test window).",
    )
    sample_rows: int = Field(
        default=50_000,
        ge=1_000,
        description="Rows of each side the drift statistics use (a seeded sample when more).",
    )
    reference_rows: int = Field(
        default=5_000,
        ge=500,
        description="Rows of the holdout each trained version keeps as its drift reference.",
    )
    performance_floor: float | None = Field(
        default=None,
        description="Matured-label primary metric below which the champion is degraded"
        " (default: the policy's floor for that metric, if any).",
    )
    max_relative_drop: float = Field(
        default=0.15,
        ge=0,
        lt=1,
        description="Degraded when the matured-label metric falls this share below the"
        " champion's own holdout metric.",
    )
    min_matured_rows: int = Field(
        default=300, ge=10, description="Fewest rows (ranking: users) with matured labels."
    )
    max_matured_rows: int = Field(
        default=100_000,
        ge=1_000,
        description="Matured rows (ranking: users) the metric and its bootstrap interval use:"
        " a seeded sample when more (the interval then reflects a sample of this size).",
    )
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Of the matured-label metric's interval."
    )
    bootstrap_resamples: int = Field(default=500, ge=100, le=20_000)
    cooldown_days: float = Field(
        default=1.0,
        ge=0,
        description="Days of data between two drift-triggered retrainings (the data's clock).",
    )
    on_degradation: Literal["retrain", "rollback", "alert"] = Field(
        default="retrain",
        description="retrain; rollback (to the previous champion when it scores"
        " significantly better on the same matured rows, else retrain); or alert only.",
    )

    @model_validator(mode="after")
    def _statistics_fit_kinds(self) -> Monitoring:
        if self.numeric.statistic not in NUMERIC_STATISTICS:
            raise ValueError(f"numeric columns cannot use {self.numeric.statistic}")
        if self.categorical.statistic not in CATEGORICAL_STATISTICS:
            raise ValueError(f"categorical columns cannot use {self.categorical.statistic}")
        return self
