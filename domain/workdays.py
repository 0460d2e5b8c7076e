"""Working days in Việt Nam: Monday to Friday, minus public holidays (Tết included), with the
plan's own announced days off and swapped working days."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays

from domain.dates import TZ


@dataclass(frozen=True)
class WorkCalendar:
    days_off: frozenset[date]
    extra_working_days: frozenset[date]
    opens: time = time(7, 30)
    closes: time = time(17, 0)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def shift(self, day: date, working_days: int) -> date:
        """The day `working_days` working days after (or, if negative, before) `day`."""
        step = 1 if working_days >= 0 else -1
        remaining = abs(working_days)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def count_between(self, start: date, end: date) -> int:
        """Working days after `start`, up to and including `end` (0 if `end` <= `start`)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def on_or_before(self, day: date) -> date:
        """`day` if it is a working day, else the working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def is_office_time(self, instant: datetime) -> bool:
        local = instant.astimezone(TZ)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, TZ)


def vietnam_calendar(
    years: Iterable[int],
    extra_holidays: Iterable[date] = (),
    extra_working_days: Iterable[date] = (),
    office_hours: tuple[time, time] = (time(7, 30), time(17, 0)),
) -> WorkCalendar:
    """Public holidays of Việt Nam for `years` (the `holidays` package) plus the plan's changes."""
    spread = tuple(sorted({year + offset for year in years for offset in (-1, 0, 1)}))
    days_off = _public_holidays(spread) | set(extra_holidays)
    return WorkCalendar(frozenset(days_off), frozenset(extra_working_days), *office_hours)


@functools.cache
def _public_holidays(years: tuple[int, ...]) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=years))
