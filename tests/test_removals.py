"""Taking an extension or a pause away, from /quan-tri (a "Hủy" button per row) or with
`thidua deadline unextend` / `unpause`: the unit follows the plan's own deadline again (status,
page, private feed, reminders), each removal audited; a bad one refused with nothing stored."""

import getpass
import re
from datetime import datetime

import pytest
from sqlmodel import Session, select

from domain.dates import TZ
from models.tables import AuditEvent, Extension, ReminderPause
from notifications.kinds import kind_name
from tests.conftest import EXAMPLE_PLAN
from tests.test_admin import stored
from tests.test_extensions import BDT, GRANT, SYT, _first_cell, _grant, _run, _served_feed
from tests.test_promises import activate

UNEXTEND = "/quan-tri/huy-gia-han/2020"
UNPAUSE = "/quan-tri/huy-tam-dung/2020"
PAUSE_SYT = {"unit": "syt", "from": "2020-02-24", "to": "2020-02-24", "reason": "Giãn cách"}
EXTEND_SYT = ["deadline", "extend", "syt", "dang-ky", "--until", "2020-03-11", "--reason", "Dịch"]


def _pause_ids(page: str) -> list[str]:
    return re.findall(r'name="pause" value="(\d+)"', page)


def _events(db, action: str) -> list[AuditEvent]:
    with Session(db.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_the_workspace_lists_extensions_and_pauses_each_with_a_cancel_button(admin_portal, db):
    empty = admin_portal.get("/quan-tri").text
    assert "Chưa có đơn vị nào được gia hạn, chưa có lần tạm dừng nhắc nào." in empty
    assert _grant(admin_portal).status_code == 200
    pause = {**PAUSE_SYT, "unit": "", "csrf": admin_portal.csrf}
    assert admin_portal.post("/quan-tri/tam-dung/2020", data=pause).status_code == 200
    page = admin_portal.get("/quan-tri").text
    assert (
        "<strong>Gia hạn</strong>: Sở Y tế – Gửi đăng ký danh hiệu thi đua năm 2020, đến hết ngày "
        "11/03/2020 (hạn cuối của kế hoạch 04/03/2020)." in page
    )
    assert "<strong>Tạm dừng nhắc</strong>: Mọi đơn vị của khối, từ ngày 24/02/2020" in page
    assert 'aria-label="Hủy gia hạn Gửi đăng ký danh hiệu thi đua năm 2020 của Sở Y tế"' in page
    assert len(_pause_ids(page)) == 1 and page.count(">Hủy</button>") == 2


def test_cancelling_an_extension_puts_the_unit_back_on_the_plans_day_at_once(
    portal, admin_portal, db
):
    assert _grant(admin_portal).status_code == 200
    _served_feed(admin_portal, portal, db, "syt", "DTSTART;VALUE=DATE:20200311")
    form = {"unit": "syt", "deadline": "dang-ky", "csrf": admin_portal.csrf}
    cancelled = admin_portal.post(UNEXTEND, data=form)
    assert cancelled.status_code == 200
    assert (
        "Đã hủy gia hạn “Gửi đăng ký danh hiệu thi đua năm 2020” cho Sở Y tế: hạn cuối trở lại "
        "hết ngày 04/03/2020." in cancelled.text
    )
    admin_portal.clock.at = datetime(2020, 3, 10, 9, 0, tzinfo=TZ)
    overview = admin_portal.get("/quan-tri").text
    assert "Quá hạn" in _first_cell(overview, SYT) and "Gia hạn đến 11/03" not in overview
    syt_page = admin_portal.get(portal.paths["syt"]).text
    assert "gia hạn" not in syt_page and "hết ngày <strong>Thứ Tư, 04/03/2020" in syt_page
    feed = _served_feed(admin_portal, portal, db, "syt", "DTSTART;VALUE=DATE:20200304")
    assert "DTSTART;VALUE=DATE:20200311" not in feed
    (event,) = _events(db, "extend.removed")
    assert (event.actor, event.key) == ("vanphong", "dang-ky/syt")
    assert event.details["previous_until"] == "2020-03-11"
    assert event.details["reason"] == GRANT["reason"]
    with Session(db.engine) as session:
        assert session.exec(select(Extension)).all() == []


def test_cancelling_a_units_pause_in_the_workspace_lets_its_reminders_go(
    portal, admin_portal, db, smtp_server
):
    form = {**PAUSE_SYT, "csrf": admin_portal.csrf}
    (pause_id,) = _pause_ids(admin_portal.post("/quan-tri/tam-dung/2020", data=form).text)
    cancelled = admin_portal.post(UNPAUSE, data={"pause": pause_id, "csrf": admin_portal.csrf})
    assert cancelled.status_code == 200
    assert (
        "Đã hủy tạm dừng nhắc hạn cho Sở Y tế từ ngày 24/02/2020 đến hết ngày 24/02/2020"
        in cancelled.text
    )
    assert _pause_ids(cancelled.text) == []
    monday = _run(db, smtp_server, 24, 2)
    assert monday[SYT] == {kind_name("before-7")} and monday[BDT] == {kind_name("before-7")}
    (event,) = _events(db, "pause.removed")
    assert (event.actor, event.key, event.details["from"]) == ("vanphong", "syt", "2020-02-24")


def test_a_bad_cross_site_or_tokenless_cancellation_changes_nothing(admin_portal, db):
    assert _grant(admin_portal).status_code == 200
    (pause_id,) = _pause_ids(
        admin_portal.post(
            "/quan-tri/tam-dung/2020", data={**PAUSE_SYT, "csrf": admin_portal.csrf}
        ).text
    )
    before = stored(db.engine)
    csrf = admin_portal.csrf
    for path, form, message in [
        (
            UNEXTEND,
            {"unit": "bdt", "deadline": "dang-ky"},
            "Gia hạn: Ban Dân tộc tỉnh không được gia hạn “Gửi đăng ký danh hiệu thi đua năm 2020”.",
        ),
        (
            UNEXTEND,
            {"unit": "khong-co", "deadline": "dang-ky"},
            "Đơn vị: không có đơn vị “khong-co” trong kế hoạch năm 2020.",
        ),
        (
            UNPAUSE,
            {"pause": "999999"},
            "Tạm dừng nhắc: không có lần tạm dừng này (có thể đã được hủy).",
        ),
        (
            UNPAUSE,
            {"pause": "abc"},
            "Tạm dừng nhắc: không có lần tạm dừng này (có thể đã được hủy).",
        ),
    ]:
        refused = admin_portal.post(path, data={**form, "csrf": csrf})
        assert refused.status_code == 422 and message in refused.text, (form, refused.text[-2000:])
    for path, form in [
        (UNEXTEND, {"unit": "syt", "deadline": "dang-ky"}),
        (UNPAUSE, {"pause": pause_id}),
    ]:
        cross = admin_portal.post(
            path, data={**form, "csrf": csrf}, headers={"Origin": "https://ke-gian.example"}
        )
        tokenless = admin_portal.post(path, data=form)
        assert cross.status_code == 403 and "không được gửi từ trang quản trị" in cross.text
        assert tokenless.status_code == 403 and "thiếu mã xác thực" in tokenless.text
    assert stored(db.engine) == before


def test_unextend_from_the_cli_sends_the_plans_overdue_reminder_again(db, smtp_server):
    activate(db, EXAMPLE_PLAN)  # dang-ky: last day Wednesday 04/03/2020
    db.cli(*EXTEND_SYT, check=True)
    thursday = _run(db, smtp_server, 5)  # syt: the first stage counted from 11/03
    assert thursday[SYT] == {kind_name("before-7")} and thursday[BDT] == {kind_name("overdue-1")}
    ran = db.cli("deadline", "unextend", "syt", "dang-ky", check=True)
    assert "Đã hủy gia hạn “Gửi đăng ký danh hiệu thi đua năm 2020” cho Sở Y tế" in ran.stdout
    assert _run(db, smtp_server, 5) == {SYT: {kind_name("overdue-1")}}
    status = db.cli("status", "--as-of", "2020-03-06T08:00", check=True).stdout
    (syt_row,) = [line for line in status.splitlines() if line.startswith("syt ")]
    assert "Quá hạn" in syt_row
    (event,) = _events(db, "extend.removed")
    assert event.actor == getpass.getuser()


def test_unpause_from_the_cli_removes_the_pause_of_exactly_those_days(db, smtp_server):
    activate(db, EXAMPLE_PLAN)
    pause = ["--from", "2020-02-24", "--to", "2020-02-28"]
    db.cli("deadline", "pause", *pause, "--reason", "Dịch", check=True)
    ran = db.cli("deadline", "unpause", *pause, check=True)
    assert "Đã hủy tạm dừng nhắc hạn cho mọi đơn vị từ ngày 24/02/2020" in ran.stdout
    assert len(_run(db, smtp_server, 24, 2)) == 9  # every unit is reminded again
    with Session(db.engine) as session:
        assert session.exec(select(ReminderPause)).all() == []
    (event,) = _events(db, "pause.removed")
    assert event.actor == getpass.getuser() and event.key == "*"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["unextend", "syt", "dang-ky"], "Gia hạn: Sở Y tế không được gia hạn"),
        (
            ["unpause", "--from", "2020-02-24", "--to", "2020-02-27"],
            "không có lần tạm dừng nào của cả khối",
        ),
        (
            ["unpause", "--from", "2020-02-24", "--to", "2020-02-28", "--unit", "syt"],
            "không có lần tạm dừng nào của đơn vị “syt”",
        ),
        (["unpause", "--from", "mai", "--to", "2020-02-28"], "không có lần tạm dừng nào"),
    ],
)
def test_the_removal_commands_refuse_in_one_line_and_store_nothing(db, args, message):
    activate(db, EXAMPLE_PLAN)
    db.cli(
        "deadline",
        "pause",
        "--from",
        "2020-02-24",
        "--to",
        "2020-02-28",
        "--reason",
        "Dịch",
        check=True,
    )
    before = stored(db.engine)
    ran = db.cli("deadline", *args)
    assert ran.returncode == 1 and len(ran.stderr.splitlines()) == 1, ran.stderr
    assert message in ran.stderr and ran.stderr.rstrip().endswith("Chưa ghi gì.")
    assert stored(db.engine) == before
