"""Dates as Vietnamese plans write them, read into a bound and a span (domain/plan_dates.py)."""

from datetime import date

import pytest

from domain.plan_dates import Bound, find_when, main_when

D = date
# (text, in a plan of the year, the bound, first day, last day, whether the year was inferred)
CASES = {
    "slashes": ("05/3/2020", 2020, Bound.ON, D(2020, 3, 5), D(2020, 3, 5), False),
    "dashes": ("05-3-2020", 2020, Bound.ON, D(2020, 3, 5), D(2020, 3, 5), False),
    "in-words": ("ngày 5 tháng 3 năm 2020", 2020, Bound.ON, D(2020, 3, 5), D(2020, 3, 5), False),
    "before": ("trước ngày 05/3/2020", 2020, Bound.BEFORE, D(2020, 3, 5), D(2020, 3, 5), False),
    "before-no-year": ("trước ngày 10/7", 2020, Bound.BEFORE, D(2020, 7, 10), D(2020, 7, 10), True),
    "before-in-words": (
        "trước ngày 15 tháng 02 năm 2022",
        2022,
        Bound.BEFORE,
        D(2022, 2, 15),
        D(2022, 2, 15),
        False,
    ),
    "table-cell-capital": (
        "Trước ngày 20/6",
        2021,
        Bound.BEFORE,
        D(2021, 6, 20),
        D(2021, 6, 20),
        True,
    ),
    "at-the-latest": ("chậm nhất ngày 15/01", 2021, Bound.BY, D(2021, 1, 15), D(2021, 1, 15), True),
    "after": ("sau ngày 10/12/2022", 2022, Bound.AFTER, D(2022, 12, 10), D(2022, 12, 10), False),
    "span-to-the-end-of": (
        "từ ngày 01/01 đến hết ngày 30/6",
        2020,
        Bound.WITHIN,
        D(2020, 1, 1),
        D(2020, 6, 30),
        True,
    ),
    "span-start-takes-the-end-year": (
        "từ ngày 01/01 đến hết ngày 31/3/2021",
        2020,
        Bound.WITHIN,
        D(2021, 1, 1),
        D(2021, 3, 31),
        False,
    ),
    "span-in-words": (
        "từ ngày 01 tháng 5 năm 2022 đến ngày 31 tháng 8 năm 2022",
        2022,
        Bound.WITHIN,
        D(2022, 5, 1),
        D(2022, 8, 31),
        False,
    ),
    "quarter-I": ("quý I", 2020, Bound.WITHIN, D(2020, 1, 1), D(2020, 3, 31), True),
    "quarter-IV-of-a-year": (
        "quý IV năm 2021",
        2020,
        Bound.WITHIN,
        D(2021, 10, 1),
        D(2021, 12, 31),
        False,
    ),
    "first-half": ("6 tháng đầu năm", 2020, Bound.WITHIN, D(2020, 1, 1), D(2020, 6, 30), True),
    "second-half": (
        "6 tháng cuối năm 2020",
        2020,
        Bound.WITHIN,
        D(2020, 7, 1),
        D(2020, 12, 31),
        False,
    ),
    "month-slash-year": (
        "tháng 12/2020",
        2020,
        Bound.WITHIN,
        D(2020, 12, 1),
        D(2020, 12, 31),
        False,
    ),
    "in-a-month": ("trong tháng 2", 2024, Bound.WITHIN, D(2024, 2, 1), D(2024, 2, 29), True),
    "anniversary-day": ("Quốc khánh 2/9", 2020, Bound.ON, D(2020, 9, 2), D(2020, 9, 2), True),
}


@pytest.mark.parametrize(
    ("text", "year", "bound", "start", "end", "inferred"), CASES.values(), ids=list(CASES)
)
def test_a_time_expression_reads_as_its_bound_and_days(text, year, bound, start, end, inferred):
    when = find_when(text, year)
    assert (when.bound, when.start, when.end, when.year_inferred) == (bound, start, end, inferred)
    assert when.wording.lower() == text.lower()[len(text) - len(when.wording) :].lower()


NOT_DATES = {
    "phone-number": "ĐT 0913.818.656",
    "years-range": "giai đoạn (2016-2020)",
    "no-such-day": "ngày 31/02/2020",
    "no-such-month": "ngày 5/13/2020",
    "document-number": "Số: 03/KH-KTĐTH",
    "roman-heading": "II. NỘI DUNG",
}


@pytest.mark.parametrize("text", NOT_DATES.values(), ids=list(NOT_DATES))
def test_what_is_not_a_day_is_not_read_as_one(text):
    assert find_when(text, 2020) is None


def test_a_sentence_is_dated_by_its_day_not_by_the_period_it_is_about():
    when = main_when("sơ kết 6 tháng đầu năm 2020 trước ngày 10/7/2020", 2020)
    assert (when.bound, when.start, when.wording) == (
        Bound.BEFORE,
        D(2020, 7, 10),
        "trước ngày 10/7/2020",
    )
