"""A flow run that fails on a real Prefect server emails the secretariat once, through the
outbox, with the run's link in the Prefect UI and the last line of the error."""

import email
import email.policy
import importlib

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_UI_URL
from sqlmodel import Session, select

from flows.alerts import alert_secretariat
from flows.scores import compute_scores
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import OutboxMessage, YearPlan
from notifications.alerts import last_line
from tests.conftest import EXAMPLE_PLAN, ROOT

SECRETARIAT = "dongbl.stttt@bacgiang.gov.vn.example"


@pytest.fixture
def mail(prefect_server, db, settings_for, smtp_server):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    settings_for(db, THIDUA_SMTP_URL=smtp_server.url + "?timeout=5")
    return smtp_server.handler


def _alerts(db) -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.stage == "run-failed")).all()


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


def test_every_deployed_flow_alerts_on_failure_and_on_crash():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for spec in config["deployments"]:
        path, name = spec["entrypoint"].split(":")
        module = path.removesuffix(".py").replace("/", ".")
        flow = getattr(importlib.import_module(module), name)
        assert alert_secretariat in flow.on_failure_hooks, spec["name"]
        assert alert_secretariat in flow.on_crashed_hooks, spec["name"]


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
