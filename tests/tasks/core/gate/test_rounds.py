"""The early-stopping round chosen after the fact (models trained on Dask) is the round
LightGBM's own early stopping picks on the same validation data."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from schemas.errors import SpecError
from tasks.core.gate.rounds import early_stopped, metric_of
from tasks.core.train.booster import Matrix

pytestmark = pytest.mark.unit

PARAMS = {"objective": "binary", "seed": 3, "deterministic": True, "num_threads": 1,
          "verbose": -1, "learning_rate": 0.3, "num_leaves": 15}  # fmt: skip


def _data(seed: int, n: int) -> Matrix:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4))
    y = (x[:, 0] + 0.6 * rng.random(n) > 1.0).astype(float)
    return Matrix(x, y)


@pytest.mark.parametrize("block", [3, 32])  # the rounds' leaves predicted a block at a time
@pytest.mark.parametrize("metric", ["average_precision", "auc", "binary_logloss"])
def test_the_round_is_the_one_lightgbm_early_stopping_picks(
    metric: str, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.core.gate import rounds

    monkeypatch.setattr(rounds, "BLOCK", block)
    train, valid = _data(0, 3000), _data(1, 1500)
    params, patience = {**PARAMS, "metric": metric}, 5
    dtrain = lgb.Dataset(train.x, train.y)
    dvalid = lgb.Dataset(valid.x, valid.y, reference=dtrain)
    stopped = lgb.train(params, dtrain, 200, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(patience, verbose=False)])  # fmt: skip
    every = lgb.train(params, lgb.Dataset(train.x, train.y), 200)

    progress = early_stopped(every, valid, params, patience)

    assert progress.best_round == stopped.best_iteration
    assert progress.best_round > 3  # past the first block of three
    assert progress.rounds == progress.best_round + patience  # it stopped as LightGBM did
    assert progress.best_score == pytest.approx(stopped.best_score["valid_0"][metric], rel=1e-6)


def test_a_metric_it_cannot_compute_is_named_with_the_field() -> None:
    assert metric_of({"metric": ["auc", "binary_logloss"]}) == "auc"
    assert metric_of({}) == "average_precision"
    with pytest.raises(SpecError, match=r"lightgbm.params.metric: 'map'.*average_precision"):
        metric_of({"metric": "map"})


def test_its_average_precision_is_the_gates_on_tied_scores() -> None:
    from tasks.core.gate.metrics import average_precision
    from tasks.core.gate.rounds import _average_precision as fast

    rng = np.random.default_rng(5)
    for _ in range(20):
        y = (rng.random(2000) < 0.1).astype(float)
        score = np.round(rng.random(2000) + 0.3 * y, 2)  # many ties
        assert fast(y, score) == pytest.approx(average_precision(y, score), rel=1e-12)
    assert np.isnan(fast(np.zeros(5), np.arange(5.0)))


def test_the_ranking_round_is_the_one_lightgbm_picks_by_ndcg() -> None:
    rng = np.random.default_rng(2)

    def ranking(seed: int, groups: int) -> Matrix:
        sizes = np.random.default_rng(seed).integers(5, 30, groups)
        x = rng.random((int(sizes.sum()), 4))
        y = np.clip(np.round(3 * x[:, 0] + rng.normal(0, 0.7, len(x))), 0, 3)
        return Matrix(x, y, sizes)

    train, valid = ranking(0, 300), ranking(1, 150)
    params = {**PARAMS, "objective": "lambdarank", "metric": "ndcg", "eval_at": [10]}
    dtrain = lgb.Dataset(train.x, train.y, group=train.group_sizes)
    dvalid = lgb.Dataset(valid.x, valid.y, group=valid.group_sizes, reference=dtrain)
    stopped = lgb.train(params, dtrain, 200, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(5, verbose=False)])  # fmt: skip
    every = lgb.train(params, lgb.Dataset(train.x, train.y, group=train.group_sizes), 200)

    progress = early_stopped(every, valid, params, 5)

    assert progress.best_round == stopped.best_iteration
    assert progress.best_score == pytest.approx(stopped.best_score["valid_0"]["ndcg@10"])
