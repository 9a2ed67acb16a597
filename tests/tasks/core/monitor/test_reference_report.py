"""The reference sample kept at training, the run's JSON document and its HTML report (pure)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from schemas.monitoring import Monitoring
from tasks.core.documents import to_json_bytes
from tasks.core.monitor.decide import Verdict
from tasks.core.monitor.drift import compare, summarize
from tasks.core.monitor.performance import Matured, measure
from tasks.core.monitor.reference import column_values
from tasks.core.monitor.summary import degraded_payload, drifted_payload, monitoring_document
from tasks.core.reports.monitoring import monitoring_html
from tasks.core.sampling import sample_positions

pytestmark = pytest.mark.unit
RNG = np.random.default_rng(3)


def test_a_sample_is_seeded_sorted_and_never_larger_than_the_data() -> None:
    assert list(sample_positions(5, 10, 1)) == [0, 1, 2, 3, 4]
    picked = sample_positions(1000, 100, 7)
    assert len(picked) == 100 and list(picked) == sorted(picked)
    assert list(picked) == list(sample_positions(1000, 100, 7))


def test_reference_values_keep_numbers_as_floats_and_categories_as_text() -> None:
    assert column_values("numeric", np.array([1, np.nan, 2.5], dtype=object)) == [1.0, None, 2.5]
    assert column_values("categorical", np.array(["a", None, pd.NA], dtype=object)) == [
        "a", None, None,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def document() -> dict:
    policy = Monitoring(bootstrap_resamples=100)
    ref, cur = RNG.normal(0, 1, 2000), RNG.normal(1.5, 1, 2000)
    features = [
        compare("amount", "numeric", ref, cur, policy, 1),
        compare("channel", "categorical", np.array(["a", "b"] * 1000, dtype=object),
                np.array(["a", "b"] * 1000, dtype=object), policy, 1),
    ]  # fmt: skip
    score = compare("score", "numeric", ref, ref[::-1].copy(), policy, 1)
    y = (RNG.random(2000) < 0.2).astype(float)
    performance = measure("pr_auc", Matured(y, RNG.random(2000), "rows"), 0.6, 0.3, policy, 1)
    verdict = Verdict("degraded", "retrain", True, True, ["drift in amount", "degraded <x>"])
    window = (pd.Timestamp("2026-10-08", tz="UTC"), pd.Timestamp("2026-10-10", tz="UTC"))
    doc = monitoring_document(
        "fraud", "v3", {"transactions": "v5"}, verdict, summarize(features, score, policy),
        performance, None, window,
    )  # fmt: skip
    doc["report_uri"] = "file:///store/reports/fraud/monitoring/x/report.html"
    return doc


def test_the_document_has_every_field_scripts_read_and_is_strict_json(document: dict) -> None:
    for key in ("model", "champion", "drift_detected", "drifted_features", "features",
                "prediction", "performance", "action", "report_uri"):  # fmt: skip
        assert key in document, key
    assert document["drifted_features"] == ["amount"]
    assert document["features"]["amount"]["drifted"] is True
    assert set(document["features"]["amount"]) >= {"statistic", "value", "threshold", "drifted"}
    assert document["performance"]["degraded"] is True
    assert json.loads(to_json_bytes(document))["drift_detected"] is True


def test_event_payloads_name_the_columns_the_metric_and_the_action(document: dict) -> None:
    drifted = drifted_payload(document)
    assert [c["column"] for c in drifted["drifted_features"]] == ["amount"]
    assert drifted["report_uri"] == document["report_uri"]
    degraded = degraded_payload(document)
    assert (degraded["metric"], degraded["action"]) == ("pr_auc", "retrain")
    assert degraded["interval"]["low"] <= degraded["value"] <= degraded["interval"]["high"]


def test_the_report_holds_every_column_each_plot_and_escapes_text(document: dict) -> None:
    reference = {
        "amount": ("numeric", RNG.normal(0, 1, 500)),
        "channel": ("categorical", np.array(["a", "b"] * 250, dtype=object)),
        "score": ("numeric", RNG.random(500)),
    }
    current = {
        "amount": RNG.normal(1.5, 1, 500),
        "channel": np.array(["a", "b"] * 250, dtype=object),
        "score": RNG.random(500),
    }
    history = [{"as_of": "2026-10-09T00:00:00+00:00", "value": 0.5, "interval_low": 0.4,
                "interval_high": 0.6, "champion_version": "v3"}]  # fmt: skip
    page = monitoring_html(document, reference, current, history)

    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?https?:", page)  # nothing fetched
    assert len(re.findall(r"<svg", page)) == 5  # statistic bars, 3 distributions, metric over time
    for text in (
        "amount (drifted)",
        "channel (tested)",
        "score (tested)",
        "pr_auc on matured labels",
    ):
        assert text in page, text
    assert "degraded &lt;x&gt;" in page  # reasons are escaped
    assert page == monitoring_html(document, reference, current, history)  # reproducible


def test_distributions_are_drawn_for_the_columns_nearest_drift_drifted_first() -> None:
    policy = Monitoring(bootstrap_resamples=100)
    ref = RNG.normal(0, 1, 1000)
    shifts = {f"c{k}": 0.15 * k for k in range(9)}  # c8 shifted most; c0 not at all
    reference = dict.fromkeys(shifts, ("numeric", ref))
    current = {name: RNG.normal(shift, 1, 1000) for name, shift in shifts.items()}
    features = [compare(n, "numeric", ref, current[n], policy, 1) for n in shifts]
    verdict = Verdict("ok", "none", False, False, [])
    doc = monitoring_document(
        "fraud", "v3", {"transactions": "v5"}, verdict, summarize(features, None, policy),
        None, None, None,
    )  # fmt: skip
    page = monitoring_html(doc, reference, current, [])
    section = page[page.index("Reference against recent data") :]
    titled = re.findall(r"(c\d) \((?:drifted|tested)\)", section)
    assert set(titled) == {"c3", "c4", "c5", "c6", "c7", "c8"}
    assert "The 6 of 9 columns nearest their threshold" in page
