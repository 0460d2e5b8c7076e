"""`thidua rehearse`: the example plan's whole year with simulated units, against an SMTP sink."""

from collections import Counter

import pytest

from domain.dates import TZ
from domain.workdays import vietnam_calendar
from tests.conftest import EXAMPLE_PLAN
from thidua.rehearsal import behaviours_for, rehearse, timeline

DEADLINES = 3  # dang-ky, so-ket, tong-ket
BEFORE = ("before-7", "before-3", "before-1")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    return rehearse(EXAMPLE_PLAN, work_dir=tmp_path_factory.mktemp("rehearsal"))


def test_units_get_simulated_behaviours_the_last_one_silent():
    roles = behaviours_for(["a", "b", "c", "d", "e"])
    assert roles == {
        "a": "on_time",
        "b": "on_time",
        "c": "resubmits",
        "d": "late",
        "e": "never",
    }


def test_every_email_reaches_the_sink_and_none_leaves_outside_office_hours(year):
    assert year.received == len(year.emails) > 200
    calendar = vietnam_calendar([2020, 2021])
    outside = [e for e in year.emails if not calendar.is_office_time(e.at)]
    assert outside == []
    assert {e.at.astimezone(TZ).date().weekday() for e in year.emails} <= {0, 1, 2, 3, 4}


def test_reminders_per_unit_follow_its_behaviour(year):
    stages = year.stages()
    # On time (two working days before the last day): the 7- and 3-day reminders only.
    assert [stages[("syt", s)] for s in BEFORE] == [DEADLINES, DEADLINES, 0]
    assert stages[("syt", "due-today")] == 0 and stages[("syt", "receipt")] == DEADLINES
    # Resubmitting (4 and 1 working days before): the 7-day reminder, then two receipts each.
    assert [stages[("bdt", s)] for s in BEFORE] == [DEADLINES, 0, 0]
    assert stages[("bdt", "receipt")] == 2 * DEADLINES
    # Late (three working days after): every reminder before, on the day, and one overdue.
    assert [stages[("baobg", s)] for s in BEFORE] == [DEADLINES] * 3
    assert (
        stages[("baobg", "due-today")] == DEADLINES and stages[("baobg", "overdue-1")] == DEADLINES
    )
    assert stages[("baobg", "overdue-2")] == 0
    # Never: every stage; from the 2nd overdue one also to its leader and the secretariat;
    # the annual report's 5th would fall after the year is closed (24/12), so it never comes.
    assert stages[("dptth", "overdue-1")] == DEADLINES
    assert stages[("dptth", "overdue-2")] == 3 * DEADLINES
    assert stages[("dptth", "overdue-5")] == 3 * (DEADLINES - 1)
    assert stages[("dptth", "receipt")] == 0 and stages[("dptth", "ballot")] == 1


def test_each_reminder_is_sent_once(year):
    keys = Counter((e.unit, e.stage, e.recipient, e.subject) for e in year.emails)
    assert [k for k, n in keys.items() if n > 1 and k[1] != "digest"] == []


def test_the_year_ends_with_a_ranking_an_election_and_the_results_sent(year):
    assert [unit for _, unit, _ in year.ranking] == [
        "stttt",
        "svhttdl",
        "sgddt",
        "syt",
        "sldtbxh",
        "skhcn",
        "bdt",
        "baobg",
        "dptth",
    ]
    assert year.ranking[-1][2] == 0  # the silent unit never self-scored
    assert (year.head, year.deputy) == ("svhttdl", "sgddt")
    stages = year.stages()
    # Focal point and leader of each unit; the provincial board (the secretariat's address is
    # also the head unit's focal point, which gets it once).
    assert stages[("syt", "results")] == 2 and stages[(None, "results")] == 1
    lines = timeline(year)
    assert any("Mở bỏ phiếu" in line for line in lines)
    assert lines == sorted(lines, key=lambda line: (line[6:10], line[3:5], line[:2], line[11:16]))
