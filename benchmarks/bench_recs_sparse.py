"""The recommender on sparse, real-shaped data: candidate recall, NDCG@10 against the
recent-positive popularity baseline, and training time against the previous setup.

For each seed: 30 weekly files of the sparse generator profile (900 users, 1,600
items), the shipped ``recs`` spec with the windows that fit weekly data
(``tasks/samples/recs_sparse.py: SPARSE_SPEC``: 28-day windows, 4 stacked label
windows, the whole catalogue scored, near-uniform sampled negatives). Baselines are
scored on the same holdout users and candidates. "previous" is the setup before
issue 13 on the same rows: a cut candidate list (60 recently popular + 60 co-visited),
one label window, every negative kept. Training time = window building + fitting, the
fastest of ``--repeats`` runs of each setup, interleaved (robust to a busy machine).

Usage: .venv/bin/python benchmarks/bench_recs_sparse.py [--seeds 1 2 3] [--weeks 30]
       [--repeats 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--weeks", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        rows.append(run(seed, args.weeks, args.repeats))
        print(json.dumps(rows[-1]), flush=True)
    print(f"{'seed':>4} {'recall':>7} {'ndcg':>7} {'recent+':>8} {'ratio':>6} {'time ratio':>10}")
    for r in rows:
        print(
            f"{r['seed']:>4} {r['candidate_recall']:>7.3f} {r['ndcg@10']:>7.4f}"
            f" {r['baselines']['popularity_recent_positive']:>8.4f}"
            f" {r['ratio_vs_recent_positive']:>6.2f} {r['time_ratio_vs_previous']:>10.2f}"
        )


def run(seed: int, weeks: int, repeats: int) -> dict[str, Any]:
    import pandas as pd

    from schemas.specs import load_model_spec
    from tasks.samples.recs_sparse import (
        SPARSE_SPEC,
        generate_sparse_interactions,
        merge_spec,
        sparse_items,
        sparse_users,
    )

    frames_by_week = generate_sparse_interactions(weeks, dt.date(2026, 1, 5), seed)
    events = pd.concat(frames_by_week.values(), ignore_index=True)
    events = events.sort_values(["event_time", "user_id", "item_id"]).reset_index(drop=True)
    frames = {"interactions": events, "items": sparse_items(seed), "users": sparse_users(seed)}
    shipped = load_model_spec("recs").model_dump()
    spec = load_model_spec("recs").model_validate(merge_spec(shipped, SPARSE_SPEC))
    previous = spec.model_validate(merge_spec(spec.model_dump(), PREVIOUS))
    new, old = fit(frames, spec), fit(frames, previous)
    for _ in range(repeats - 1):
        new["train_seconds"] = min(new["train_seconds"], fit(frames, spec)["train_seconds"])
        old["train_seconds"] = min(old["train_seconds"], fit(frames, previous)["train_seconds"])
    return {
        "seed": seed,
        "ratings": len(events),
        **new,
        "ratio_vs_recent_positive": new["ndcg@10"] / new["baselines"]["popularity_recent_positive"],
        "previous": old,
        "time_ratio_vs_previous": new["train_seconds"] / old["train_seconds"],
    }


PREVIOUS = {
    "ranking": {
        "label_windows": 1,
        "negatives": {"per_user": 0},
        "candidates": {"whole_catalog_max_items": 0, "popular": 60, "covisited": 60, "genre": 0},
    }
}


def fit(frames: dict[str, Any], spec: Any) -> dict[str, Any]:
    from tasks.core.gate.evaluation import evaluate_ranking
    from tasks.core.gate.measure import baseline_scores
    from tasks.core.train.booster import predict
    from tasks.core.train.prepared import train_model
    from tasks.core.train.ranking import prepare_ranking

    start = time.perf_counter()
    prep = prepare_ranking(frames, spec)
    fitted = train_model(spec, prep)
    seconds = time.perf_counter() - start
    scores = predict(fitted.booster, prep.test.x)
    ev = evaluate_ranking(
        spec.policy, prep, scores, None, baseline_scores(prep.test_frame), "item_id", spec.seed
    )
    return {
        "candidate_recall": prep.info["candidate_recall"],
        "candidate_recall_by_source": prep.info["candidate_recall_by_source"],
        "ndcg@10": ev.challenger["ndcg@10"],
        "baselines": {b.name: b.metrics["ndcg@10"] for b in ev.baselines},
        "train_rows": prep.rows["train"],
        "train_query_groups": prep.info["train_query_groups"],
        "holdout_users": prep.info["holdout_users"],
        "best_round": fitted.progress.best_round,
        "train_seconds": seconds,
    }


if __name__ == "__main__":
    main()
