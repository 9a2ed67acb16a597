"""The logistic-regression baseline of a binary model (pure).

Fit on the challenger's own training window and encoded features, so the gate can ask
whether boosting adds anything over a linear model on the same inputs. A scikit-learn
pipeline: numeric inputs imputed (median, plus a missing-value indicator) and
standardised; categorical inputs (the encoding's integer codes, unseen values NaN)
imputed with their own "missing" level and one-hot encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.core.sampling import sample_positions
from tasks.core.train.booster import Matrix
from tasks.core.train.features import Encoding

NAME = "logistic_regression"
MAX_ROWS = 50_000  # training rows the baseline is fit on (a seeded sample when more): < 1 s
MISSING = -1.0  # the categorical level of a missing or unseen value


@dataclass(frozen=True)
class LinearBaseline:
    """A fitted pipeline and the rows it was fit on (``rows`` of ``window_rows``)."""

    pipeline: Any
    rows: int
    window_rows: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of an encoded matrix."""
        return np.asarray(self.pipeline.predict_proba(x)[:, 1], dtype=float)

    def describe(self) -> str:
        sampled = "" if self.rows == self.window_rows else f" (seeded sample of {self.window_rows})"
        return (
            "logistic regression (median imputation, standardised numerics, one-hot"
            f" categoricals) fit on {self.rows} training rows{sampled}"
        )


def fit_linear_baseline(
    train: Matrix,
    encoding: Encoding,
    seed: int,
    max_rows: int = MAX_ROWS,
    window_rows: int | None = None,
) -> LinearBaseline:
    """Fit the baseline on the training window (at most ``max_rows`` rows, seeded).

    ``window_rows``: the window's size when ``train`` is already a sample of it (the
    training rows of a model prepared on a Dask cluster stay on its workers)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = list(range(len(encoding.numeric)))
    categorical = encoding.categorical_indices
    steps = []
    if numeric:
        scaled = Pipeline(
            [("impute", SimpleImputer(strategy="median", add_indicator=True,
                                      keep_empty_features=True)),
             ("scale", StandardScaler())]
        )  # fmt: skip
        steps.append(("numeric", scaled, numeric))
    if categorical:
        one_hot = Pipeline(
            [("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
             ("one_hot", OneHotEncoder(handle_unknown="ignore"))]
        )  # fmt: skip
        steps.append(("categorical", one_hot, categorical))
    model = Pipeline(
        [("features", ColumnTransformer(steps)),
         ("model", LogisticRegression(max_iter=1000, random_state=seed))]
    )  # fmt: skip
    keep = sample_positions(len(train.y), max_rows, seed)
    model.fit(train.x[keep], train.y[keep].astype(int))
    return LinearBaseline(model, len(keep), window_rows or len(train.y))
