"""Next year's draft plan: this year's plan moved one year on, with the elected head and deputy.

A starting point for the secretariat, not a plan in force: the dates keep their day and month
(29/02 becomes 28/02), anniversaries, round themes, announced days off and the source document
are left out because they change every year, and the file says so at the top.
"""

import re
from datetime import date
from typing import Any

import yaml

HEADER = """\
# DỰ THẢO kế hoạch năm {year}, lập tự động khi kết thúc năm {previous} (thidua close-year).
# Các ngày được giữ nguyên ngày/tháng và chuyển sang năm {year}. Trước khi nạp, Văn phòng Khối
# cần: kiểm tra lại từng ngày (thứ trong tuần đã thay đổi), bổ sung các ngày kỷ niệm và chủ đề
# của từng đợt, các ngày nghỉ/làm bù được công bố trong năm, số và tệp văn bản kế hoạch.
# Trưởng khối, Phó Trưởng khối năm {year}: theo kết quả bầu tại hội nghị tổng kết năm {previous}.
"""

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLOCK = re.compile(r"^(\d{2}:\d{2}):00$")


def next_year_plan(document: dict[str, Any], *, head: str, deputy: str) -> str:
    """The YAML text of next year's draft from this year's plan (`YearPlan.rules`)."""
    year = document["year"]
    draft = _moved(document, year)
    draft.update(year=year + 1, head=head, deputy=deputy)
    draft["source"] = {"title": draft["source"]["title"]}
    draft.get("calendar", {}).pop("extra_holidays", None)
    draft.get("calendar", {}).pop("extra_working_days", None)
    for round_ in draft["rounds"]:
        round_.pop("anniversaries", None)
        round_.pop("theme", None)
    body = yaml.safe_dump(draft, allow_unicode=True, sort_keys=False, width=100)
    return HEADER.format(year=year + 1, previous=year) + body


def _moved(value: Any, year: int) -> Any:
    """A copy with every date one year on, times as "HH:MM", the year in texts replaced, and
    empty values dropped."""
    if isinstance(value, dict):
        return {k: _moved(v, year) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list | tuple):
        return [_moved(v, year) for v in value]
    if isinstance(value, str):
        if DATE.match(value):
            day = date.fromisoformat(value)
            try:
                return day.replace(year=day.year + 1)
            except ValueError:  # 29/02
                return day.replace(year=day.year + 1, day=28)
        if clock := CLOCK.match(value):
            return clock.group(1)
        return value.replace(str(year), str(year + 1))
    return value
