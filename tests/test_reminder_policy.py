"""The reminder schedule: working days only (weekends, Vietnamese holidays, Tết), the latest
open stage once, nothing outside office hours, nothing after a submission."""

from datetime import date, datetime, time

import pytest

from domain.dates import TZ, due_instant
from domain.reminders import Policy, Stage, due_stage, schedule
from domain.workdays import vietnam_calendar

CAL = vietnam_calendar([2020])
HOLIDAYS_2020 = [
    date(2020, 1, 1),
    *(date(2020, 1, d) for d in range(23, 30)),
    date(2020, 4, 2),
    date(2020, 4, 30),
    date(2020, 5, 1),
    date(2020, 9, 2),
]


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


@pytest.mark.parametrize("day", HOLIDAYS_2020, ids=lambda d: d.isoformat())
def test_2020_public_holidays_are_days_off(day):
    assert not CAL.is_working_day(day)


def test_plan_can_add_a_day_off_and_a_swapped_working_day():
    cal = vietnam_calendar(
        [2020], extra_holidays=[date(2020, 1, 2)], extra_working_days=[date(2020, 1, 4)]
    )
    assert not cal.is_working_day(date(2020, 1, 2)) and cal.is_working_day(date(2020, 1, 4))


def test_registration_schedule_counts_working_days_from_the_last_day():
    stages = schedule(due_instant(date(2020, 3, 5), "exclusive"), Policy(), CAL)
    assert [(s.day, s.name, s.escalate) for s in stages] == [
        (date(2020, 2, 24), "before-7", False),
        (date(2020, 2, 28), "before-3", False),
        (date(2020, 3, 3), "before-1", False),
        (date(2020, 3, 4), "due-today", False),
        (date(2020, 3, 5), "overdue-1", False),
        (date(2020, 3, 10), "overdue-2", True),
        (date(2020, 3, 13), "overdue-3", True),
        (date(2020, 3, 18), "overdue-4", True),
        (date(2020, 3, 23), "overdue-5", True),
    ]


def test_reminders_skip_tet():
    stages = schedule(due_instant(date(2020, 1, 31), "exclusive"), Policy(), CAL)
    assert [s.day for s in stages[:4]] == [
        date(2020, 1, 14),
        date(2020, 1, 20),
        date(2020, 1, 22),
        date(2020, 1, 30),
    ]
    assert all(CAL.is_working_day(s.day) for s in stages)


def test_due_today_falls_back_to_the_working_day_before_a_weekend_last_day():
    # "trước ngày 13/04/2020" (a Monday): the last day is Sunday 12/04, so "due today" goes on
    # Friday 10/04, where it replaces before-1.
    stages = schedule(due_instant(date(2020, 4, 13), "exclusive"), Policy(), CAL)
    by_day = {s.day: s.name for s in stages}
    assert by_day[date(2020, 4, 10)] == "due-today"
    assert "before-1" not in by_day.values()


def test_inclusive_rule_moves_the_whole_schedule_by_a_day():
    exclusive = schedule(due_instant(date(2020, 3, 5), "exclusive"), Policy(), CAL)
    inclusive = schedule(due_instant(date(2020, 3, 5), "inclusive"), Policy(), CAL)
    assert inclusive[3] == Stage(date(2020, 3, 5), "due-today")
    assert exclusive[3] == Stage(date(2020, 3, 4), "due-today")


def test_policy_from_the_plan_changes_the_stages():
    policy = Policy.from_rules(
        {
            "before": [2],
            "on_day": False,
            "after_first": 2,
            "after_every": 5,
            "escalate_from": 1,
            "max_overdue": 2,
        }
    )
    stages = schedule(due_instant(date(2020, 3, 5), "exclusive"), policy, CAL)
    assert [(s.name, s.day, s.escalate) for s in stages] == [
        ("before-2", date(2020, 3, 2), False),
        ("overdue-1", date(2020, 3, 6), True),
        ("overdue-2", date(2020, 3, 13), True),
    ]


STAGES = schedule(due_instant(date(2020, 3, 5), "exclusive"), Policy(), CAL)


@pytest.mark.parametrize(
    ("as_of", "submitted", "sent", "expected"),
    [
        pytest.param(at(date(2020, 2, 21)), False, set(), None, id="before-the-first-stage"),
        pytest.param(at(date(2020, 2, 24), 7, 29), False, set(), None, id="before-office-opens"),
        pytest.param(
            at(date(2020, 2, 24), 7, 30), False, set(), "before-7", id="at-office-opening"
        ),
        pytest.param(at(date(2020, 2, 24), 17, 0), False, set(), None, id="after-office-closes"),
        pytest.param(at(date(2020, 2, 26)), False, {"before-7"}, None, id="already-sent"),
        pytest.param(at(date(2020, 2, 29)), False, set(), None, id="saturday"),
        pytest.param(at(date(2020, 3, 3)), True, set(), None, id="submitted"),
        pytest.param(
            at(date(2020, 3, 11)),
            False,
            {"before-7"},
            "overdue-2",
            id="catch-up-sends-only-the-latest",
        ),
        pytest.param(at(date(2020, 4, 30)), False, set(), None, id="holiday"),
        pytest.param(at(date(2020, 3, 24)), False, {"overdue-5"}, None, id="capped"),
        pytest.param(at(date(2020, 3, 25)), False, set(), "overdue-5", id="last-stage-current"),
        pytest.param(at(date(2020, 3, 26)), False, set(), None, id="chase-over"),
        pytest.param(at(date(2020, 11, 2)), False, set(), None, id="long-past-never-chased"),
    ],
)
def test_due_stage(as_of, submitted, sent, expected):
    stage = due_stage(STAGES, CAL, as_of, submitted, sent, Policy())
    assert (stage.name if stage else None) == expected


def test_count_between_counts_working_days_only():
    assert CAL.count_between(date(2020, 3, 4), date(2020, 3, 10)) == 4  # Thu, Fri, Mon, Tue
    assert CAL.count_between(date(2020, 3, 4), date(2020, 3, 4)) == 0
    assert CAL.shift(date(2020, 1, 22), 1) == date(2020, 1, 30) and CAL.shift(
        date(2020, 1, 30), -1
    ) == date(2020, 1, 22)
    assert CAL.opening(date(2020, 3, 4)) == at(date(2020, 3, 4), 7, 30)
