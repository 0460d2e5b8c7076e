"""Feeds: valid RFC 5545 read by two independent parsers, stable UIDs, SEQUENCE on edits,
CANCELLED on removal, live status in private feeds."""

import base64
import hashlib
import hmac
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from pydantic import SecretStr
from sqlmodel import Session, select

from calendars.publish import CANCELLED_GRACE, bloc_feed_key, publish_feeds, unit_feed_key
from config.settings import Settings
from models.db import session_scope
from models.links import Links, subscribe_links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Deadline, Feed, Submission, Unit, YearPlan

T0 = datetime(2020, 2, 20, 2, 0, tzinfo=UTC)  # 09:00 20/02/2020 in Hà Nội: the plan is activated


@pytest.fixture
def settings(db, tmp_path) -> Settings:
    return Settings(
        data_dir=db.data_dir, database_url=db.url, public_url="https://thidua.example.gov.vn"
    )


@pytest.fixture
def publish(db, settings, write_plan):
    """Load plan text (activated) and publish the feeds as of an instant; returns feed bytes."""

    def run(text: str, as_of: datetime = T0) -> dict[str, bytes]:
        plan_file = read_plan(write_plan(text))
        with session_scope(db.engine) as session:
            load_plan(session, plan_file, actor="test")
            plan = session.exec(select(YearPlan)).one()
            plan.state = "active"
            session.add(plan)
            publish_feeds(session, settings=settings, as_of=as_of)
        return feeds(db)

    return run


def feeds(db) -> dict[str, bytes]:
    with Session(db.engine) as session:
        return {feed.key: feed.body for feed in session.exec(select(Feed)).all()}


def unit_key(db, code: str) -> str:
    with Session(db.engine) as session:
        return unit_feed_key(session.exec(select(Unit).where(Unit.code == code)).one().id)


def events(body: bytes) -> dict[str, dict]:
    """VEVENTs by UID, parsed by icalendar, with no parse errors anywhere."""
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert not component.errors, component.errors
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


BLOC = bloc_feed_key("bg-vhxh", 2020)


def test_bloc_feed_is_valid_for_two_independent_parsers(publish, plan_text):
    body = publish(plan_text)[BLOC]
    strict = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    assert len(strict.events) == 2 + 5 + 3 + 2
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # folding never splits a Vietnamese letter
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and "thidua" in calendar["PRODID"]
    assert (
        calendar["NAME"]
        == calendar["X-WR-CALNAME"]
        == ("Khối thi đua các cơ quan lĩnh vực Văn hóa - Xã hội năm 2020")
    )
    assert "X-WR-CALDESC" in calendar and "DESCRIPTION" in calendar
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n" in body
    assert b"X-PUBLISHED-TTL:PT4H\r\n" in body
    assert b"METHOD:" not in body
    for event in events(body).values():
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "LAST-MODIFIED", "SUMMARY"):
            assert name in event, name
        assert event["DTSTAMP"].dt == event["LAST-MODIFIED"].dt == T0


@pytest.mark.parametrize(
    ("uid", "start", "end"),
    [
        ("bg-vhxh-2020-round-dot-1@thidua", date(2020, 1, 1), date(2020, 7, 1)),
        ("bg-vhxh-2020-round-dot-2@thidua", date(2020, 7, 1), date(2021, 1, 1)),
        ("bg-vhxh-2020-anniversary-20200203@thidua", date(2020, 2, 3), date(2020, 2, 4)),
        ("bg-vhxh-2020-deadline-dang-ky@thidua", date(2020, 3, 4), date(2020, 3, 5)),
        ("bg-vhxh-2020-deadline-so-ket@thidua", date(2020, 6, 19), date(2020, 6, 20)),
        ("bg-vhxh-2020-deadline-tong-ket@thidua", date(2020, 12, 9), date(2020, 12, 10)),
    ],
)
def test_all_day_events_end_the_day_after_their_last_day(publish, plan_text, uid, start, end):
    event = events(publish(plan_text)[BLOC])[uid]
    assert event["DTSTART"].dt == start and type(event["DTSTART"].dt) is date
    assert event["DTEND"].dt == end and type(event["DTEND"].dt) is date
    assert event["TRANSP"] == "TRANSPARENT"


def test_deadline_title_keeps_the_plans_wording(publish, plan_text):
    event = events(publish(plan_text)[BLOC])["bg-vhxh-2020-deadline-so-ket@thidua"]
    assert event["SUMMARY"] == (
        "Hạn nộp: Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020 (trước ngày 20/6/2020)"
    )
    assert "hạn cuối: hết ngày 19/06/2020" in event["DESCRIPTION"]


def test_a_meeting_only_bounded_by_a_day_sits_on_its_latest_day_and_says_it_is_unscheduled(
    publish, plan_text
):
    bounded = events(publish(plan_text)[BLOC])["bg-vhxh-2020-meeting-giao-ban-6-thang@thidua"]
    assert (bounded["DTSTART"].dt, bounded["DTEND"].dt) == (date(2020, 7, 9), date(2020, 7, 10))
    assert "Ngày họp cụ thể sẽ được thông báo sau." in bounded["DESCRIPTION"]
    dated = plan_text.replace("    before: 2020-07-10\n", "    date: 2020-07-08\n")
    meeting = events(publish(dated)[BLOC])["bg-vhxh-2020-meeting-giao-ban-6-thang@thidua"]
    assert meeting["DTSTART"].dt == date(2020, 7, 8)
    assert "thông báo sau" not in meeting["DESCRIPTION"]


def test_a_meeting_held_over_a_month_spans_it_in_the_feed_and_the_timeline(db, publish, plan_text):
    span = plan_text.replace(
        "    wording: trước ngày 10/7/2020\n    before: 2020-07-10\n",
        "    wording: trong tháng 6/2020\n    date: 2020-06-01\n    until: 2020-06-30\n",
    )
    assert span != plan_text
    meeting = events(publish(span)[BLOC])["bg-vhxh-2020-meeting-giao-ban-6-thang@thidua"]
    assert (meeting["DTSTART"].dt, meeting["DTEND"].dt) == (date(2020, 6, 1), date(2020, 7, 1))
    assert "thông báo sau" not in meeting["DESCRIPTION"]
    shown = db.cli("plan", "show", check=True).stdout
    assert re.search(
        r"^Thứ Hai, 01/06/2020 +Họp: Giao ban .* — từ 01/06/2020 đến 30/06/2020$", shown, re.M
    )


def test_timed_meeting_uses_tzid_and_the_feed_declares_the_timezone(publish, plan_text):
    text = plan_text.replace(
        "    before: 2020-07-10\n", '    date: 2020-07-08\n    start: "14:00"\n    end: "16:30"\n'
    )
    body = publish(text)[BLOC]
    assert b"DTSTART;TZID=Asia/Ho_Chi_Minh:20200708T140000\r\n" in body
    assert b"DTEND;TZID=Asia/Ho_Chi_Minh:20200708T163000\r\n" in body
    calendar = Calendar.from_ical(body)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert calendar.get_missing_tzids() == set()
    assert body.index(b"BEGIN:VTIMEZONE") < body.index(b"BEGIN:VEVENT")
    assert IcsCalendarStream.calendar_from_ics(body.decode()).events


def test_regenerating_keeps_uids_and_bytes(db, publish, plan_text, settings):
    first = publish(plan_text)
    with session_scope(db.engine) as session:
        changed = publish_feeds(session, settings=settings, as_of=T0 + timedelta(days=3))
    assert changed == []
    assert feeds(db) == first


def test_editing_a_deadline_bumps_its_sequence_and_last_modified(publish, plan_text):
    publish(plan_text)
    later = T0 + timedelta(days=10)
    edited = plan_text.replace("    date: 2020-06-20\n", "    date: 2020-06-25\n")
    after = events(publish(edited, as_of=later)[BLOC])
    moved = after["bg-vhxh-2020-deadline-so-ket@thidua"]
    assert moved["SEQUENCE"] == 1 and moved["LAST-MODIFIED"].dt == later
    assert moved["DTSTART"].dt == date(2020, 6, 24)
    untouched = after["bg-vhxh-2020-deadline-dang-ky@thidua"]
    assert untouched["SEQUENCE"] == 0 and untouched["LAST-MODIFIED"].dt == T0


def test_removed_event_is_published_cancelled_then_disappears(db, publish, plan_text, settings):
    publish(plan_text)
    start = plan_text.index("  - code: tong-ket-nam\n")
    without = plan_text[:start] + plan_text[plan_text.index("\n# Default score sheet") :]
    uid = "bg-vhxh-2020-meeting-tong-ket-nam@thidua"
    cancelled = events(publish(without, as_of=T0 + timedelta(days=1))[BLOC])[uid]
    assert cancelled["STATUS"] == "CANCELLED" and cancelled["SEQUENCE"] == 1
    with session_scope(db.engine) as session:
        publish_feeds(
            session,
            settings=settings,
            as_of=T0 + timedelta(days=1) + CANCELLED_GRACE + timedelta(seconds=1),
        )
    assert uid not in events(feeds(db)[BLOC])


def _submit(db, unit_code: str, deadline_code: str, at: datetime) -> None:
    with session_scope(db.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == unit_code)).one()
        deadline = session.exec(select(Deadline).where(Deadline.code == deadline_code)).one()
        session.add(
            Submission(
                deadline_id=deadline.id, unit_id=unit.id, version=1, channel="paper", received_at=at
            )
        )


def test_private_feed_titles_carry_the_units_live_status(db, publish, plan_text, settings):
    publish(plan_text)
    _submit(db, "syt", "dang-ky", datetime(2020, 3, 2, 3, tzinfo=UTC))
    _submit(db, "syt", "so-ket", datetime(2020, 6, 22, 3, tzinfo=UTC))
    as_of = datetime(2020, 11, 2, 2, tzinfo=UTC)
    with session_scope(db.engine) as session:
        publish_feeds(session, settings=settings, as_of=as_of)
    syt = events(feeds(db)[unit_key(db, "syt")])
    summaries = {
        uid.split("-deadline-")[1]: str(e["SUMMARY"])
        for uid, e in syt.items()
        if "-deadline-" in uid
    }
    assert summaries["dang-ky-syt@thidua"].startswith("[Đã nộp] Hạn nộp: Gửi đăng ký")
    assert summaries["so-ket-syt@thidua"].startswith("[Nộp muộn] Hạn nộp: Báo cáo sơ kết")
    assert summaries["tong-ket-syt@thidua"].startswith("[Chưa nộp] Hạn nộp: Báo cáo tổng kết")
    other = events(feeds(db)[unit_key(db, "bdt")])
    assert str(other["bg-vhxh-2020-deadline-dang-ky-bdt@thidua"]["SUMMARY"]).startswith("[Quá hạn]")
    pending = syt["bg-vhxh-2020-deadline-tong-ket-syt@thidua"]
    triggers = sorted(alarm["TRIGGER"].dt for alarm in pending.walk("VALARM"))
    assert triggers == [-timedelta(days=6, hours=15), -timedelta(hours=15)]
    assert all(
        alarm["ACTION"] == "DISPLAY" and alarm["DESCRIPTION"] for alarm in pending.walk("VALARM")
    )
    assert not syt["bg-vhxh-2020-deadline-dang-ky-syt@thidua"].walk("VALARM")
    assert syt["bg-vhxh-2020-deadline-dang-ky-syt@thidua"]["SEQUENCE"] == 1  # title changed


def test_private_feed_holds_only_the_units_own_deadlines_and_says_where_to_submit(
    db, publish, plan_text, settings
):
    text = plan_text.replace("    date: 2020-06-20\n", "    date: 2020-06-20\n    owed_by: [syt]\n")
    publish(text)
    sgddt = events(feeds(db)[unit_key(db, "sgddt")])
    assert not any("so-ket" in uid for uid in sgddt)
    assert {uid for uid in sgddt if "-deadline-" in uid} == {
        "bg-vhxh-2020-deadline-dang-ky-sgddt@thidua",
        "bg-vhxh-2020-deadline-tong-ket-sgddt@thidua",
    }
    assert any("so-ket" in uid for uid in events(feeds(db)[unit_key(db, "syt")]))
    deadline = sgddt["bg-vhxh-2020-deadline-dang-ky-sgddt@thidua"]
    assert "URL" not in deadline  # the submission link is write-capable: never in a feed
    assert deadline["DESCRIPTION"].endswith("theo đường dẫn trong thư của khối.")


def test_feeds_carry_no_email_address_or_phone_number(publish, plan_text):
    for body in publish(plan_text).values():
        for event in events(body).values():
            text = f"{event['SUMMARY']} {event.get('DESCRIPTION', '')}"
            assert not re.search(r"[\w.]+@[\w.]+|\d{4}\.\d{3}\.\d{3}", text), text


def test_a_draft_plan_is_not_published(db, plan_text, write_plan, settings):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(plan_text)), actor="test")
        assert publish_feeds(session, settings=settings, as_of=T0) == []
    assert feeds(db) == {}


def first_token(key: str, purpose: str, unit_id: int) -> str:
    """A unit's first private token as models/access.py documents it: HMAC-SHA256 of
    "purpose:unit:generation" under the secret key, URL-safe base64 without padding."""
    digest = hmac.new(key.encode(), f"{purpose}:{unit_id}:1".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_static_files_mirror_the_urls(db, publish, plan_text, settings, tmp_path):
    settings.calendar_dir = tmp_path / "static"
    settings.secret_key = SecretStr("khoa-bi-mat-cua-bai-kiem-tra")
    bodies = publish(plan_text)
    assert (tmp_path / "static" / "bg-vhxh" / "2020.ics").read_bytes() == bodies[BLOC]
    with Session(db.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == "syt")).one()
        token = first_token("khoa-bi-mat-cua-bai-kiem-tra", "calendar", unit.id)
        url = Links(settings.base_url, settings.signing_key()).unit_feed_url(session, unit.id)
    assert url == f"https://thidua.example.gov.vn/calendars/private/{token}.ics"
    private = tmp_path / "static" / "private" / f"{token}.ics"
    assert private.read_bytes() == bodies[unit_key(db, "syt")]
    assert len(list((tmp_path / "static" / "private").glob("*.ics"))) == 9


def test_subscribe_links_are_encoded_for_each_client():
    links = subscribe_links("https://thidua.example.gov.vn/calendars/bg-vhxh/2020.ics")
    assert list(links) == ["https", "webcal", "google", "outlook"]
    assert links["webcal"] == "webcal://thidua.example.gov.vn/calendars/bg-vhxh/2020.ics"
    assert links["google"] == (
        "https://calendar.google.com/calendar/render?cid="
        "webcal%3A%2F%2Fthidua.example.gov.vn%2Fcalendars%2Fbg-vhxh%2F2020.ics"
    )
    assert links["outlook"].endswith(
        "url=https%3A%2F%2Fthidua.example.gov.vn%2Fcalendars%2Fbg-vhxh%2F2020.ics"
    )


def test_a_plain_http_feed_is_labelled_http_not_https():
    links = subscribe_links("http://127.0.0.1:8000/calendars/bg-vhxh/2020.ics")
    assert links["http"] == "http://127.0.0.1:8000/calendars/bg-vhxh/2020.ics"
    assert "https" not in links
