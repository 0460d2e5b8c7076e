"""The Prefect UI as the secretariat sees it, in a real browser (Debian chromium) against a real
`prefect server start` (the test harness serves no UI): the run form of `chase-submissions`
with the plan's codes as choices, and a `close-year` run paused for the head unit's approval.
Screenshots go to build/screenshots/ (or $THIDUA_SCREENSHOTS) for a person to look at."""

import os
import subprocess
import sys
import time

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.settings import PREFECT_API_URL, temporary_settings

from config.settings import get_settings
from flows.schedules import sync_plan_schedules
from tests.conftest import ROOT, free_port
from tests.test_browser import SCREENSHOTS, browser  # noqa: F401 (the fixture)
from tests.test_close_year import AFTER_REPORTS, seed_year, vote_everyone
from tests.test_deployments import _activate, _local
from thidua.service import DEPLOY, ensure_work_pool

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

CLOSE_YEAR = (  # AFTER_REPORTS at HOUR
    "from datetime import datetime; from domain.dates import TZ; from flows.close import "
    "close_year; close_year(as_of=datetime(2020, 12, 14, HOUR, 0, tzinfo=TZ))"
)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """A Prefect server with its UI on a free port; yields its address."""
    port = free_port()
    home = tmp_path_factory.mktemp("prefect-home")
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"{url}/api",  # where the UI asks (else 127.0.0.1:4200)
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    with open(home / "server.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (home / "server.log").read_text()
            time.sleep(0.5)
        with temporary_settings(updates={PREFECT_API_URL: f"{url}/api"}):
            yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def screen(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_the_run_form_offers_the_plans_deadlines_and_units_by_code_and_title(
    ui, db, settings_for, screen
):
    settings_for(db)
    _activate(db)
    ensure_work_pool()
    deployed = subprocess.run(
        DEPLOY,
        cwd=ROOT,
        env={**os.environ, "PREFECT_API_URL": f"{ui}/api"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    sync_plan_schedules(db.engine, get_settings(), as_of=_local(2020, 2, 24, 9, 0))
    with SyncPrefectClient(f"{ui}/api") as client:
        deployment = client.read_deployment_by_name("chase-submissions/chase-submissions")
    screen.goto(f"{ui}/deployments/deployment/{deployment.id}/run")
    screen.get_by_text("Parameters").first.wait_for(timeout=60_000)
    strings = screen.get_by_role("button", name="str", exact=True)  # deadline, unit: not None
    for index in range(strings.count()):
        strings.nth(index).click()
    _shot(screen, "prefect-run-form")
    assert screen.get_by_text("theo giờ Việt Nam (UTC+7)").count() == 1
    assert screen.get_by_text("syt — Sở Y tế;").count() == 1
    assert strings.count() == 2 and screen.locator(".p-select").count() == 2


def test_a_close_year_run_waits_in_the_ui_for_the_head_units_approval(ui, db, screen):
    seed_year(db.engine, db.data_dir)
    opened = _close_year(ui, db, AFTER_REPORTS.hour)  # the ballot opens
    output = opened.communicate(timeout=300)[0].decode()
    assert opened.returncode == 0, output
    vote_everyone(db.engine)
    run = _close_year(ui, db, 15)  # the count, then the pause
    with SyncPrefectClient(f"{ui}/api") as client:
        paused = _paused(client, run)
        try:
            screen.goto(f"{ui}/runs/flow-run/{paused.id}")
            screen.get_by_text("Kết thúc năm thi đua — 14/12/2020 15:00").first.wait_for()
            screen.get_by_role("button", name="Resume").wait_for(timeout=60_000)
            _shot(screen, "prefect-close-year-paused")
            screen.get_by_role("button", name="Resume").click()
            screen.get_by_text("Phê duyệt kết quả").first.wait_for(timeout=60_000)
            _shot(screen, "prefect-close-year-approval-form")
        finally:
            client.resume_flow_run(paused.id, run_input={"approve": False, "note": "thử giao diện"})
        output = run.communicate(timeout=300)[0].decode()
    assert run.returncode == 0, output


def _close_year(ui: str, db, hour: int) -> subprocess.Popen:
    """close_year as of `hour` on AFTER_REPORTS's day, in another process: the browser's event
    loop runs in this thread, and a paused run waits there up to an hour."""
    return subprocess.Popen(
        [sys.executable, "-c", CLOSE_YEAR.replace("HOUR", str(hour))],
        cwd=ROOT,
        env={**os.environ, **db.env, "PREFECT_API_URL": f"{ui}/api"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _paused(client, run):
    waiting = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["PAUSED"])))
    for _ in range(1200):
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["close-year"])),
            flow_run_filter=waiting,
        )
        if runs:
            return runs[0]
        assert run.poll() is None, run.communicate()[0].decode()
        time.sleep(0.2)
    raise AssertionError("close-year never asked for approval")
