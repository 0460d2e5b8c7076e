"""The bloc's public home page: the plan in force, its timeline with states by date, the calendar
subscription, and nothing private."""

import re
from datetime import date
from html import unescape
from urllib.parse import quote

import pytest
from sqlmodel import select

from domain.status import EventState, event_state
from models.db import session_scope
from models.links import Links
from models.tables import Contact, YearPlan
from portal.home import plan_section


@pytest.mark.parametrize(
    "today, expected",
    [
        pytest.param(date(2020, 2, 29), EventState.UPCOMING, id="before"),
        pytest.param(date(2020, 3, 1), EventState.CURRENT, id="first-day"),
        pytest.param(date(2020, 3, 4), EventState.CURRENT, id="last-day"),
        pytest.param(date(2020, 3, 5), EventState.PAST, id="after"),
    ],
)
def test_an_event_is_upcoming_then_under_way_then_past(today, expected):
    assert event_state(date(2020, 3, 1), date(2020, 3, 4), today) is expected


def _states(section: dict) -> dict[str, str]:
    return {e["title"][:20]: e["state"] for r in section["rounds"] for e in r["events"]}


def test_the_timeline_states_follow_the_last_day_and_the_meeting_bounds(portal, db):
    with session_scope(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        links = Links("https://thidua.example.vn", b"")
        days = ("03-03", "03-04", "03-05")
        on = {d: plan_section(session, plan, links, date.fromisoformat(f"2020-{d}")) for d in days}
        july = {d: plan_section(session, plan, links, date(2020, 7, d)) for d in (9, 10)}
    registration = "Gửi đăng ký danh hiệ"
    assert [_states(on[d])[registration] for d in ("03-03", "03-04", "03-05")] == [
        "Sắp tới",
        "Đang diễn ra",  # its last day
        "Đã qua",
    ]
    assert on["03-04"]["rounds"][0]["state"] == "Đang diễn ra"
    assert on["03-04"]["rounds"][1]["state"] == "Sắp tới"
    midyear = "Giao ban Khối thi đu"  # "trước ngày 10/7": not scheduled, never "under way"
    assert [_states(july[d])[midyear] for d in (9, 10)] == ["Sắp tới", "Đã qua"]
    assert _states(on["03-04"])[midyear] == "Sắp tới"


def test_home_page_shows_the_plan_timeline_and_the_calendar_links(portal, db):
    page = portal.get("/")
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    text = unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "Khối thi đua" in text and "Năm 2020" in text
    assert "Đợt thi đua thứ nhất" in text and "01/01/2020 – 30/06/2020" in text
    assert (
        "trước ngày 05/3/2020 – hạn cuối: hết ngày Thứ Tư, 04/03/2020" in text
    )  # the plan's words and the last day to submit
    assert "Báo cáo tổng kết công tác thi đua" in text
    assert "Chưa ấn định ngày; họp chậm nhất Thứ Năm, 09/07/2020" in text
    assert "Đã qua" in text and "Đang diễn ra" not in text  # 2020, seen today
    feed = Links(portal.settings.base_url, b"").bloc_feed_url("bg-vhxh", 2020)
    assert feed == "http://127.0.0.1:8000/calendars/bg-vhxh/2020.ics"  # THIDUA_PUBLIC_URL's
    assert 'href="webcal://127.0.0.1:8000/calendars/bg-vhxh/2020.ics"' in page.text
    assert f"cid={quote('webcal://127.0.0.1:8000/calendars/bg-vhxh/2020.ics', safe='')}" in (
        page.text
    )
    assert f"addfromweb?url={quote(feed, safe='')}" in page.text
    assert re.search(r"<svg [^>]*viewBox=.*<path ", page.text, re.S)  # the QR code, inline


def test_home_page_shows_nothing_private(portal, db):
    page = portal.get("/").text
    with session_scope(db.engine) as session:
        emails = [e for c in session.exec(select(Contact)).all() for e in c.emails]
    assert emails and not any(email in page for email in emails)
    assert not any(path.rsplit("/", 1)[1] in page for path in portal.paths.values())
    assert "/don-vi/" not in page and "/calendars/private/" not in page
    assert "Đã nộp" not in page and "Quá hạn" not in page  # no unit's state


def test_home_page_without_a_plan_in_force_says_so(portal, db):
    with session_scope(db.engine) as session:
        session.exec(select(YearPlan)).one().state = "draft"
    page = portal.get("/")
    assert page.status_code == 200
    assert "Chưa có kế hoạch thi đua đang thực hiện" in page.text
    assert "webcal://" not in page.text


def test_home_page_answers_a_huge_query_string_with_the_page(portal):
    page = portal.get("/", params={"q": "x" * 8_000, "..": "../../etc/passwd"})
    assert page.status_code == 200 and "Năm 2020" in page.text
