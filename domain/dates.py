"""Days, instants and how they read in Vietnamese: one place for the plan's notion of time."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def local_instant(day: date, at: time = time(0, 0)) -> datetime:
    """The instant `at` o'clock on `day` in Asia/Ho_Chi_Minh, as UTC."""
    return datetime.combine(day, at, TZ).astimezone(UTC)


def due_instant(day: date, rule: str) -> datetime:
    """When "trước ngày D" falls due: 00:00 on D (exclusive) or 00:00 the day after D (inclusive)."""
    if rule not in ("exclusive", "inclusive"):
        raise ValueError(f"unknown deadline rule {rule!r}")
    return local_instant(day + timedelta(days=1) if rule == "inclusive" else day)


def in_vietnam(instant: datetime) -> datetime:
    """`instant` as given when it has an offset; without one, read in Asia/Ho_Chi_Minh."""
    return instant if instant.tzinfo else instant.replace(tzinfo=TZ)


# A time typed by a clerk (the `as_of` of a run started from the Prefect UI): "09:00" means
# 09:00 in Vietnam, not in UTC.
LocalInstant = Annotated[datetime, AfterValidator(in_vietnam)]


def local_day(instant: datetime) -> date:
    return instant.astimezone(TZ).date()


def last_day(due_at: datetime) -> date:
    """The last full local day on which a submission is on time."""
    return local_day(due_at - timedelta(microseconds=1))


def fmt_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def fmt_day(day: date) -> str:
    """ "Thứ Tư, 04/03/2020"."""
    return f"{WEEKDAYS[day.weekday()]}, {fmt_date(day)}"


def fmt_instant(instant: datetime) -> str:
    local = instant.astimezone(TZ)
    return f"{local:%H:%M} {fmt_date(local.date())}"
