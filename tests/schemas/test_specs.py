"""Spec loading: shipped specs, user folder, and every invalid spec named by file and field."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.contracts import ColumnType, DatasetContract, load_contract
from schemas.errors import SpecError
from schemas.loader import SHIPPED_DIR, list_specs, spec_hash
from schemas.specs import GateMode, LightGBM, ModelSpec, Task, load_model_spec, metric_direction

pytestmark = pytest.mark.unit


def shipped(kind: str, name: str) -> dict[str, Any]:
    return yaml.safe_load((SHIPPED_DIR / kind / f"{name}.yaml").read_text(encoding="utf-8"))


def write(specs_dir: Path, kind: str, name: str, body: dict[str, Any] | str) -> Path:
    folder = specs_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    text = body if isinstance(body, str) else yaml.safe_dump(body, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


# -- shipped specs ---------------------------------------------------------------------


def test_shipped_transactions_contract_loads() -> None:
    c = load_contract("transactions")
    assert c.kind == "events"
    assert c.event_time == "event_time"
    assert c.primary_key == ["transaction_id"]
    assert c.columns["amount"].type == ColumnType.FLOAT
    assert (c.columns["amount"].min, c.columns["amount"].max) == (0, 1_000_000)
    assert c.columns["channel"].allowed == ["online", "pos", "atm"]
    assert c.columns["merchant_category"].allowed is None
    assert c.columns["is_fraud"].allowed == [0, 1]
    assert c.columns["transaction_id"].unique
    assert c.landing_prefix == "landing/transactions/"
    assert c.require_event_time() == "event_time"


def test_shipped_fraud_spec_loads() -> None:
    spec = load_model_spec("fraud")
    assert spec.task == Task.BINARY
    assert spec.datasets == ["transactions"]
    assert spec.policy.primary_metric == "pr_auc"
    assert spec.policy.mode == GateMode.NON_INFERIORITY
    assert spec.features.builder == "transaction_behaviour"
    assert spec.policy_slice_columns() == ["channel", "age_band"]


def test_specs_are_frozen() -> None:
    spec = load_model_spec("fraud")
    with pytest.raises(ValueError, match="frozen"):
        spec.target = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("loader", "kind", "name"),
    [(load_contract, "dataset", "transaction"), (load_model_spec, "model", "frod")],
)
def test_unknown_name_lists_known_names(loader, kind: str, name: str) -> None:
    with pytest.raises(SpecError) as err:
        loader(name)
    message = str(err.value)
    assert f"unknown {kind} {name!r}" in message
    assert ("transactions" if kind == "dataset" else "fraud") in message


def test_unknown_name_lists_user_specs_too(tmp_path: Path) -> None:
    write(tmp_path, "models", "churn", shipped("models", "fraud") | {"name": "churn"})
    with pytest.raises(SpecError, match=r"known: .*churn.*fraud"):
        load_model_spec("nope", specs_dir=tmp_path)


# -- user folder -----------------------------------------------------------------------


def test_user_spec_shadows_the_shipped_one(tmp_path: Path) -> None:
    body = shipped("models", "fraud")
    body["policy"]["margin"] = 0.01
    write(tmp_path, "models", "fraud", body)
    assert load_model_spec("fraud", specs_dir=tmp_path).policy.margin == 0.01
    assert load_model_spec("fraud").policy.margin == 0.05


def test_user_folder_extends_the_shipped_ones(tmp_path: Path) -> None:
    contract = shipped("datasets", "transactions") | {"name": "payments"}
    write(tmp_path, "datasets", "payments", contract)
    assert load_contract("payments", specs_dir=tmp_path).name == "payments"
    # shipped specs remain reachable through the same folder
    assert load_contract("transactions", specs_dir=tmp_path).name == "transactions"
    assert {"payments", "transactions"} <= set(list_specs("datasets", tmp_path))


def test_user_folder_without_that_kind_falls_back_to_shipped(tmp_path: Path) -> None:
    assert load_model_spec("fraud", specs_dir=tmp_path).name == "fraud"


# -- invalid specs: file and field named -----------------------------------------------


def _expect_error(tmp_path: Path, kind: str, name: str, body: Any, *fragments: str) -> str:
    path = write(tmp_path, kind, name, body)
    loader = load_contract if kind == "datasets" else load_model_spec
    with pytest.raises(SpecError) as err:
        loader(name, specs_dir=tmp_path)
    message = str(err.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message  # fits a one-line CLI error
    return message


@pytest.mark.parametrize(
    "text",
    ["name: fraud\ntask: [binary\n", "name: fraud\n  task: binary\n bad", "\tname: fraud\n"],
    ids=["unclosed_list", "bad_indent", "tab"],
)
def test_invalid_yaml_names_the_file(tmp_path: Path, text: str) -> None:
    _expect_error(tmp_path, "models", "fraud", text, "invalid YAML")


@pytest.mark.parametrize(
    "text", ["", "- a\n- b\n", "just a string\n"], ids=["empty", "list", "str"]
)
def test_non_mapping_top_level(tmp_path: Path, text: str) -> None:
    _expect_error(tmp_path, "models", "fraud", text, "mapping")


def test_non_utf8_spec_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "models" / "fraud.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"name: fr\xffaud\n")
    with pytest.raises(SpecError, match=re.escape(str(path))):
        load_model_spec("fraud", specs_dir=tmp_path)


def _set(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return body


def _delete(body: dict[str, Any], dotted: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node = body
    for key in parents:
        node = node[key]
    del node[last]
    return body


@pytest.mark.parametrize(
    ("dotted", "value", "field"),
    [
        ("policy.guards.max_latency_p99", 25, "policy.guards.max_latency_p99"),
        ("policy.primary_metrc", "pr_auc", "policy.primary_metrc"),
        ("split.label_maturity", 1, "split.label_maturity"),
        ("lightgbm.num_boost_rounds", 100, "lightgbm.num_boost_rounds"),
        ("featurs", {"numeric": ["amount"]}, "featurs"),
    ],
)
def test_typo_in_model_spec_names_file_and_field_path(
    tmp_path: Path, dotted: str, value: Any, field: str
) -> None:
    body = _set(shipped("models", "fraud"), dotted, value)
    _expect_error(tmp_path, "models", "fraud", body, f"field '{field}'", "Extra inputs")


@pytest.mark.parametrize(
    ("dotted", "value", "fragments"),
    [
        ("columns.amount.min", "abc", ["field 'columns.amount.min'", "number"]),
        ("columns.amount.nulable", True, ["field 'columns.amount.nulable'", "Extra inputs"]),
        ("columns.amount.type", "decimal", ["field 'columns.amount.type'"]),
        ("columns.amount.max", -1, ["field 'columns.amount'", "min is greater than max"]),
        ("columns.country.regex", "^[A-Z{2}$", ["field 'columns.country.regex'", "invalid regex"]),
        ("columns.channel.min", 0, ["field 'columns.channel'", "min/max apply"]),
        ("primary_key", ["txn_id"], ["'txn_id'", "not declared"]),
        ("event_time", "customer_id", ["event_time 'customer_id' must be a timestamp"]),
        ("kind", "stream", ["field 'kind'"]),
        ("source.format", "xlsx", ["field 'source.format'"]),
        ("expectations", [{"expectation": "check_it"}], ["field 'expectations.0.expectation'"]),
    ],
    ids=["min_not_number", "typo_column_field", "unknown_type", "min_gt_max", "bad_regex",
         "bounds_on_category", "undeclared_pk", "event_time_not_timestamp", "bad_kind",
         "bad_format", "bad_expectation_name"],
)  # fmt: skip
def test_invalid_contract_names_file_and_field(
    tmp_path: Path, dotted: str, value: Any, fragments: list[str]
) -> None:
    body = _set(shipped("datasets", "transactions"), dotted, value)
    _expect_error(tmp_path, "datasets", "transactions", body, *fragments)


def test_events_contract_without_event_time_is_rejected(tmp_path: Path) -> None:
    body = _delete(shipped("datasets", "transactions"), "event_time")
    _expect_error(tmp_path, "datasets", "transactions", body, "events datasets need an event_time")


def test_snapshot_contract_without_event_time_loads(tmp_path: Path) -> None:
    body = _delete(shipped("datasets", "transactions"), "event_time") | {"kind": "snapshot"}
    write(tmp_path, "datasets", "transactions", body)
    contract = load_contract("transactions", specs_dir=tmp_path)
    assert contract.event_time is None
    with pytest.raises(SpecError, match="no event_time column"):
        contract.require_event_time()


@pytest.mark.parametrize("kind", ["datasets", "models"])
def test_name_must_match_the_file_name(tmp_path: Path, kind: str) -> None:
    source = "transactions" if kind == "datasets" else "fraud"
    body = shipped(kind, source)
    _expect_error(tmp_path, kind, "renamed", body, "field 'name'", repr(source), "file name")


@pytest.mark.parametrize(
    ("dotted", "value", "fragment"),
    [
        ("policy.primary_metric", "accuracy", "unknown metric(s) ['accuracy']"),
        ("policy.primary_metric", "ndcg@10", "unknown metric(s) ['ndcg@10']"),
        ("policy.floors", {"f1": 0.5}, "unknown metric(s) ['f1']"),
        ("policy.guards.fairness.metric", "accuracy", "unknown metric(s) ['accuracy']"),
        ("policy.guards.fairness.metric", "map@10", "unknown metric(s) ['map@10']"),
    ],
    ids=["primary", "ranking_metric_on_binary", "floor", "fairness", "fairness_ranking_metric"],
)
def test_unknown_metric_in_policy_is_rejected(
    tmp_path: Path, dotted: str, value: Any, fragment: str
) -> None:
    body = _set(shipped("models", "fraud"), dotted, value)
    _expect_error(tmp_path, "models", "fraud", body, fragment)


def test_fairness_guard_needs_max_gap(tmp_path: Path) -> None:
    body = _delete(shipped("models", "fraud"), "policy.guards.fairness.max_gap")
    _expect_error(tmp_path, "models", "fraud", body, "field 'policy.guards.fairness.max_gap'")


@pytest.mark.parametrize("value", [-0.1, "wide"])
def test_fairness_max_gap_must_be_a_non_negative_number(tmp_path: Path, value: Any) -> None:
    body = _set(shipped("models", "fraud"), "policy.guards.fairness.max_gap", value)
    _expect_error(tmp_path, "models", "fraud", body, "field 'policy.guards.fairness.max_gap'")


@pytest.mark.parametrize("param", ["seed", "num_threads", "deterministic", "objective", "verbose"])
def test_reserved_lightgbm_params_are_rejected(tmp_path: Path, param: str) -> None:
    body = _set(shipped("models", "fraud"), f"lightgbm.params.{param}", 1)
    _expect_error(tmp_path, "models", "fraud", body, "field 'lightgbm'", param, "set by the system")


def test_reserved_params_rejected_in_code_too() -> None:
    with pytest.raises(ValueError, match="num_threads"):
        LightGBM(params={"num_threads": 4, "learning_rate": 0.1})


@pytest.mark.parametrize(
    ("dotted", "value", "field"),
    [
        ("policy.confidence", 1.5, "policy.confidence"),
        ("policy.margin", -0.1, "policy.margin"),
        ("policy.mode", "best_effort", "policy.mode"),
        ("policy.bootstrap_resamples", 10, "policy.bootstrap_resamples"),
        ("split.test_days", 0, "split.test_days"),
        ("lightgbm.num_boost_round", "many", "lightgbm.num_boost_round"),
        ("task", "regression", "task"),
        ("name", "Fraud-Model", "name"),
    ],
)
def test_wrong_values_in_model_spec_name_the_field(
    tmp_path: Path, dotted: str, value: Any, field: str
) -> None:
    body = _set(shipped("models", "fraud"), dotted, value)
    _expect_error(tmp_path, "models", "fraud", body, f"field '{field}'")


def test_ranking_model_needs_group_by(tmp_path: Path) -> None:
    body = shipped("models", "fraud") | {"task": "ranking"}
    body["policy"] = {"primary_metric": "ndcg@10"}
    _expect_error(tmp_path, "models", "fraud", body, "group_by")


def test_model_without_features_is_rejected(tmp_path: Path) -> None:
    body = _set(shipped("models", "fraud"), "features", {"numeric": []})
    _expect_error(tmp_path, "models", "fraud", body, "features")


def test_error_counts_further_problems(tmp_path: Path) -> None:
    body = _set(shipped("models", "fraud"), "split.test_days", -1)
    body = _set(body, "policy.margin", -1)
    _expect_error(tmp_path, "models", "fraud", body, "(+1 more)")


# -- fingerprint -----------------------------------------------------------------------

FRAUD_YAML = (SHIPPED_DIR / "models" / "fraud.yaml").read_text(encoding="utf-8")


def _fingerprint(tmp_path: Path, text: str) -> str:
    write(tmp_path, "models", "fraud", text)
    return load_model_spec("fraud", specs_dir=tmp_path).fingerprint()


def test_fingerprint_ignores_comments_and_formatting(tmp_path: Path) -> None:
    reference = load_model_spec("fraud").fingerprint()
    no_comments = "\n".join(line.split("#", 1)[0].rstrip() for line in FRAUD_YAML.splitlines())
    assert _fingerprint(tmp_path, no_comments) == reference
    flow_style = yaml.safe_dump(
        yaml.safe_load(FRAUD_YAML), default_flow_style=True, sort_keys=False
    )
    assert _fingerprint(tmp_path, flow_style) == reference


def test_fingerprint_ignores_top_level_key_order(tmp_path: Path) -> None:
    reference = load_model_spec("fraud").fingerprint()
    body = yaml.safe_load(FRAUD_YAML)
    reordered = dict(reversed(list(body.items())))
    assert _fingerprint(tmp_path, yaml.safe_dump(reordered, sort_keys=False)) == reference


@pytest.mark.parametrize("dotted", ["lightgbm.params", "policy.floors"])
def test_fingerprint_ignores_key_order_inside_mappings(tmp_path: Path, dotted: str) -> None:
    reference = load_model_spec("fraud").fingerprint()
    body = yaml.safe_load(FRAUD_YAML)
    parent, key = dotted.split(".")
    body[parent][key] = dict(reversed(list(body[parent][key].items())))
    assert _fingerprint(tmp_path, yaml.safe_dump(body, sort_keys=False)) == reference


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("lightgbm.params.learning_rate", 0.1),
        ("lightgbm.params.extra_trees", True),
        ("lightgbm.num_boost_round", 401),
        ("policy.margin", 0.04),
        ("split.label_maturity_days", 2),
        ("seed", 43),
    ],
)
def test_fingerprint_changes_when_anything_that_matters_changes(
    tmp_path: Path, dotted: str, value: Any
) -> None:
    reference = load_model_spec("fraud").fingerprint()
    body = _set(yaml.safe_load(FRAUD_YAML), dotted, value)
    changed = _fingerprint(tmp_path, yaml.safe_dump(body, sort_keys=False))
    assert re.fullmatch(r"[0-9a-f]{64}", changed)
    assert changed != reference


def test_spec_hash_is_of_the_file_bytes(tmp_path: Path) -> None:
    a = write(tmp_path, "models", "a", "name: a\n")
    b = write(tmp_path / "other", "models", "a", "name: a  # same spec, other bytes\n")
    assert spec_hash(a) == spec_hash(a)
    assert spec_hash(a) != spec_hash(b)


@pytest.mark.parametrize(
    ("metric", "direction"),
    [("pr_auc", 1), ("roc_auc", 1), ("ndcg@10", 1), ("log_loss", -1), ("brier", -1)],
)
def test_metric_direction(metric: str, direction: int) -> None:
    assert metric_direction(metric) == direction


def test_contract_model_validate_round_trip() -> None:
    contract = load_contract("transactions")
    again = DatasetContract.model_validate(contract.model_dump(mode="json"))
    assert again == contract
    assert ModelSpec.model_validate(load_model_spec("fraud").model_dump()) == load_model_spec(
        "fraud"
    )


def test_a_spec_without_monitoring_is_watched_with_the_named_defaults() -> None:
    policy = load_model_spec("fraud").monitoring
    assert (policy.numeric.statistic, policy.numeric.threshold) == ("jensenshannon", 0.1)
    assert (policy.categorical.statistic, policy.drift_share) == ("jensenshannon", 0.2)
    assert (policy.on_degradation, policy.watch_score, policy.features) == ("retrain", True, None)


@pytest.mark.parametrize(
    ("monitoring", "field"),
    [
        ({"on_degradation": "explode"}, "monitoring.on_degradation"),
        ({"numeric": {"statistic": "median", "threshold": 0.1}}, "monitoring.numeric.statistic"),
        ({"drift_share": 0}, "monitoring.drift_share"),
        ({"cooldown_hours": 3}, "monitoring.cooldown_hours"),
    ],
)
def test_a_bad_monitoring_policy_names_the_field(
    tmp_path: Path, monitoring: dict[str, Any], field: str
) -> None:
    write(tmp_path, "models", "fraud", shipped("models", "fraud") | {"monitoring": monitoring})
    with pytest.raises(SpecError, match=re.escape(f"field '{field}'")):
        load_model_spec("fraud", specs_dir=tmp_path)


def test_a_statistic_must_fit_its_column_kind(tmp_path: Path) -> None:
    body = shipped("models", "fraud") | {
        "monitoring": {"categorical": {"statistic": "ks", "threshold": 0.05}}
    }
    write(tmp_path, "models", "fraud", body)
    with pytest.raises(SpecError, match="categorical columns cannot use ks"):
        load_model_spec("fraud", specs_dir=tmp_path)
