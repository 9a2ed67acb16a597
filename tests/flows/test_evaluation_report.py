"""The evaluation report of a trained version: every plot and every check, found in the page
a person opens (and the card, the run's result and ``retrain report`` point to it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import cli
from tests.helpers.samples import Sample, read_json

pytestmark = pytest.mark.integration

PLOTS = ("pr", "roc", "reliability", "scores", "importance", "history")


def test_the_report_of_a_compared_version_shows_each_plot_and_each_check(
    env: Path,
    store_root: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    untrained = cli("report", "fraud")
    assert untrained.exit_code != 0 and "no trained version" in str(untrained.exception)
    sample.land(sample.backfill)
    ingest()
    retrain()
    sample.land([sample.new_day])
    ingest()
    result = retrain()
    version = result["version"]
    assert version == "v2"

    page_path = store_root / f"reports/fraud/{version}/report.html"
    page = page_path.read_text(encoding="utf-8")
    assert "this machine (local)" in page  # where it trained (no RETRAIN_DASK_ADDRESS)
    card = read_json(store_root / f"models/fraud/{version}/card.json")
    doc = read_json(store_root / f"reports/fraud/{version}/report.json")

    assert card["artifacts"]["report.html"]["uri"] == page_path.as_uri()
    assert result["artifacts"]["report"] == page_path.as_uri()
    assert card["metrics"]["strongest_baseline"] == "logistic_regression"
    for plot in PLOTS:
        figure = re.search(rf'<figure id="plot-{plot}"><svg.*?</svg>\s*</figure>', page, re.S)
        assert figure is not None, f"no {plot} plot"
    for model in ("challenger", "champion", "logistic_regression"):  # each curve's legend
        assert re.search(rf'<figure id="plot-pr">.*?{model}.*?</figure>', page, re.S), model
    text = unescape(page)
    checks = card["decision"]["checks"]
    assert {c["name"] for c in checks} >= {"gate", "floor pr_auc", "latency", "baseline"}
    for check in checks:
        assert f"<td>{check['name']}</td>" in text and check["detail"] in text, check["name"]
    assert f"{len(checks)} checks" in text
    assert "strongest baseline logistic_regression" in text
    for section in ("Slices", "Feature importance (gain)", "pr_auc over versions",
                    "Cost and lineage"):  # fmt: skip
        assert f"<h2>{section}</h2>" in text
    for fetched in ("<script", "<link", "<img", "src=", 'href="http'):  # opens offline
        assert fetched not in page, fetched
    assert doc["decision"] == card["decision"] and [h["version"] for h in doc["history"]] == ["v1"]

    shown = cli("report", "fraud")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == str(page_path)
    earlier = json.loads(cli("report", "fraud", "v1", "--json").stdout)
    assert earlier["html"] == (store_root / "reports/fraud/v1/report.html").as_uri()
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda target: opened.append(target) or True)
    assert cli("report", "fraud", "--open").exit_code == 0
    assert opened == [page_path.as_uri()]  # a local store: the file itself (S3: a presigned link)
    missing = cli("report", "fraud", "v9")
    assert missing.exit_code != 0 and "no version v9" in str(missing.exception)
