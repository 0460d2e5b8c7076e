"""A flow run that fails on a real Prefect server emails the secretariat once, through the
outbox, with the run's link in the Prefect UI and the last line of the error; so does a run
that starts more than an hour after its scheduled time."""

import email
import email.policy
import importlib
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow_sync
from prefect.settings import PREFECT_UI_URL
from prefect.states import Scheduled
from sqlmodel import Session, select

from flows.alerts import alert_if_late, alert_secretariat
from flows.scores import compute_scores
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import OutboxMessage, YearPlan
from notifications.alerts import fmt_delay, last_line
from tests.conftest import EXAMPLE_PLAN, ROOT

SECRETARIAT = "dongbl.stttt@bacgiang.gov.vn.example"


@pytest.fixture
def mail(prefect_server, db, settings_for, smtp_server):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    settings_for(db, THIDUA_SMTP_URL=smtp_server.url + "?timeout=5")
    return smtp_server.handler


def _alerts(db, stage: str = "run-failed") -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.stage == stage)).all()


def _run_scheduled(flow, ago: timedelta):
    """Run `flow` in this process as a worker runs a scheduled run whose time was `ago`."""
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(
            flow,
            parameters={"dry_run": True},
            state=Scheduled(scheduled_time=datetime.now(UTC) - ago),
        )
    state = run_flow_sync(
        flow, flow_run=flow_run, parameters={"dry_run": True}, return_type="state"
    )
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run.id)


def test_a_failed_run_emails_the_secretariat_once_with_its_link_and_error(mail, db):
    state = compute_scores(year="hai nghìn", return_state=True)  # as a mistyped form would
    assert state.is_failed()
    (alert,) = _alerts(db)
    (received,) = [
        email.message_from_bytes(raw, policy=email.policy.default) for raw in mail.accepted
    ]
    assert received["To"] == alert.recipient == SECRETARIAT
    assert received["Subject"].startswith("[Thi đua 2020] Lỗi khi chạy việc tính điểm và xếp hạng")
    text = received.get_body(("plain",)).get_content()
    run_id = state.state_details.flow_run_id
    assert f"{PREFECT_UI_URL.value()}/runs/flow-run/{run_id}" in text
    assert "Lỗi: year: Input should be a valid integer" in text
    assert "không hoàn thành lúc" in text and "Traceback" not in text

    with get_client(sync_client=True) as client:  # the hook again (a retried hook, say)
        flow_run = client.read_flow_run(run_id)
    alert_secretariat(compute_scores, flow_run, state)
    assert len(_alerts(db)) == 1 and len(mail.accepted) == 1


def test_a_run_started_hours_after_its_schedule_emails_the_secretariat_once(mail, db):
    flow_run = _run_scheduled(compute_scores, timedelta(hours=3, minutes=20))
    (alert,) = _alerts(db, "run-late")
    (received,) = [
        email.message_from_bytes(raw, policy=email.policy.default) for raw in mail.accepted
    ]
    assert received["To"] == alert.recipient == SECRETARIAT
    assert received["Subject"] == (
        "[Thi đua 2020] Việc tính điểm và xếp hạng chạy trễ 3 giờ 20 phút so với lịch"
    )
    text = received.get_body(("plain",)).get_content()
    assert f"{PREFECT_UI_URL.value()}/runs/flow-run/{flow_run.id}" in text
    assert "máy chạy việc (Prefect worker)" in text and not _alerts(db, "run-failed")

    alert_if_late(compute_scores, flow_run, flow_run.state)  # the hook again: a resumed run
    assert len(_alerts(db, "run-late")) == 1 and len(mail.accepted) == 1


def test_a_run_started_within_the_hour_of_its_schedule_alerts_nobody(mail, db):
    _run_scheduled(compute_scores, timedelta(minutes=50))
    assert not _alerts(db, "run-late") and not mail.accepted


def test_every_deployed_flow_alerts_on_failure_on_crash_and_when_late():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for spec in config["deployments"]:
        path, name = spec["entrypoint"].split(":")
        module = path.removesuffix(".py").replace("/", ".")
        flow = getattr(importlib.import_module(module), name)
        assert alert_secretariat in flow.on_failure_hooks, spec["name"]
        assert alert_secretariat in flow.on_crashed_hooks, spec["name"]
        assert alert_if_late in flow.on_running_hooks, spec["name"]


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (
            "Flow run encountered an exception: OSError: disk full",
            "Flow run encountered an exception: OSError: disk full",
        ),
        (
            "Flow run received invalid parameters:\n - year: not an integer\n",
            "year: not an integer",
        ),
        ("", "không có thông báo lỗi"),
        ("x" * 900, "x" * 499 + "…"),
    ],
    ids=["one-line", "last-line", "empty", "long"],
)
def test_the_alert_quotes_the_last_line_of_the_error(message, line):
    assert last_line(message) == line


@pytest.mark.parametrize(
    ("delay", "text"),
    [
        (timedelta(hours=1, seconds=59), "1 giờ"),
        (timedelta(days=2, minutes=5), "2 ngày 5 phút"),
        (timedelta(days=1, hours=23, minutes=59), "1 ngày 23 giờ 59 phút"),
    ],
)
def test_the_late_alert_says_the_delay_in_days_hours_and_minutes(delay, text):
    assert fmt_delay(delay) == text
