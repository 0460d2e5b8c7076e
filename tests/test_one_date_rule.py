"""One date rule: "trước ngày D" means the last day to submit is D-1, and every place that shows
a deadline shows that same last day: `plan show`, `status`, the unit's page, the reminder email
and the bloc feed."""

import email
import email.policy
import logging
import re
from datetime import date, datetime, timedelta

import icalendar
from sqlmodel import Session, select

from domain.dates import TZ
from flows.chase import chase_decisions, mail_run
from models.tables import Deadline
from tests.conftest import EXAMPLE_PLAN, running

LOG = logging.getLogger("test-one-date-rule")


def _expected_last_days() -> dict[str, date]:
    """Read from the plan file's own words: "trước ngày 05/3/2020" -> 04/03/2020."""
    import yaml

    plan = yaml.safe_load(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    days = {}
    for d in plan["deadlines"]:
        day, month, year = map(int, re.search(r"(\d+)/(\d+)/(\d{4})", d["wording"]).groups())
        days[d["title"]] = date(year, month, day) - timedelta(days=1)
    return days


EXPECTED = _expected_last_days()


def _dates(text: str) -> list[date]:
    return [datetime.strptime(m, "%d/%m/%Y").date() for m in re.findall(r"\d\d/\d\d/\d{4}", text)]


def test_every_place_shows_the_same_last_day(portal, db):
    assert len(EXPECTED) == 3
    shown = db.cli("plan", "show", check=True).stdout.splitlines()
    status = db.cli("status", "--as-of", "2020-02-24", check=True).stdout
    page = portal.get(portal.paths["syt"]).text
    db.cli("calendar", "publish", check=True)
    with running(portal.settings) as client:  # a portal started after the feeds were published
        feed = icalendar.Calendar.from_ical(client.get("/calendars/bg-vhxh/2020.ics").content)
    for title, last in EXPECTED.items():
        line = next(line for line in shown if f"Hạn nộp: {title}," in line)
        assert _dates(line.split("  ")[0]) == [last], line  # placed on its last day
        assert f"hạn cuối: hết ngày {last:%d/%m/%Y}" in line
        assert f"{title}: trước ngày" in status and f"hạn cuối: hết ngày {last:%d/%m/%Y}" in status
        after_title = page[page.index(title) :]
        assert _dates(after_title[after_title.index("hết ngày") :])[0] == last
        (event,) = [
            e for e in feed.walk("VEVENT") if str(e["SUMMARY"]).startswith(f"Hạn nộp: {title}")
        ]
        assert event.decoded("DTSTART") == last
        assert f"hết ngày {last:%d/%m/%Y}" in str(event["DESCRIPTION"])
    for code, last in _reminder_last_days(db, portal.settings).items():
        with Session(db.engine) as session:
            title = session.exec(select(Deadline.title).where(Deadline.code == code)).one()
        assert last == [EXPECTED[title]] * 2, code  # the subject and the body


def _reminder_last_days(db, settings) -> dict[str, list[date]]:
    """Each deadline's first reminder to syt, written as .eml: the last days it names."""
    found = {}
    with Session(db.engine) as session:
        deadlines = session.exec(select(Deadline)).all()  # syt owes all three
    for deadline in deadlines:
        at = datetime.combine(deadline.due_on - timedelta(days=10), datetime.min.time(), TZ)
        at = at.replace(hour=9)
        while at.weekday() >= 5:
            at += timedelta(days=1)
        mail_run(
            chase_decisions,
            engine=db.engine,
            settings=settings,
            instant=at,
            log=LOG,
            deadline=deadline.code,
            unit="syt",
        )
        written = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in settings.eml_dir.glob("*.eml")
        ]
        (eml,) = [m for m in written if deadline.title in m["Subject"]]
        body = eml.get_body(("plain",)).get_content()
        found[deadline.code] = [
            _dates(eml["Subject"])[-1],
            _dates(body[body.index("hạn cuối: hết ngày") :])[0],
        ]
    return found
