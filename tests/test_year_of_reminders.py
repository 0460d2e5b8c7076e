"""A whole year of the example plan through the reminder policy, with a moving as-of."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import select

from domain.dates import TZ
from models.db import session_scope
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import YearPlan
from notifications.drafts import due_reminders, reminder_drafts, reminder_key
from notifications.state import plan_state
from tests.conftest import EXAMPLE_PLAN

DAYS_OFF_2020 = {
    date(2020, 1, 1),
    *(date(2020, 1, d) for d in range(23, 30)),
    date(2020, 4, 2),
    date(2020, 4, 30),
    date(2020, 5, 1),
    date(2020, 9, 2),
}
ALL_STAGES = [
    "before-7",
    "before-3",
    "before-1",
    "due-today",
    *(f"overdue-{k}" for k in range(1, 6)),
]
SUBMISSIONS = {  # unit, deadline -> when it hands in
    ("syt", "dang-ky"): datetime(2020, 2, 26, 10, 0, tzinfo=TZ),  # after the first reminder
    ("sgddt", "so-ket"): datetime(2020, 6, 23, 9, 0, tzinfo=TZ),  # late, after overdue-1
    ("svhttdl", "tong-ket"): datetime(2020, 12, 1, 9, 0, tzinfo=TZ),  # on time
}


@pytest.fixture(scope="module")
def year(templates, tmp_path_factory):
    """Every email the policy decides in 2020, polled at 06:00, 08:00 and 15:00 each day."""
    import shutil

    from models.db import make_engine

    folder = tmp_path_factory.mktemp("year")
    shutil.copy(templates["sqlite"], folder / "thidua.db")
    engine = make_engine(f"sqlite:///{folder / 'thidua.db'}")
    with session_scope(engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        plan = session.exec(select(YearPlan)).one()
        plan.state = "active"
        state = plan_state(session, plan=plan, links=Links("https://thidua.example.gov.vn", b"k"))
    engine.dispose()
    units = {u.code: u for u in state.units}
    deadlines = {d.code: d for d in state.deadlines}
    sent = []
    day = date(2020, 1, 1)
    while day.year == 2020:
        for hour in (6, 8, 15):
            as_of = datetime.combine(day, time(hour), TZ)
            for (unit, deadline), at in SUBMISSIONS.items():
                if at <= as_of:
                    state.receipts[deadlines[deadline].id, units[unit].id] = [at]
            for decision in due_reminders(state, as_of):
                drafts = reminder_drafts(state, decision, as_of)
                state.sent_reminders.add(
                    reminder_key(decision.deadline, decision.unit, decision.stage.name)
                )
                sent += [
                    (as_of, decision.unit.code, decision.deadline.code, draft) for draft in drafts
                ]
        day += timedelta(days=1)
    return sent


def test_no_email_on_a_weekend_or_a_2020_holiday(year):
    days = {as_of.date() for as_of, *_ in year}
    assert days and all(d.weekday() < 5 and d not in DAYS_OFF_2020 for d in days)


def test_emails_go_out_in_office_hours_only(year):
    assert {as_of.hour for as_of, *_ in year} == {8}


def test_no_email_to_a_unit_about_a_deadline_after_it_submitted(year):
    for (unit, deadline), at in SUBMISSIONS.items():
        assert not [as_of for as_of, u, d, _ in year if (u, d) == (unit, deadline) and as_of >= at]


def _stages(year, unit: str, deadline: str) -> list[str]:
    stages = [draft.stage for _, u, d, draft in year if (u, d) == (unit, deadline)]
    return list(dict.fromkeys(stages))


@pytest.mark.parametrize(
    ("unit", "deadline", "stages"),
    [
        ("bdt", "dang-ky", ALL_STAGES),
        ("bdt", "so-ket", ALL_STAGES),
        ("bdt", "tong-ket", ALL_STAGES),
        ("syt", "dang-ky", ["before-7"]),
        ("sgddt", "so-ket", ALL_STAGES[:5]),
        ("svhttdl", "tong-ket", ["before-7"]),  # 30/11 is its before-7; it submits on 01/12
    ],
)
def test_each_unit_gets_the_expected_stages_per_deadline(year, unit, deadline, stages):
    assert _stages(year, unit, deadline) == stages


def test_each_unit_gets_the_expected_number_of_emails_per_deadline(year):
    counts = defaultdict(int)
    for _, unit, deadline, _draft in year:
        counts[unit, deadline] += 1
    # 5 stages to the focal point alone, then 4 escalated ones to the focal point, the leader
    # and the secretariat.
    assert counts["bdt", "dang-ky"] == 5 + 4 * 3
    assert counts["sgddt", "dang-ky"] == (5 + 4) * 2 + 4 * 2  # two focal addresses
    assert counts["syt", "dang-ky"] == 1
    assert counts["sgddt", "so-ket"] == 5 * 2
    assert counts["stttt", "tong-ket"] == 5 + 4 * 2  # the secretariat is its own focal point
