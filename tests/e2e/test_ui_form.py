"""Browser test: the retraining deployment's custom-run form in the Prefect UI is typed.

A real `prefect server` with the deployments served by `retrain serve`; Debian's
chromium, headless, driven by selenium through /usr/bin/chromedriver. Both UIs the
server ships are checked: the default one (React, under /v2/) and the classic one
(Vue, at the root). Nothing is installed here: `.ci/run` installs chromium.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.services import BIN, Api, api_request, base_env, prefect_server, start, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1800",
)
UIS = {"default (v2)": "/v2", "classic (v1)": ""}
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A prefect server whose UI talks to it, and `retrain serve`: (server URL, deployment id)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing:"
            " apt-get install -y chromium chromium-driver (.ci/run does)"
        )
    pytest.importorskip("selenium", reason="selenium is a dev dependency: pip install -e .[dev]")
    tmp = tmp_path_factory.mktemp("ui")
    with prefect_server(tmp) as server:
        serve_env = {
            **base_env(tmp / "client-home"),
            "PREFECT_API_URL": server.api,
            "RETRAIN_HOME": str(tmp / "home"),
        }
        serve = start(
            "retrain serve", [str(BIN / "retrain"), "serve"], serve_env, tmp / "serve.log"
        )
        try:
            by_name = wait_for(
                "the retrain-fraud deployment",
                lambda: {
                    n: i for i, n in Api(server.api).deployments().items() if n == "retrain-fraud"
                },
                90,
                server.service,
                serve,
            )
            yield server.url, by_name["retrain-fraud"]
        finally:
            serve.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless chromium through chromedriver, with a throwaway profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=DriverService(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium", ignore_errors=True)


def wait_text(driver: Any, text: str, exact: bool = False, timeout: float = 60) -> None:
    """Wait until the page shows ``text`` (an element's whole text when ``exact``)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d: Any) -> bool:
        if exact:
            return bool(d.find_elements(By.XPATH, f"//*[normalize-space(text())='{text}']"))
        return text in d.find_element(By.TAG_NAME, "body").text

    WebDriverWait(driver, timeout, poll_frequency=0.5).until(shown, f"{text!r} never shown")


def manual_runs(api: str) -> list[dict[str, Any]]:
    """Flow runs created by hand (the cron's scheduled runs left out)."""
    runs = api_request("POST", f"{api}/flow_runs/filter", json={"limit": 200}).json()
    return [r for r in runs if not r["auto_scheduled"]]


@pytest.mark.parametrize("ui", list(UIS), ids=list(UIS))
def test_custom_run_form_shows_the_typed_retraining_parameters(
    served: tuple[str, str], browser: Any, ui: str
) -> None:
    from selenium.webdriver.common.by import By

    from schemas.params import RetrainParams

    url, deployment_id = served
    shot = SHOTS / f"retrain-ui-form-{UIS[ui].strip('/') or 'v1'}.png"
    browser.get(f"{url}{UIS[ui]}/deployments/deployment/{deployment_id}/run")
    try:
        # The flow's one parameter, `params`, rendered as the RetrainParams model's fields.
        for label in ("params", "Model", "Dataset Version (Optional)"):
            wait_text(browser, label, exact=True)
        # The form can re-render after its first paint: wait for the texts, do not read once.
        assert RetrainParams.__doc__ is not None
        wait_text(browser, RetrainParams.__doc__.strip())
        description = RetrainParams.model_fields["dataset_version"].description
        assert description is not None
        wait_text(browser, description)
        for label in ("params", "Model", "Dataset Version (Optional)"):
            wait_text(browser, label, exact=True)
        model = browser.find_elements(By.CSS_SELECTOR, "textarea")
        assert [e.get_attribute("value") for e in model][:1] == ["fraud"]  # deployment default
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Recovery Attempt" not in body  # internal: set by the crash-recovery automation
        # dataset_version is an optional string with a pattern: a plain input, no str/None toggle.
        assert not browser.find_elements(By.XPATH, "//button[normalize-space()='str']")
        assert not browser.find_elements(By.XPATH, "//button[normalize-space()='None']")
        fields = browser.find_elements(By.CSS_SELECTOR, "textarea")
        assert len(fields) == 2, [f.get_attribute("value") for f in fields]
        fields[1].send_keys("latest")
        browser.find_element(By.XPATH, "//button[normalize-space()='Submit']").click()
        wait_text(browser, "does not match", timeout=20)
        assert manual_runs(f"{url}/api") == []  # the form refused it: no run was created
    finally:
        browser.save_screenshot(str(shot))


def test_a_deployment_refuses_a_run_for_another_model(served: tuple[str, str]) -> None:
    """retrain-fraud asked (from its form or the API) to train recs: the run fails at once,
    naming the deployment to use; nothing is trained."""
    url, deployment_id = served
    api = f"{url}/api"

    created = api_request(
        "POST",
        f"{api}/deployments/{deployment_id}/create_flow_run",
        json={"parameters": {"params": {"model": "recs"}}},
    )
    run_id = created.json()["id"]

    def finished() -> dict[str, Any] | None:
        run = api_request("GET", f"{api}/flow_runs/{run_id}").json()
        return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    run = wait_for("the mismatching run to end", finished, 120)
    assert run["state_type"] == "FAILED", run["state"]
    message = run["state"]["message"]
    assert "deployment retrain-fraud is for model fraud, not recs" in message, message
    assert "run the retrain-recs deployment" in message
