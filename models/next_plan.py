"""A plan carried to another year: next year's draft, written when a year closes, and the demo
year that `make run` shows; and the plan in force as a file to download (`plan_yaml`).

The dates keep their day and month (29/02 becomes 28/02), except that a deadline's last day and
a meeting's day that fall on a weekend or a public holiday move to the working day before; the
plan's wording and titles follow. Anniversaries, round themes, announced days off and the
source document are left out because they change every year, and the file says so at the top.
"""

import re
from datetime import date, timedelta
from typing import Any

import yaml

from domain.workdays import WorkCalendar, vietnam_calendar

NEXT_YEAR_HEADER = """\
# DỰ THẢO kế hoạch năm {year}, lập tự động khi kết thúc năm {previous} (thidua close-year).
# Các ngày được giữ nguyên ngày/tháng và chuyển sang năm {year}; hạn nộp và ngày họp rơi vào
# ngày nghỉ được chuyển về ngày làm việc liền trước. Trước khi nạp, Văn phòng Khối cần: kiểm tra
# lại từng ngày, bổ sung các ngày kỷ niệm và chủ đề của từng đợt, các ngày nghỉ/làm bù được
# công bố trong năm, số và tệp văn bản kế hoạch.
# Trưởng khối, Phó Trưởng khối năm {year}: theo kết quả bầu tại hội nghị tổng kết năm {previous}.
"""

DEMO_HEADER = """\
# NĂM MINH HỌA {year}: kế hoạch mẫu năm {previous} chuyển sang năm {year} để chạy thử
# (thidua plan demo). Không phải kế hoạch thật: danh sách đơn vị và địa chỉ thư là ví dụ.
# Các ngày giữ nguyên ngày/tháng; hạn nộp và ngày họp rơi vào ngày nghỉ được chuyển về ngày làm
# việc liền trước. Các ngày kỷ niệm và chủ đề của năm {previous} được lược bỏ.
"""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLOCK = re.compile(r"^(\d{2}:\d{2}):00$")
WRITTEN_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def next_year_plan(document: dict[str, Any], *, head: str, deputy: str) -> str:
    """The YAML text of next year's draft from this year's plan (`YearPlan.rules`)."""
    draft = carried(document, to_year=document["year"] + 1)
    draft.update(head=head, deputy=deputy)
    header = NEXT_YEAR_HEADER.format(year=draft["year"], previous=document["year"])
    return header + _yaml(draft)


def demo_plan(document: dict[str, Any], *, to_year: int) -> str:
    """The YAML text of the demo year: the example plan carried to `to_year`."""
    header = DEMO_HEADER.format(year=to_year, previous=document["year"])
    return header + _yaml(carried(document, to_year=to_year))


def plan_yaml(document: dict[str, Any]) -> str:
    """The YAML text of a plan in force (`YearPlan.document`): what the plan page downloads."""
    return _yaml(_moved(document, document["year"], 0))


def carried(document: dict[str, Any], *, to_year: int) -> dict[str, Any]:
    """`document` (a plan's validated mapping) with every date carried to `to_year`."""
    year = document["year"]
    draft = _moved(document, year, to_year - year)
    draft["year"] = to_year
    draft["source"] = {"title": draft["source"]["title"]}
    draft.get("calendar", {}).pop("extra_holidays", None)
    draft.get("calendar", {}).pop("extra_working_days", None)
    for round_ in draft["rounds"]:
        round_.pop("anniversaries", None)
        round_.pop("theme", None)
    _onto_working_days(draft, vietnam_calendar([to_year]))
    return draft


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # a shared date is written out, not as &id001
        return True


def _yaml(draft: dict[str, Any]) -> str:
    return yaml.dump(draft, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _onto_working_days(draft: dict[str, Any], calendar: WorkCalendar) -> None:
    """Move each deadline's last day and each meeting's day off a day off, wording included."""
    exclusive = draft.get("deadline_rule", "exclusive") == "exclusive"
    moved: dict[date, date] = {}  # a deadline's old date -> its new one, for "after" meetings
    for deadline in draft["deadlines"]:
        old = deadline["date"]
        if exclusive:  # "trước ngày D": the last day is D-1
            new = calendar.on_or_before(old - timedelta(days=1)) + timedelta(days=1)
        else:
            new = calendar.on_or_before(old)
        moved[old] = new
        _redate(deadline, "date", new)
    for meeting in draft.get("meetings", []):
        if "date" in meeting:
            _redate(meeting, "date", calendar.on_or_before(meeting["date"]))
        if "before" in meeting:
            last = calendar.on_or_before(meeting["before"] - timedelta(days=1))
            _redate(meeting, "before", last + timedelta(days=1))
        if "after" in meeting:
            _redate(meeting, "after", moved.get(meeting["after"], meeting["after"]))


def _redate(item: dict[str, Any], key: str, new: date) -> None:
    """Set `item[key]` to `new`, and write `new` where the wording wrote the old date."""
    old = item[key]
    item[key] = new
    if "wording" in item and old != new:
        item["wording"] = WRITTEN_DATE.sub(
            lambda m: _written(new) if _parsed(m) == old else m.group(0), item["wording"]
        )


def _parsed(match: re.Match) -> date | None:
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _written(day: date) -> str:
    """A date the way plans write it: "05/3/2026"."""
    return f"{day.day:02d}/{day.month}/{day.year}"


def _moved(value: Any, year: int, years: int) -> Any:
    """A copy with every date `years` years on, times as "HH:MM", the plan's year and the next
    one in texts carried too, and empty values dropped."""
    if isinstance(value, dict):
        return {k: _moved(v, year, years) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list | tuple):
        return [_moved(v, year, years) for v in value]
    if isinstance(value, str):
        if ISO_DATE.match(value):
            day = date.fromisoformat(value)
            try:
                return day.replace(year=day.year + years)
            except ValueError:  # 29/02
                return day.replace(year=day.year + years, day=28)
        if clock := CLOCK.match(value):
            return clock.group(1)
        return re.sub(rf"\b({year}|{year + 1})\b", lambda m: str(int(m.group(0)) + years), value)
    return value
