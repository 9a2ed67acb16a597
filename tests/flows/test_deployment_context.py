"""Whether a run comes from a deployment is read from its context, not asked of the API
(tests/e2e/test_ui_form.py and test_serve.py cover runs that come from one)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_a_run_outside_a_deployment_knows_it_without_asking_the_api(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.runtime.deployment as runtime_deployment
    from prefect import flow

    from tasks.steps.naming import deployment_id

    async def asked(*_args: Any) -> Any:
        raise AssertionError("read the flow run from the API")

    monkeypatch.setattr(runtime_deployment, "_get_flow_run", asked)

    @flow
    def probe() -> str | None:
        return deployment_id()

    assert probe() is None
    assert deployment_id() is None  # outside any run
