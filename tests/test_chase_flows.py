"""open_round and chase_submissions on a real Prefect server, sending to a real SMTP server."""

import email
import email.policy
import os
import subprocess
import sys
from datetime import datetime

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import TaskRunSort
from prefect.settings import PREFECT_API_URL
from sqlmodel import Session, select

from domain.dates import TZ
from flows.chase import TASKS, chase_submissions, open_round
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Deadline, OutboxMessage, Submission, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN, ROOT

MONDAY = datetime(2020, 2, 24, 8, 0, tzinfo=TZ)  # before-7 of the registration deadline
FOCAL_EMAILS = 10  # nine units, one of them with two addresses


@pytest.fixture
def active_plan(db):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    return db


@pytest.fixture
def mail(prefect_server, active_plan, settings_for, smtp_server):
    settings_for(
        active_plan,
        THIDUA_SMTP_URL=smtp_server.url + "?timeout=5",
        THIDUA_PUBLIC_URL="https://thidua.example.gov.vn",
    )
    return smtp_server.handler


def _received(handler) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in handler.accepted]


def test_chase_reminds_every_unit_that_owes_and_sends_the_digest(mail, active_plan):
    rows = chase_submissions(as_of=MONDAY)
    received = _received(mail)
    reminders = [m for m in received if "Nhắc hạn" in m["Subject"]]
    assert len(reminders) == FOCAL_EMAILS and len(rows) == FOCAL_EMAILS + 1
    assert {m["Subject"] for m in reminders} == {
        "[Thi đua 2020] Nhắc hạn: Gửi đăng ký danh hiệu thi đua năm 2020 – hạn cuối 04/03/2020"
    }
    syt = next(m for m in reminders if m["To"] == "vanphong.syt@bacgiang.gov.vn.example")
    text = syt.get_body(("plain",)).get_content()
    assert text.startswith("Kính gửi: Sở Y tế") and "Còn 7 ngày làm việc" in text
    assert "https://thidua.example.gov.vn/don-vi/" in text and "/calendars/private/" in text
    (digest,) = [m for m in received if "Tình hình nộp hồ sơ" in m["Subject"]]
    assert digest["To"] == "dongbl.stttt@bacgiang.gov.vn.example"
    text = digest.get_body(("plain",)).get_content()
    assert "Gửi đăng ký danh hiệu thi đua năm 2020 (hạn cuối: hết ngày 04/03/2020):" in text
    assert "- Sở Y tế: Chưa nộp" in text and "dang-ky" not in text
    assert "/quan-tri" in text


def test_chase_run_again_the_same_day_sends_nothing_more(mail):
    chase_submissions(as_of=MONDAY)
    count = len(mail.accepted)
    chase_submissions(as_of=MONDAY.replace(hour=14))
    assert len(mail.accepted) == count


def test_dry_run_decides_but_stores_and_sends_nothing(mail, active_plan):
    rows = chase_submissions(as_of=MONDAY, dry_run=True, unit="syt")
    assert [row["Loại thư"] for row in rows] == ["nhắc trước hạn 7 ngày làm việc"]
    assert mail.accepted == []
    with Session(active_plan.engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_filters_limit_the_run_to_one_unit_and_deadline(mail):
    rows = chase_submissions(as_of=MONDAY, deadline="dang-ky", unit="sgddt")
    assert sorted(row["Người nhận"] for row in rows) == [
        "thiduakhenthuong.sgddt@bacgiang.gov.vn.example",
        "vanphong.sgddt@bacgiang.gov.vn.example",
    ]
    assert len(mail.accepted) == 2


def _paper_registration(db, unit_code: str, at: datetime) -> None:
    """`unit_code`'s registration (dang-ky), received on paper at `at`."""
    with session_scope(db.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == unit_code)).one()
        deadline = session.exec(select(Deadline).where(Deadline.code == "dang-ky")).one()
        session.add(
            Submission(
                deadline_id=deadline.id,
                unit_id=unit.id,
                version=1,
                channel="paper",
                received_at=at,
            )
        )


def test_a_recorded_submission_stops_that_units_reminders(mail, active_plan):
    _paper_registration(active_plan, "syt", datetime(2020, 2, 21, 9, 0, tzinfo=TZ))
    chase_submissions(as_of=MONDAY)
    recipients = {m["To"] for m in _received(mail)}
    assert "vanphong.syt@bacgiang.gov.vn.example" not in recipients
    assert "vanphong.bdt@bacgiang.gov.vn.example" in recipients


def test_round_is_announced_once_with_the_registration_request(mail):
    open_round(as_of=MONDAY)
    open_round(as_of=MONDAY.replace(day=25))
    subjects = [
        m["Subject"] for m in _received(mail) if m["To"] == "vanphong.syt@bacgiang.gov.vn.example"
    ]
    assert subjects == [
        "[Thi đua 2020] Phát động Đợt thi đua thứ nhất (01/01/2020 – 30/06/2020)",
        "[Thi đua 2020] Đề nghị gửi đăng ký thi đua trước ngày 05/3/2020",
    ]
    assert len(mail.accepted) == 2 * FOCAL_EMAILS


def test_nothing_is_sent_on_a_weekend(mail):
    assert chase_submissions(as_of=datetime(2020, 2, 29, 9, 0, tzinfo=TZ)) == []
    assert open_round(as_of=datetime(2020, 3, 1, 9, 0, tzinfo=TZ)) == []
    assert mail.accepted == []


CHASE = "from flows.chase import chase_submissions; from datetime import datetime; from domain.dates import TZ; chase_submissions(as_of=datetime(2020, 3, 11, 8, 0, tzinfo=TZ))"


def test_two_chase_runs_at_once_send_each_email_exactly_once(mail, active_plan, smtp_server):
    env = {
        **os.environ,
        **active_plan.env,
        "THIDUA_SMTP_URL": smtp_server.url,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "THIDUA_SMTP_CONNECTIONS": "2",
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", CHASE],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    ids = [m["Message-ID"] for m in _received(mail)]
    assert len(ids) == len(set(ids))
    with Session(active_plan.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert len(ids) == len(rows) and all(row.status == "sent" for row in rows)
    # overdue-2 of registration is escalated: focal points, the 9 leaders and the secretariat
    # about each of the 9 units, and the digest. For the head unit the secretariat is its own
    # focal point (same address), and one address gets one email per decision.
    assert len(rows) == FOCAL_EMAILS + 9 + (9 - 1) + 1


def test_outbox_command_lists_what_was_sent(mail, active_plan):
    chase_submissions(as_of=MONDAY, unit="bdt")
    out = active_plan.cli("outbox", check=True).stdout
    assert "đã gửi" in out and "nhắc trước hạn 7 ngày làm việc" in out
    assert "vanphong.bdt@bacgiang.gov.vn.example" in out and "before-7" not in out
    assert "[Thi đua 2020] Nhắc hạn: Gửi đăng ký danh hiệu thi đua năm 2020" in out
    assert (
        active_plan.cli("outbox", "--status", "failed", check=True)
        .stdout.strip()
        .endswith("Không có thư nào.")
    )


def test_without_smtp_emails_are_written_as_eml_files(prefect_server, active_plan, settings_for):
    settings_for(active_plan)
    rows = chase_submissions(as_of=MONDAY, unit="syt")
    files = list((active_plan.data_dir / "outbox").glob("*.eml"))
    assert len(files) == len(rows) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "vanphong.syt@bacgiang.gov.vn.example"
    assert "thư được ghi thành tệp .eml" in active_plan.cli("outbox", check=True).stdout


def test_a_paper_submission_recorded_by_the_secretariat_stops_reminders(mail, active_plan):
    recorded = active_plan.cli(
        "submission",
        "record",
        "syt",
        "dang-ky",
        "--at",
        "2020-02-21 09:00",
        "--note",
        "Công văn số 12/SYT",
        check=True,
    )
    assert (
        "Đã ghi nhận Sở Y tế – Gửi đăng ký danh hiệu thi đua năm 2020, lần 1, lúc 09:00 21/02/2020."
        in recorded.stdout
    )
    chase_submissions(as_of=MONDAY)
    recipients = {m["To"] for m in _received(mail) if "Nhắc hạn" in m["Subject"]}
    assert (
        "vanphong.syt@bacgiang.gov.vn.example" not in recipients
        and len(recipients) == FOCAL_EMAILS - 1
    )


@pytest.mark.parametrize("smtp", [False, True], ids=["eml-files", "smtp"])
def test_the_run_log_says_whether_mail_was_sent_or_only_written_as_files(
    active_plan, smtp_server, smtp
):
    import logging

    from config.settings import Settings
    from flows.chase import chase_decisions, mail_run

    settings = Settings(
        data_dir=active_plan.data_dir,
        database_url=active_plan.url,
        smtp_url=f"{smtp_server.url}?timeout=5" if smtp else None,
    )
    lines: list[str] = []
    log = logging.getLogger(f"test-run-log-{smtp}")
    log.addHandler(handler := logging.Handler())
    handler.emit = lambda record: lines.append(record.getMessage())
    log.setLevel(logging.INFO)
    rows = mail_run(
        chase_decisions, engine=active_plan.engine, settings=settings, instant=MONDAY, log=log
    )
    (summary,) = [line for line in lines if "hẹn gửi lại" in line]
    if smtp:
        assert summary.startswith(f"đã gửi {len(rows)} thư qua máy chủ SMTP")
        assert len(smtp_server.handler.accepted) == len(rows)
    else:
        folder = active_plan.data_dir / "outbox"
        assert summary.startswith(f"đã ghi {len(rows)} thư thành tệp .eml vào {folder}")
        assert "chưa gửi đi" in summary and len(list(folder.glob("*.eml"))) == len(rows)


def _digests(handler) -> list[str]:
    return [m["Date"] for m in _received(handler) if "Tình hình nộp hồ sơ" in m["Subject"]]


def test_the_digest_goes_when_something_changed_or_a_week_passed(mail, active_plan):
    days = [MONDAY.replace(day=d) for d in (24, 25, 26, 27)]
    chase_submissions(as_of=days[0])
    chase_submissions(as_of=days[1])  # nothing changed since Monday: no digest
    assert len(_digests(mail)) == 1
    _paper_registration(active_plan, "syt", days[1].replace(hour=10))
    chase_submissions(as_of=days[2])  # Sở Y tế has submitted: a digest
    chase_submissions(as_of=days[3])
    assert len(_digests(mail)) == 2
    chase_submissions(as_of=datetime(2020, 3, 4, 8, 0, tzinfo=TZ))  # a week later, unchanged
    assert len(_digests(mail)) == 3


def _steps(state) -> tuple[str, list[tuple[str, str]]]:
    """The run's name and its task runs (task name, run name) as the Prefect API gives them."""
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
        name = client.read_flow_run(run_id).name
    return name, [(t.task_key.rsplit("-", 1)[0], t.name) for t in tasks]


def test_a_chase_run_is_named_by_its_time_and_shows_its_steps_by_name(mail):
    state = chase_submissions(as_of=datetime(2020, 2, 24, 8, 0), return_state=True)  # as typed
    assert state.is_completed()
    name, steps = _steps(state)
    assert name == "Nhắc nộp — 24/02/2020 08:00"
    assert [run for _, run in steps] == [
        "Đọc tình hình kế hoạch",
        "Quyết định thư cần gửi — kế hoạch năm 2020",
        f"Ghi {FOCAL_EMAILS + 1} thư vào hàng đợi",
        "Gửi thư trong hàng đợi",
        "Công bố bảng kết quả",
    ]


def test_a_dry_run_for_one_unit_says_so_in_its_name_and_stores_and_sends_nothing(mail):
    state = open_round(as_of=MONDAY, dry_run=True, unit="syt", return_state=True)
    name, steps = _steps(state)
    assert name == "Phát động đợt thi đua — 24/02/2020 08:00 (chạy thử, đơn vị syt)"
    assert [run for _, run in steps] == [
        "Đọc tình hình kế hoạch",
        "Quyết định thư cần gửi — kế hoạch năm 2020",
        "Công bố bảng kết quả",
    ]


def test_only_the_sending_step_retries():
    assert TASKS.send.retries == 2 and TASKS.send.retry_delay_seconds == [30, 60]
    assert all(step.retries == 0 for step in (TASKS.load, TASKS.decide, TASKS.store))
