"""Bad interaction files, and interactions that name items or users the snapshots lack."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from schemas.contracts import load_contract
from tasks import samples as generate
from tasks.core.ingest.validation import ValidationReport, validate_file

NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
EXPECTED = {  # kind -> (failing check, column named)
    "missing_column": ("expect_column_to_exist", "rating"),
    "bad_rating": ("expect_column_values_to_be_between", "rating"),
    "duplicate_rows": ("expect_compound_columns_to_be_unique", "user_id,item_id,event_time"),
    "unknown_item": ("references items.item_id", "item_id"),
    "empty": ("file_is_readable", None),
    "random_bytes": (None, None),  # any failure: random bytes are not a table
}


@pytest.fixture(scope="module")
def recs() -> dict[str, pd.DataFrame]:
    users, items = generate.generate_users(5, n_users=300), generate.generate_items(5, n_items=150)
    day = generate.generate_interactions(1, dt.date(2026, 3, 9), 5, users, items, rows_per_day=400)
    return {"users": users, "items": items, "interactions": next(iter(day.values()))}


def _keys(recs: dict[str, pd.DataFrame]) -> dict[str, set[str] | None]:
    return {
        "items.item_id": set(recs["items"]["item_id"]),
        "users.user_id": set(recs["users"]["user_id"]),
    }


def _validate(data: bytes, recs: dict[str, pd.DataFrame], strict: bool = False) -> ValidationReport:
    """Validate with the shipped contract (strict: no unknown keys tolerated at all)."""
    contract = load_contract("interactions")
    if strict:
        raw = contract.model_dump()
        for ref in raw["references"]:
            ref["max_unknown_share"] = 0.0
        contract = type(contract).model_validate(raw)
    return validate_file(data, "interactions.csv", contract, NOW, _keys(recs))[1]


def test_every_corruption_kind_has_an_expectation() -> None:
    assert set(generate.INTERACTION_CORRUPTION_KINDS) == set(EXPECTED)


@pytest.mark.parametrize("kind", generate.INTERACTION_CORRUPTION_KINDS)
def test_bad_interaction_files_fail_naming_check_and_column(
    kind: str, recs: dict[str, pd.DataFrame]
) -> None:
    data = generate.corrupt_interactions(recs["interactions"], kind, 5)
    report = _validate(data, recs, strict=kind == "unknown_item")  # ~1% of rows: at tolerance
    assert not report.success
    check, column = EXPECTED[kind]
    if check is not None:
        failed = {(f.check, f.column) for f in report.failures}
        assert (check, column) in failed, report.summary()


def test_clean_file_passes(recs: dict[str, pd.DataFrame]) -> None:
    report = _validate(generate.to_csv_bytes(recs["interactions"]), recs)
    assert report.success, report.summary()


def test_unknown_keys_within_tolerance_are_reported_but_pass(recs: dict[str, pd.DataFrame]) -> None:
    frame = recs["interactions"].copy()
    frame.loc[0, "user_id"] = "u-never-seen"  # 1 of 400 rows: 0.25% < 1% tolerance
    report = _validate(generate.to_csv_bytes(frame), recs)
    assert report.success, report.summary()
    check = next(c for c in report.checks if c.check == "references users.user_id")
    assert (check.unexpected_count, check.examples[0]["value"]) == (1, "u-never-seen")


def test_references_are_not_checked_before_the_first_snapshot(
    recs: dict[str, pd.DataFrame],
) -> None:
    contract = load_contract("interactions")
    data = generate.corrupt_interactions(recs["interactions"], "unknown_item", 5)
    _, report = validate_file(data, "f.csv", contract, NOW, {"items.item_id": None})
    note = next(c for c in report.checks if c.check == "references items.item_id")
    assert note.success and "no snapshot yet" in note.message


def test_category_codes_are_open_unless_listed(recs: dict[str, pd.DataFrame]) -> None:
    users = recs["users"].assign(gender="female", occupation="ocean-cartographer")
    report = validate_file(generate.to_csv_bytes(users), "users.csv", load_contract("users"), NOW)[
        1
    ]
    assert report.success, report.summary()
