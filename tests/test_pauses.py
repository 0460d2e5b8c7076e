"""Pauses of reminders (tạm dừng nhắc), for the whole plan or one unit, from /quan-tri or
`thidua deadline pause`: the chase sends them nothing during the pause, and after it only the
stage then current, never a backlog."""

import getpass
from datetime import date

from sqlmodel import Session, select

from flows.pause import pause_reminders
from models.tables import AuditEvent, ReminderPause
from notifications.kinds import kind_name
from tests.conftest import EXAMPLE_PLAN
from tests.test_admin import stored
from tests.test_extensions import BDT, SYT, _run
from tests.test_promises import activate

PAUSE = "/quan-tri/tam-dung/2020"
FORM = {"unit": "", "from": "2020-02-24", "to": "2020-02-28", "reason": "Giãn cách xã hội"}
UNITS = 9


def test_a_plan_wide_pause_silences_every_unit_and_sends_no_backlog_after_it(db, smtp_server):
    activate(db, EXAMPLE_PLAN)  # dang-ky: before-7 on 24/02, before-3 on 27/02, before-1 on 03/03
    paused = db.cli(
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
    assert "cho mọi đơn vị từ ngày 24/02/2020 đến hết ngày 28/02/2020" in paused.stdout
    assert _run(db, smtp_server, 24, 2) == {}
    assert _run(db, smtp_server, 27, 2) == {}
    after = _run(db, smtp_server, 2)  # only the stage now current: before-3, not before-7
    assert len(after) == UNITS and set(map(frozenset, after.values())) == {
        frozenset({kind_name("before-3")})
    }
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "pause")).all()
    assert event.actor == getpass.getuser() and event.details["unit"] is None


def test_a_units_pause_silences_that_unit_only(portal, admin_portal, db, smtp_server):
    form = {**FORM, "unit": "syt", "to": "2020-02-24", "csrf": admin_portal.csrf}
    answer = admin_portal.post(PAUSE, data=form)
    assert answer.status_code == 200
    assert "Đã tạm dừng nhắc hạn cho Sở Y tế từ ngày 24/02/2020 đến hết ngày 24/02/2020." in (
        answer.text
    )
    monday = _run(db, smtp_server, 24, 2)
    assert SYT not in monday and monday[BDT] == {kind_name("before-7")}
    assert _run(db, smtp_server, 25, 2) == {SYT: {kind_name("before-7")}}
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "pause")).all()
    assert event.actor == "vanphong" and event.key == "syt"


REFUSALS = [
    ({"unit": "khong-co"}, "Đơn vị: không có đơn vị “khong-co” trong kế hoạch năm 2020."),
    ({"to": "2020-02-20"}, "Đến ngày: 20/02/2020 trước ngày bắt đầu 24/02/2020."),
    ({"from": "2019-12-30"}, "Từ ngày: 30/12/2019 nằm ngoài năm của kế hoạch (2020)."),
    ({"to": ""}, "Đến ngày: hãy nhập một ngày (dd/mm/yyyy)."),
    ({"reason": ""}, "Lý do: hãy ghi lý do tạm dừng nhắc."),
]


def test_a_refused_or_cross_site_pause_stores_nothing(admin_portal, db):
    before = stored(db.engine)
    for changes, message in REFUSALS:
        refused = admin_portal.post(PAUSE, data={**FORM, "csrf": admin_portal.csrf, **changes})
        assert refused.status_code == 422 and message in refused.text, changes
    cross = admin_portal.post(
        PAUSE,
        data={**FORM, "csrf": admin_portal.csrf},
        headers={"Origin": "https://ke-gian.example"},
    )
    assert cross.status_code == 403 and admin_portal.post(PAUSE, data=FORM).status_code == 403
    assert stored(db.engine) == before
    with Session(db.engine) as session:
        assert session.exec(select(ReminderPause)).all() == []


def test_a_pause_asked_from_the_prefect_ui_silences_the_unit_and_a_refusal_fails_the_run(
    prefect_server, db, settings_for, smtp_server
):
    """The `pause-reminders` flow (its deployment's run form) stores the same pause as the CLI,
    audited under the name given; a bad request fails the run in Vietnamese, storing nothing."""
    activate(db, EXAMPLE_PLAN)
    settings_for(db)
    bad = pause_reminders(
        starts_on=date(2020, 2, 24), ends_on=date(2021, 1, 1), unit="syt", return_state=True
    )
    assert bad.is_failed()
    assert "Đến ngày: 01/01/2021 nằm ngoài năm của kế hoạch (2020)." in bad.message
    assert "Lý do: hãy ghi lý do tạm dừng nhắc. Chưa ghi gì." in bad.message
    with Session(db.engine) as session:
        assert session.exec(select(ReminderPause)).all() == []
    message = pause_reminders(
        starts_on=date(2020, 2, 24),
        ends_on=date(2020, 2, 24),
        reason="Phong tỏa",
        unit="syt",
        actor="Nguyễn Văn A",
    )
    assert message.startswith("Đã tạm dừng nhắc hạn cho Sở Y tế từ ngày 24/02/2020")
    monday = _run(db, smtp_server, 24, 2)
    assert SYT not in monday and monday[BDT] == {kind_name("before-7")}
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "pause")).all()
    assert (event.actor, event.key) == ("Nguyễn Văn A", "syt")
