"""How the documents read: dates, decimal-comma numbers, and the body text from templates.

A rendered body is a list of lines, one paragraph each. A line may start with a marker that
says how it is set (see `MARKERS`); `@ranking` stands for the ranking table, `@rule` for a
short centred rule.
"""

import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from documents.model import YearEnd
from domain.dates import TZ, fmt_date

MARKERS = {
    "!": "title",  # bold, centred
    "#": "heading",  # bold
    "##": "subheading",  # bold italic
    "###": "minor",  # italic
    ">": "centred",
}

ENVIRONMENT = Environment(
    loader=PackageLoader("documents", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,  # an included partial ends its last line
)


def long_date(day: date) -> str:
    """ "ngày 05 tháng 3 năm 2020": days below 10 and months 1 and 2 take a leading zero."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_date(place: str, day: date) -> str:
    """ "Bắc Giang, ngày 05 tháng 3 năm 2020" (Nghị định 30/2020/NĐ-CP)."""
    return f"{place}, {long_date(day)}"


def clock(instant: datetime) -> str:
    """ "14 giờ 00" in Vietnam time; `instant` must be timezone-aware."""
    return f"{_local(instant):%H} giờ {_local(instant):%M}"


def clock_date(instant: datetime) -> str:
    """ "14 giờ 00, ngày 15 tháng 12 năm 2020" in Vietnam time."""
    return f"{clock(instant)}, {long_date(_local(instant).date())}"


def points(value: float) -> str:
    """Points with a decimal comma and no trailing zeros: "95,5", "90", "87,25"; never raises
    (a float too large for a score keeps all its digits, one that is not a number is "—")."""
    return _decimal_comma(Decimal(str(value)), "0.01")


def percent(part: float, whole: float) -> str:
    """`part` of `whole` to one decimal: "88,9%", "50%"."""
    if not whole:
        raise ValueError("a percentage of nothing: the whole must not be zero")
    return _decimal_comma(Decimal(str(part)) * 100 / Decimal(str(whole)), "0.1") + "%"


def body_lines(name: str, year_end: YearEnd) -> list[str]:
    """The non-empty lines of template `name`.txt.j2 rendered for `year_end`, in NFC."""
    context = {**vars(year_end), "members": len(year_end.scores.results)}
    text = ENVIRONMENT.get_template(f"{name}.txt.j2").render(context)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [unicodedata.normalize("NFC", line) for line in lines if line]


def split_marker(line: str) -> tuple[str | None, str]:
    """The style of a body line (a value of `MARKERS`, or None for body text) and its text."""
    marker, _, text = line.partition(" ")
    return (MARKERS[marker], text) if marker in MARKERS else (None, line)


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant} has no time zone: pass an aware datetime")
    return instant.astimezone(TZ)


def _decimal_comma(value: Decimal, step: str) -> str:
    if not value.is_finite():
        return "—"
    with localcontext(prec=400):  # quantize() fails past the default 28 digits; a float has 309
        text = f"{value.quantize(Decimal(step), ROUND_HALF_UP) + 0:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


ENVIRONMENT.filters.update(
    points=points,
    percent=percent,
    clock=clock,
    clock_date=clock_date,
    day=lambda instant: fmt_date(_local(instant).date()),
)
