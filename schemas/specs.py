"""Model specs and promotion policies (DESIGN sections 3 and 6)."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.contracts import Frozen
from schemas.errors import SpecError
from schemas.loader import find_spec, load_yaml_model
from schemas.monitoring import Monitoring

BINARY_METRICS = ("pr_auc", "roc_auc", "log_loss", "brier")
RANKING_METRICS = ("ndcg@10", "map@10", "recall@10", "coverage@10")
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


class Task(StrEnum):
    BINARY = "binary"
    RANKING = "ranking"


class GateMode(StrEnum):
    NON_INFERIORITY = "non_inferiority"
    SUPERIORITY = "superiority"


class Features(Frozen):
    """Model inputs: raw columns and/or a named feature builder."""

    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    builder: str | None = Field(
        default=None,
        description="Named builder adding derived features (see tasks/core/features.py).",
    )


class Candidates(Frozen):
    """Candidate generation for ranking: which items each user's list is chosen from.

    A catalogue of at most ``whole_catalog_max_items`` items is scored whole (every
    item the user has not consumed). A larger one is cut to the union of three
    sources: recent-positive popularity, recency-weighted co-visitation and the
    user's genre affinity.
    """

    generator: Literal["union"] = "union"
    whole_catalog_max_items: int = Field(
        default=5000, ge=0, description="Score the whole catalogue up to this many items."
    )
    popular: int = Field(
        default=50, ge=0, le=5000, description="Items most often rated relevant recently."
    )
    covisited: int = Field(default=50, ge=0, le=5000, description="Items co-consumed with history.")
    genre: int = Field(default=50, ge=0, le=5000, description="Items closest to the user's genres.")
    popularity_days: float = Field(default=7, gt=0, description="Recency window for popularity.")
    covisit_half_life_days: float = Field(
        default=28, gt=0, description="Age at which a co-visit counts half."
    )


class Negatives(Frozen):
    """Which non-relevant candidates training keeps per query group (evaluation keeps all)."""

    per_user: int = Field(
        default=100, ge=0, description="Negatives sampled per user and window (0: keep all)."
    )
    popularity_exponent: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Sampling weight (item ratings + 1) ** exponent: 0 uniform, 1 by popularity.",
    )


class Ranking(Frozen):
    """Ranking task settings: who queries, what is ranked, what counts as relevant."""

    item_column: str = "item_id"
    rating_column: str = "rating"
    relevant_rating: float = Field(
        default=4.0, description="Interactions rated at least this get gain 2; others gain 1."
    )
    items_dataset: str = "items"
    users_dataset: str = "users"
    candidates: Candidates = Candidates()
    negatives: Negatives = Negatives()
    label_windows: int = Field(
        default=1,
        ge=1,
        le=26,
        description="Training label windows stacked back from the validation window.",
    )


class Split(Frozen):
    """Time-based split, measured on the data's own clock (latest event time)."""

    training_window_days: float = Field(default=60, gt=0)
    validation_days: float = Field(default=2, gt=0)
    test_days: float = Field(default=2, gt=0)
    label_maturity_days: float = Field(
        default=1, ge=0, description="Newest days left out: their labels are not final yet."
    )
    min_rows: int = Field(
        default=500, ge=1, description="Minimum rows in each of train/validation/test."
    )


class LightGBM(Frozen):
    """Booster parameters; determinism settings are added by the trainer."""

    params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(default=500, ge=1, le=100_000)
    early_stopping_rounds: int = Field(default=30, ge=1)
    checkpoint_every: int = Field(
        default=25, ge=1, description="Save a resumable checkpoint every this many rounds."
    )

    @model_validator(mode="after")
    def _no_reserved(self) -> LightGBM:
        reserved = {"seed", "deterministic", "num_threads", "objective", "verbose"} & set(
            self.params
        )
        if reserved:
            raise ValueError(f"set by the system, not the spec: {sorted(reserved)}")
        return self


class SliceGuard(Frozen):
    columns: list[str] = Field(min_length=1)
    min_size: int = Field(default=200, ge=1)
    max_regression: float = Field(default=0.05, ge=0)


class FairnessGuard(Frozen):
    column: str
    metric: str = Field(
        default="roc_auc", description="Metric compared across slices (ROC-AUC ignores base rates)."
    )
    max_gap: float = Field(ge=0, description="Largest allowed gap of the metric between slices.")
    min_size: int = Field(default=200, ge=1)


class RobustnessGuard(Frozen):
    noise: float = Field(
        default=0.01, gt=0, le=0.5, description="Relative noise on numeric inputs."
    )
    max_mean_shift: float = Field(
        default=0.02, gt=0, description="Largest mean absolute score change."
    )


class Guards(Frozen):
    slices: SliceGuard | None = None
    fairness: FairnessGuard | None = None
    max_calibration_error: float | None = Field(default=None, gt=0)
    max_latency_p99_ms: float | None = Field(default=None, gt=0)
    max_model_bytes: int | None = Field(default=None, gt=0)
    robustness: RobustnessGuard | None = None


class BaselineMode(StrEnum):
    REPORT = "report"
    MUST_BEAT = "must_beat"


class BaselinePolicy(Frozen):
    """What the gate does with the baselines (logistic regression; popularity for rankers)."""

    mode: BaselineMode = Field(
        default=BaselineMode.REPORT,
        description="report: measure the baselines and name the strongest in the card;"
        " must_beat: also reject a challenger whose paired interval against the strongest"
        " baseline does not clear the margin.",
    )
    margin: float = Field(
        default=0.0,
        ge=0,
        description="must_beat: the lower confidence bound of challenger - strongest baseline"
        " on the primary metric must be above this.",
    )


class Approval(Frozen):
    required: bool = False
    timeout_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class Policy(Frozen):
    """How a challenger earns promotion."""

    primary_metric: str
    mode: GateMode = GateMode.NON_INFERIORITY
    margin: float = Field(default=0.0, ge=0)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    bootstrap_resamples: int = Field(default=1000, ge=100, le=20_000)
    floors: dict[str, float] = Field(default_factory=dict)
    guards: Guards = Guards()
    baseline: BaselinePolicy = BaselinePolicy()
    approval: Approval = Approval()
    monthly_budget_usd: float | None = Field(
        default=None,
        gt=0,
        description="Refuse to train once this month's training cost reaches it.",
    )


class ModelSpec(Frozen):
    """Everything needed to retrain, evaluate and gate one model."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    task: Task
    description: str = ""
    datasets: list[str] = Field(min_length=1, description="First one holds the labelled events.")
    target: str
    group_by: str | None = Field(default=None, description="Query column (ranking only).")
    ranking: Ranking | None = None
    features: Features
    split: Split = Split()
    lightgbm: LightGBM = LightGBM()
    policy: Policy
    monitoring: Monitoring = Monitoring()
    seed: int = 42

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        metrics = BINARY_METRICS if self.task == Task.BINARY else RANKING_METRICS
        names = [self.policy.primary_metric, *self.policy.floors]
        if self.policy.guards.fairness is not None:
            names.append(self.policy.guards.fairness.metric)
        unknown = [m for m in names if m not in metrics]
        if unknown:
            raise ValueError(
                f"unknown metric(s) {unknown} for task {self.task}: use {list(metrics)}"
            )
        if self.task == Task.RANKING:
            if not self.group_by or self.ranking is None:
                raise ValueError("ranking models need group_by and a ranking section")
            wanted = {self.ranking.items_dataset, self.ranking.users_dataset}
            if not wanted <= set(self.datasets[1:]):
                raise ValueError(
                    f"ranking needs datasets {sorted(wanted)} after the events dataset"
                )
        if not (self.features.numeric or self.features.categorical or self.features.builder):
            raise ValueError("features: declare columns or a builder")
        return self

    def policy_slice_columns(self) -> list[str]:
        """Columns the slice and fairness guards look at, in order, without repeats."""
        guards = self.policy.guards
        cols = [*(guards.slices.columns if guards.slices else [])]
        if guards.fairness is not None:
            cols.append(guards.fairness.column)
        return list(dict.fromkeys(cols))

    def fingerprint(self) -> str:
        """sha256 of the validated spec: comments and key order do not matter."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_model_spec(name: str, specs_dir: Path | None = None) -> ModelSpec:
    """Load and validate ``models/<name>.yaml``.

    Raises:
        SpecError: unknown model, invalid YAML or a bad field (file and field named).
    """
    path = find_spec("models", name, specs_dir)
    spec = load_yaml_model(path, ModelSpec)
    if spec.name != name:
        raise SpecError(f"{path}: field 'name': {spec.name!r} does not match the file name")
    return spec


def metric_direction(metric: str) -> Literal[1, -1]:
    """+1 when higher is better, -1 when lower is better."""
    return -1 if metric in LOWER_IS_BETTER else 1
