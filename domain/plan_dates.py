"""Dates as Vietnamese plans write them: `05/3/2020`, `ngày 5 tháng 3 năm 2020`, `trước ngày
10/7`, `từ ngày 01/01 đến hết ngày 30/6`, `quý I`, `6 tháng đầu năm`, `tháng 12/2020`.

A date without a year takes the document's year. Pure: text and a year in, dates out.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


def _one_day(p: str) -> str:
    """One day, in words (groups {p}wd, {p}wm, {p}wy) or in figures ({p}nd, {p}nm, {p}ny)."""
    words = rf"ngày\s+(?P<{p}wd>\d{{1,2}})\s+tháng\s+(?P<{p}wm>\d{{1,2}})(?:\s*(?:năm|/)\s*(?P<{p}wy>\d{{4}}))?"
    figures = rf"(?<![\d/.-])(?P<{p}nd>\d{{1,2}})[/-](?P<{p}nm>\d{{1,2}})(?:[/-](?P<{p}ny>\d{{4}}))?(?![\d/-])"
    return f"(?:{words}|{figures})"


DAY = re.compile(_one_day("a"), re.I)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_LEAD = r"trước|sau|chậm\s+nhất(?:\s+là)?(?:\s+vào)?|hạn\s+chót(?:\s+là)?|vào|trong"


def _year(name: str) -> str:
    return rf"(?:\s*(?:năm\s+|/)(?P<{name}>\d{{4}}))?"


_PATTERNS = {
    "span": rf"từ\s+(?:ngày\s+)?{_one_day('a')}\s*(?:đến|tới|-|–)\s*(?:hết\s+)?(?:ngày\s+)?{_one_day('b')}",
    "quarter": rf"quý\s+(?P<q>IV|III|II|I|[1-4])\b{_year('qy')}",
    "half": r"(?:6|sáu)\s+tháng\s+(?P<h>đầu|cuối)\s+năm(?:\s+(?P<hy>\d{4}))?",
    "day": rf"(?:(?P<dlead>{_LEAD})\s+)?(?:ngày\s+)?{_one_day('c')}",
    "month": rf"(?:(?P<mlead>{_LEAD})\s+)?tháng\s+(?P<m>1[0-2]|0?[1-9])(?!\d|[/-]\d{{1,2}}(?!\d))(?:\s*(?:năm\s+|/)(?P<my>\d{{4}}))?",
}
_TIME = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS.items()), re.I)


class Bound(StrEnum):
    """How a plan relates something to a day or a span."""

    ON = "on"  # "ngày D": on D
    BEFORE = "before"  # "trước ngày D": before D, D itself excluded
    BY = "by"  # "chậm nhất ngày D": D itself included
    AFTER = "after"  # "sau ngày D"
    WITHIN = "within"  # "từ ... đến ...", "quý I", "tháng 12": somewhere in the span


@dataclass(frozen=True)
class When:
    """A time expression found in a plan: its bound, its first and last day, the words used."""

    bound: Bound
    start: date
    end: date
    wording: str
    year_inferred: bool = False


def find_whens(text: str, year: int) -> list[When]:
    """Every time expression in `text` that names a real day or span, in order."""
    found = (_read(match, year) for match in _TIME.finditer(text))
    return [when for when in found if when is not None]


def find_when(text: str, year: int) -> When | None:
    """The first time expression in `text`, else None."""
    whens = find_whens(text, year)
    return whens[0] if whens else None


def main_when(text: str, year: int) -> When | None:
    """The expression a sentence is dated by: its first day (`trước ngày 10/7/2020` wins over
    the `6 tháng đầu năm` it is about), else its first span."""
    whens = find_whens(text, year)
    days = [when for when in whens if when.bound is not Bound.WITHIN]
    return (days or whens or [None])[0]


def find_days(text: str, year: int) -> list[tuple[date, re.Match]]:
    """Every single day written in `text` (numeric or in words), with where it was found."""
    days = []
    for found in DAY.finditer(text):
        day = _day(found, "a", year)
        if day is not None:
            days.append((day[0], found))
    return days


def _read(found: re.Match, year: int) -> When | None:
    wording = found.group().strip()
    wording = wording[:1].lower() + wording[1:]  # «Trước ngày …» heading a table's cell
    kind = found.lastgroup
    if kind == "span":
        end = _day(found, "b", year)
        start = _day(found, "a", end[0].year if end else year)
        if not (start and end) or end[0] < start[0]:
            return None
        return When(Bound.WITHIN, start[0], end[0], wording, end[1])  # the start takes its year
    if kind == "quarter":
        first = 3 * _ROMAN[found.group("q").lower()] - 2
        return _months(first, first + 2, found.group("qy"), year, wording)
    if kind == "half":
        first = 1 if found.group("h").lower() == "đầu" else 7
        return _months(first, first + 5, found.group("hy"), year, wording)
    if kind == "day":
        day = _day(found, "c", year)
        if day is None:
            return None
        bound = _lead_bound(found.group("dlead"))
        return When(bound, day[0], day[0], wording, day[1])
    month = int(found.group("m"))
    return _months(
        month, month, found.group("my"), year, wording, _lead_bound(found.group("mlead"))
    )


def _lead_bound(lead: str | None) -> Bound:
    lead = " ".join((lead or "").lower().split())
    if lead.startswith("trước"):
        return Bound.BEFORE
    if lead.startswith("sau"):
        return Bound.AFTER
    if lead.startswith(("chậm nhất", "hạn chót")):
        return Bound.BY
    return Bound.WITHIN if lead == "trong" else Bound.ON


def _months(
    first: int, last: int, written: str | None, year: int, wording: str, bound=Bound.WITHIN
) -> When:
    y = int(written) if written else year
    end = date(y, last, calendar.monthrange(y, last)[1])
    if bound is Bound.ON:
        bound = Bound.WITHIN  # "vào tháng 12": some day in the month
    elif bound is Bound.BEFORE:
        return When(bound, date(y, first, 1), date(y, first, 1), wording, written is None)
    elif bound is Bound.AFTER:
        return When(bound, end, end, wording, written is None)
    return When(bound, date(y, first, 1), end, wording, written is None)


def _day(found: re.Match, p: str, year: int) -> tuple[date, bool] | None:
    """(the day, whether its year was inferred) from the groups of `_one_day(p)`, or None."""
    for form in "wn":
        d, m, y = (found.group(f"{p}{form}{part}") for part in "dmy")
        if d is None:
            continue
        try:
            return date(int(y) if y else year, int(m), int(d)), y is None
        except ValueError:
            return None
    return None
