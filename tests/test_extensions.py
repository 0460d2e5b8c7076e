"""Extensions (gia hạn): one unit given a later last day on one deadline, from /quan-tri or
`thidua deadline extend`. Its reminders count from the new day, its status, page, overview and
private feed follow at once; the bloc feed and the other units keep the plan's day."""

import email
import email.policy
import getpass
import re
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from calendars.publish import bloc_feed_key, publish_all
from domain.dates import TZ
from flows.chase import chase_decisions, mail_run
from models.db import session_scope
from models.links import Links
from models.tables import AuditEvent, Extension, Feed, Unit
from notifications.kinds import kind_name
from tests.conftest import EXAMPLE_PLAN
from tests.test_admin import stored
from tests.test_promises import LOG, activate, settings

EXTEND = "/quan-tri/gia-han/2020"
GRANT = {"unit": "syt", "deadline": "dang-ky", "until": "2020-03-11", "reason": "Phòng chống dịch"}
SYT, BDT = "Sở Y tế", "Ban Dân tộc tỉnh"


def _grant(client: httpx.Client, **changes: str) -> httpx.Response:
    return client.post(EXTEND, data={**GRANT, "csrf": client.csrf, **changes})


def _unit_id(db, code: str) -> int:
    with Session(db.engine) as session:
        return session.exec(select(Unit.id).where(Unit.code == code)).one()


def _feed_body(db, key: str) -> bytes:
    with Session(db.engine) as session:
        return session.exec(select(Feed.body).where(Feed.key == key)).one()


def _first_cell(page: str, unit: str) -> str:
    """The unit's cell of the overview's first deadline (the registration)."""
    return re.search(rf'<th scope="row"><a [^>]*>{unit}</a></th><td>(.*?)</td>', page).group(1)


def _served_feed(client: httpx.Client, portal, db, code: str, containing: str) -> str:
    """The unit's private feed as the portal serves it, once it holds `containing` (the portal
    reloads published feeds every `feed_refresh_seconds`)."""
    with Session(db.engine) as session:
        url = Links("", portal.settings.signing_key()).unit_feed_url(session, _unit_id(db, code))
    for _ in range(50):
        body = client.get(url).text
        if containing in body:
            break
        time.sleep(0.1)
    return body


def test_an_extension_moves_the_units_page_overview_and_private_feed_and_nothing_else(
    portal, admin_portal, db
):
    with session_scope(db.engine) as session:
        publish_all(session, as_of=datetime.now(UTC))
    bloc_feed = _feed_body(db, bloc_feed_key("bg-vhxh", 2020))
    bdt_feed = _feed_body(db, f"unit/{_unit_id(db, 'bdt')}")

    granted = _grant(admin_portal)

    assert granted.status_code == 200
    assert (
        "Đã gia hạn “Gửi đăng ký danh hiệu thi đua năm 2020” cho Sở Y tế đến hết ngày 11/03/2020 "
        "(hạn cuối của kế hoạch: 04/03/2020)." in granted.text
    )
    assert granted.text.count("Gia hạn đến 11/03/2020") == 1  # syt's cell only
    admin_portal.clock.at = datetime(2020, 3, 10, 9, 0, tzinfo=TZ)  # after 04/03, before 11/03
    overview = admin_portal.get("/quan-tri").text
    assert "Chưa nộp" in _first_cell(overview, SYT) and "Quá hạn" in _first_cell(overview, BDT)
    syt_page = admin_portal.get(portal.paths["syt"]).text
    assert "đơn vị được gia hạn, hạn cuối: hết ngày <strong>Thứ Tư, 11/03/2020" in syt_page
    bdt_page = admin_portal.get(portal.paths["bdt"]).text
    assert "gia hạn" not in bdt_page and "hết ngày <strong>Thứ Tư, 04/03/2020" in bdt_page
    feed = _served_feed(admin_portal, portal, db, "syt", "DTSTART;VALUE=DATE:20200311")
    assert "DTSTART;VALUE=DATE:20200311" in feed and "được gia hạn" in feed.replace("\r\n ", "")
    assert _feed_body(db, bloc_feed_key("bg-vhxh", 2020)) == bloc_feed
    assert _feed_body(db, f"unit/{_unit_id(db, 'bdt')}") == bdt_feed
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "extend")).all()
    assert event.actor == "vanphong" and event.key == "dang-ky/syt"
    assert event.details["until"] == "2020-03-11" and event.details["reason"] == GRANT["reason"]


REFUSALS = [
    ({"unit": "khong-co"}, "Đơn vị: không có đơn vị “khong-co” trong kế hoạch năm 2020."),
    ({"deadline": "khong-co"}, "Hạn nộp: không có hạn nộp “khong-co” trong kế hoạch năm 2020."),
    ({"unit": "bdt", "deadline": "so-ket-khong"}, "Hạn nộp: không có hạn nộp"),
    ({"until": "2020-03-04"}, "04/03/2020 không sau hạn cuối của kế hoạch (04/03/2020)"),
    ({"until": "2021-01-05"}, "05/01/2021 nằm ngoài năm của kế hoạch (2020)"),
    ({"until": "mai"}, "Gia hạn đến ngày: hãy nhập một ngày (dd/mm/yyyy)."),
    ({"reason": "   "}, "Lý do: hãy ghi lý do gia hạn."),
]


def test_a_refused_extension_says_why_in_vietnamese_and_stores_nothing(admin_portal, db):
    before = stored(db.engine)
    for changes, message in REFUSALS:
        refused = _grant(admin_portal, **changes)
        assert refused.status_code == 422 and message in refused.text, changes
    assert stored(db.engine) == before


def test_a_unit_that_does_not_owe_the_deadline_is_refused(admin_portal, db):
    before = stored(db.engine)
    refused = _grant(admin_portal, unit="stttt", deadline="so-ket", until="2020-06-30")
    assert refused.status_code == 422
    assert "Hạn nộp: Sở Thông tin và Truyền thông không phải nộp" in refused.text
    assert stored(db.engine) == before


def test_a_cross_site_or_tokenless_extension_changes_nothing(admin_portal, db):
    before = stored(db.engine)
    cross = admin_portal.post(
        EXTEND,
        data={**GRANT, "csrf": admin_portal.csrf},
        headers={"Origin": "https://ke-gian.example"},
    )
    tokenless = admin_portal.post(EXTEND, data=GRANT)
    assert cross.status_code == 403 and "không được gửi từ trang quản trị" in cross.text
    assert tokenless.status_code == 403 and "thiếu mã xác thực" in tokenless.text
    assert stored(db.engine) == before


# --- The chase, through the command ---------------------------------------------------------


def _run(db, smtp_server, day: int, month: int = 3) -> dict[str, set[str]]:
    """One run of the chase at 08:00 on the day: the reminder stages each unit was sent."""
    rows = mail_run(
        chase_decisions,
        engine=db.engine,
        settings=settings(db, smtp_server),
        instant=datetime(2020, month, day, 8, 0, tzinfo=TZ),
        log=LOG,
    )
    stages: dict[str, set[str]] = {}
    for row in rows:
        if row["Loại thư"] != kind_name("digest"):
            stages.setdefault(row["Đơn vị"], set()).add(row["Loại thư"])
    return stages


def _subjects_to(smtp_server, address: str) -> list[str]:
    messages = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in smtp_server.handler.accepted
    ]
    return [m["Subject"] for m in messages if m["To"] == address]


SYT_MAIL = "vanphong.syt@bacgiang.gov.vn.example"
EXTEND_SYT = ["deadline", "extend", "syt", "dang-ky", "--until", "2020-03-11", "--reason", "Dịch"]


def test_an_extended_unit_is_chased_from_its_new_day_and_is_on_time_before_it(db, smtp_server):
    activate(db, EXAMPLE_PLAN)  # dang-ky: last day Wednesday 04/03/2020
    assert _run(db, smtp_server, 24, 2)[SYT] == {kind_name("before-7")}  # the plan's schedule
    extended = db.cli(*EXTEND_SYT, check=True)
    assert "cho Sở Y tế đến hết ngày 11/03/2020" in extended.stdout

    # 02/03: the others are at before-3 of 04/03; syt starts afresh at before-7 of 11/03.
    monday = _run(db, smtp_server, 2)
    assert monday[SYT] == {kind_name("before-7")} and monday[BDT] == {kind_name("before-3")}
    assert _subjects_to(smtp_server, SYT_MAIL)[-1].endswith("hạn cuối 11/03/2020")
    thursday = _run(db, smtp_server, 5)
    assert SYT not in thursday and thursday[BDT] == {kind_name("overdue-1")}
    assert _run(db, smtp_server, 6) == {SYT: {kind_name("before-3")}}

    recorded = db.cli(
        "submission", "record", "syt", "dang-ky", "--at", "2020-03-11 15:00", check=True
    )
    assert "nộp muộn" not in recorded.stdout
    status = db.cli("status", "--as-of", "2020-03-12T08:00", check=True).stdout
    (syt_row,) = [line for line in status.splitlines() if line.startswith("syt ")]
    assert "Đã nộp" in syt_row and "Nộp muộn" not in syt_row
    assert SYT not in _run(db, smtp_server, 12)
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "extend")).all()
        assert event.actor == getpass.getuser()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--until", "2020-03-04", "--reason", "Dịch"], "không sau hạn cuối của kế hoạch"),
        (["--until", "2020-03-11", "--reason", " "], "Lý do: hãy ghi lý do gia hạn."),
    ],
)
def test_the_command_refuses_in_one_line_and_stores_nothing(db, options, message):
    activate(db, EXAMPLE_PLAN)
    refused = db.cli(*EXTEND_SYT[:4], *options)
    assert refused.returncode == 1 and message in refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    with Session(db.engine) as session:
        assert session.exec(select(Extension)).all() == []
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "extend")).all() == []
