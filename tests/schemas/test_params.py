"""Flow parameter models and the approval form, as the Prefect server validates them."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.params import approval_input_model

pytestmark = pytest.mark.unit


def _server_refuses(answer: dict[str, Any]) -> bool:
    """What the server's resume endpoint decides about a form answer (its own validator)."""
    from prefect.utilities import schema_tools

    form = approval_input_model().with_initial_data(description="## evidence")
    schema = form.model_json_schema(by_alias=True)
    try:
        schema_tools.validate(answer, schema, raise_on_error=True)
    except schema_tools.ValidationError:
        return True
    return False


@pytest.mark.parametrize(
    "answer",
    [
        {},  # Submit without touching anything
        {"approver": "alice"},  # no decision chosen
        {"decision": "reject"},  # nobody named
        {"decision": "reject", "approver": ""},
        {"decision": "approve", "approver": "   "},
        {"decision": "maybe", "approver": "alice"},
    ],
)
def test_an_incomplete_approval_answer_is_refused(answer: dict[str, Any]) -> None:
    assert _server_refuses(answer)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_complete_answer_is_accepted(decision: str) -> None:
    assert not _server_refuses({"decision": decision, "approver": "alice", "comment": ""})
    assert not _server_refuses({"decision": decision, "approver": "alice"})


def test_the_form_presets_no_decision_and_no_approver() -> None:
    schema = approval_input_model().with_initial_data(description="x").model_json_schema()

    assert set(schema["required"]) >= {"decision", "approver"}
    assert "default" not in schema["properties"]["decision"]
    assert "default" not in schema["properties"]["approver"]
