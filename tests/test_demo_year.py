"""The demo year `make run` shows: the example plan carried to a year still running, with every
deadline's last day and every meeting on a working day and the wording in step with the dates."""

import re
from datetime import date, timedelta

import pytest
import yaml
from sqlmodel import Session, select

from domain.workdays import vietnam_calendar
from models.next_plan import demo_plan
from models.plan_file import read_plan
from models.tables import YearPlan
from tests.conftest import EXAMPLE_PLAN
from thidua.cli import _demo_year


@pytest.fixture(scope="module")
def example() -> dict:
    return read_plan(EXAMPLE_PLAN).document.model_dump(mode="json")


@pytest.mark.parametrize("year", [2021, 2026, 2027, 2028])
def test_demo_plan_is_valid_and_every_date_falls_on_a_working_day(example, year, tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(demo_plan(example, to_year=year), encoding="utf-8")
    read = read_plan(path)  # validated like any plan file
    assert read.warnings == ()  # no last day nor meeting on a day off
    doc = read.document
    calendar = vietnam_calendar([year])
    assert doc.year == year
    for deadline in doc.deadlines:
        last = deadline.date - timedelta(days=1)  # the example's rule: "trước ngày D", exclusive
        assert calendar.is_working_day(last), deadline.code
        assert (
            deadline.wording == f"trước ngày {deadline.date.day:02d}/{deadline.date.month}/{year}"
        )
        assert (
            abs((deadline.date.replace(year=2020) - _example_date(example, deadline.code)).days) < 7
        )
    meeting = next(m for m in doc.meetings if m.before)
    assert calendar.is_working_day(meeting.before - timedelta(days=1))
    assert str(meeting.before.day) in meeting.wording and str(year) in meeting.wording
    assert all(not r.anniversaries and not r.theme for r in doc.rounds)
    body = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert not [line for line in body if "2020" in line]
    assert not [line for line in body if "&id" in line or re.search(r"\*id\d", line)]


def _example_date(example: dict, code: str) -> date:
    return date.fromisoformat(next(d for d in example["deadlines"] if d["code"] == code)["date"])


@pytest.mark.parametrize(
    ("today", "year"),
    [
        pytest.param(date(2026, 1, 1), 2026, id="new-year"),
        pytest.param(date(2026, 12, 9), 2026, id="last-day-of-the-last-deadline"),
        pytest.param(date(2026, 12, 10), 2027, id="after-the-last-deadline"),
    ],
)
def test_demo_year_is_this_year_until_its_last_deadline_is_past(example, today, year):
    assert _demo_year(example, today) == year  # 10/12/2026: last day 09/12


def test_plan_demo_loads_and_activates_once(db):
    first = db.cli("plan", "demo", str(EXAMPLE_PLAN), "--year", "2027", check=True).stdout
    assert "Năm minh họa 2027" in first and "Đã nạp kế hoạch năm 2027" in first
    assert "Kế hoạch năm 2027 đã được đưa vào thực hiện." in first
    again = db.cli("plan", "demo", str(EXAMPLE_PLAN), "--year", "2027", check=True).stdout
    assert "không có gì thay đổi" in again and "đã ở trạng thái đang thực hiện" in again
    assert (db.data_dir / "plans" / "demo-bg-vhxh-2027.yaml").exists()
    with Session(db.engine) as session:
        (plan,) = session.exec(select(YearPlan)).all()
        assert (plan.year, plan.state) == (2027, "active")
    written = yaml.safe_load((db.data_dir / "plans" / "demo-bg-vhxh-2027.yaml").read_text())
    # 20/06/2027 is a Sunday: the last day moves from Saturday 19/06 to Friday 18/06
    assert written["deadlines"][1]["date"] == date(2027, 6, 19)
    assert written["deadlines"][1]["wording"] == "trước ngày 19/6/2027"
