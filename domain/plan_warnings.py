"""What a plan may say but probably did not mean: a deadline's last day or a meeting on a day
off. Warnings, not errors: the plan is the bloc's text, and the clerk decides."""

import datetime as dt

from domain.dates import due_instant, fmt_day, last_day
from domain.plan_schema import PlanDocument
from domain.workdays import vietnam_calendar

Path = tuple[str | int, ...]


def day_off_warnings(plan: PlanDocument) -> list[tuple[Path, str]]:
    """Each deadline whose last day to submit, and each meeting whose day (or latest possible
    day), is a weekend or a public holiday, as (field path, message)."""
    calendar = vietnam_calendar(
        [plan.year],
        extra_holidays=plan.calendar.extra_holidays,
        extra_working_days=plan.calendar.extra_working_days,
    )
    warnings: list[tuple[Path, str]] = []

    def check(path: Path, day: dt.date, what: str) -> None:
        if not calendar.is_working_day(day):
            before = calendar.on_or_before(day)
            warnings.append(
                (
                    path,
                    f"{what} {fmt_day(day)} là ngày nghỉ; ngày làm việc liền trước: {fmt_day(before)}",
                )
            )

    for i, deadline in enumerate(plan.deadlines):
        last = last_day(due_instant(deadline.date, plan.deadline_rule.value))
        check(("deadlines", i, "date"), last, "hạn cuối nộp")
    for i, meeting in enumerate(plan.meetings):
        if meeting.date:
            check(("meetings", i, "date"), meeting.date, "ngày họp")
        elif meeting.before:
            check(
                ("meetings", i, "before"),
                meeting.before - dt.timedelta(days=1),
                "ngày họp chậm nhất",
            )
    return warnings
