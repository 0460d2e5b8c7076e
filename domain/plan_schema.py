"""The plan file's schema (documented in docs/plan-format.md) and its cross-field rules.

Structure and types are checked by pydantic (`extra="forbid"`: an unknown key is an error);
the rules that relate one part of the plan to another are in `semantic_errors`, which
returns every problem at once, each with the path of the field it is about.
"""

import datetime as dt
import math
import re
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from domain.self_score import MAX_OCCURRENCES

Path = tuple[str | int, ...]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
MAX_POINTS = 10_000  # any maximum on the score sheet; a real sheet has 100
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: in a name they
# would break a calendar feed's or an email header's lines, or forge new ones.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SHARE = re.compile(r"\s*\d{1,9}\s*/\s*[1-9]\d{0,8}\s*|\s*\d{0,9}\.?\d{1,9}\s*")  # "2/3", "0.5"


def quoted(value: object) -> str:
    """A value as an error message quotes it: short, on one line, never a whole list or mapping."""
    if isinstance(value, dict):
        return "một nhóm trường"
    if isinstance(value, list | tuple):
        return "một danh sách" if value else "[]"
    text = repr(value[:60] if isinstance(value, str) else value)  # repr() of all of it costs
    return text if len(text) <= 60 else text[:59] + "…"


def _refusing(control: re.Pattern) -> AfterValidator:
    def check(value: str) -> str:
        found = control.search(value)
        if found:
            raise ValueError(
                f"không được chứa ký tự điều khiển hay ngắt dòng (U+{ord(found.group()):04X} ở "
                f"ký tự thứ {found.start() + 1})"
            )
        return value

    return AfterValidator(check)


Name = Annotated[str, Field(max_length=1000), _refusing(_CONTROL)]  # names, titles: one line
Prose = Annotated[str, Field(max_length=5000), _refusing(_CONTROL_BUT_NEWLINE)]
Points = Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False)]


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:  # its reason is in English: say what to check instead
        raise ValueError(
            f"địa chỉ email không hợp lệ: {quoted(value)} (kiểm tra dấu @ và tên miền)"
        ) from None


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]


def _clock(value: object) -> object:
    # YAML reads an unquoted 14:00 as the integer 840 (sexagesimal): insist on a quoted "HH:MM".
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        raise ValueError(
            f'giờ phải viết trong ngoặc kép dạng "HH:MM", ví dụ "14:00" (đang là {quoted(value)})'
        )
    return value


ClockTime = Annotated[dt.time, BeforeValidator(_clock)]


def _share(value: object) -> object:
    # A share of the members: 0.5, or an exact fraction such as "2/3" (0.6667 of 9 is not 6).
    if isinstance(value, float) and math.isfinite(value):
        return Fraction(str(value))
    if isinstance(value, float) or (isinstance(value, str) and not _SHARE.fullmatch(value)):
        raise ValueError(
            f'tỉ lệ phải là số thập phân (0.5) hoặc phân số ("2/3"), đang là {quoted(value)}'
        )
    return re.sub(r"\s", "", value) if isinstance(value, str) else value


Share = Annotated[Fraction, BeforeValidator(_share), Field(gt=0, le=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRule(StrEnum):
    """How "trước ngày D" becomes an instant: exclusive = due 00:00 on D; inclusive = on D+1."""

    EXCLUSIVE = "exclusive"
    INCLUSIVE = "inclusive"


class DeadlineKind(StrEnum):
    REGISTRATION = "registration"
    REPORT = "report"
    SELF_SCORE = "self_score"
    OTHER = "other"


class Bloc(Strict):
    code: Code
    name: Name
    province: Name


class Source(Strict):
    title: Name
    number: Name | None = None
    file: Name | None = None


class Person(Strict):
    name: Name
    title: Name | None = None
    phone: Name | None = None
    emails: list[Email] = Field(min_length=1)


class Secretariat(Person):
    unit: Code


class UnitContacts(Strict):
    focal_point: Person
    leader: Person | None = None


class Unit(Strict):
    code: Code
    name: Name
    short_name: Name | None = None
    contacts: UnitContacts


class Anniversary(Strict):
    date: dt.date
    name: Name


class Round(Strict):
    code: Code
    name: Name
    start: dt.date
    end: dt.date
    theme: Prose | None = None
    anniversaries: list[Anniversary] = []


class ReminderPolicy(Strict):
    """Working days before the deadline, on the day, then every N working days after."""

    before: list[Annotated[int, Field(ge=1, le=60)]] = [7, 3, 1]
    on_day: bool = True
    after_first: Annotated[int, Field(ge=1, le=30)] = 1
    after_every: Annotated[int, Field(ge=1, le=30)] = 3
    escalate_from: Annotated[int, Field(ge=1, le=30)] = 2
    max_overdue: Annotated[int, Field(ge=0, le=30)] = 5


class Deadline(Strict):
    code: Code
    kind: DeadlineKind
    round: Code
    title: Name
    wording: Name
    date: dt.date
    owed_by: Literal["all"] | list[Code] = "all"
    recipient: Literal["head"] | Code = "head"
    documents: list[Name] = Field(min_length=1)
    reminders: ReminderPolicy | None = None


class Meeting(Strict):
    code: Code
    title: Name
    round: Code | None = None
    wording: Name | None = None
    date: dt.date | None = None
    until: dt.date | None = None  # held from `date` to this day: several days, or "in June"
    start: ClockTime | None = None
    end: ClockTime | None = None
    before: dt.date | None = None  # "trước ngày D": held on a day before D
    after: dt.date | None = None  # "sau ngày D": held on a day after D
    location: Name | None = None
    host: Literal["head"] | Code = "head"


class Criterion(Strict):
    code: Code
    name: Name
    max: Points


class ScoreGroup(Strict):
    code: Code
    name: Name
    max: Points
    criteria: list[Criterion] = Field(min_length=1)


class BonusItem(Strict):
    code: Code
    name: Name
    max: Points


class PenaltyItem(Strict):
    code: Code
    name: Name
    points: Points
    disciplinary: bool = False  # a disciplined officer: disqualifies where `disciplined` applies


class ScoreSheet(Strict):
    total: Points
    step: Annotated[float, Field(ge=0.01, le=MAX_POINTS, allow_inf_nan=False)] = 0.5
    bonus_cap: Annotated[float, Field(ge=0, le=MAX_POINTS, allow_inf_nan=False)] = 10
    max_occurrences: Annotated[int, Field(ge=1, le=1000)] = MAX_OCCURRENCES  # per penalty item
    evidence_required: bool = True
    groups: list[ScoreGroup] = Field(min_length=1)
    bonus: list[BonusItem] = []
    penalties: list[PenaltyItem] = []


class Commendation(Strict):
    code: Code
    title: Name
    quota: Annotated[int, Field(ge=0, le=1000)]
    candidates_from_top: Annotated[int, Field(ge=1, le=1000)] | None = None
    min_score: Annotated[float, Field(ge=0, le=MAX_POINTS, allow_inf_nan=False)] | None = None
    vote_share: Share = Fraction(1, 2)
    disqualified_if: list[Literal["no_registration", "disciplined"]] = []


class Election(Strict):
    method: Literal["election", "rotation"] = "election"
    majority: Share = Fraction(1, 2)
    quorum: Share = Fraction(2, 3)
    ballot_working_days: Annotated[int, Field(ge=1, le=30)] = 5
    deputy_becomes_head: bool = True
    head_may_serve_again: bool = False
    on_tie: Literal["revote_then_rotation", "rotation", "refer"] = "revote_then_rotation"
    rotation: list[Code] = []


class ReportTo(Strict):
    """Where the year's result report goes (e.g. Ban Thi đua - Khen thưởng tỉnh)."""

    name: Name
    emails: list[Email] = Field(min_length=1)


class Calendar(Strict):
    """Days off and swapped working days announced for the year, on top of the law's holidays."""

    extra_holidays: list[dt.date] = []
    extra_working_days: list[dt.date] = []
    office_hours: tuple[ClockTime, ClockTime] = (dt.time(7, 30), dt.time(17, 0))


class PlanDocument(Strict):
    format: Literal[1]
    year: Annotated[int, Field(ge=2000, le=2100)]
    title: Name
    bloc: Bloc
    source: Source
    timezone: Literal["Asia/Ho_Chi_Minh"] = "Asia/Ho_Chi_Minh"
    deadline_rule: DeadlineRule = DeadlineRule.EXCLUSIVE
    head: Code
    deputy: Code
    secretariat: Secretariat
    calendar: Calendar = Calendar()
    reminders: ReminderPolicy = ReminderPolicy()
    units: list[Unit] = Field(min_length=2)
    rounds: list[Round] = Field(min_length=1)
    deadlines: list[Deadline] = []
    meetings: list[Meeting] = []
    score_sheet: ScoreSheet
    commendations: list[Commendation] = []
    election: Election = Election()
    report_to: ReportTo | None = None


def semantic_errors(plan: PlanDocument) -> list[tuple[Path, str]]:
    """Every rule that ties one part of the plan to another, as (field path, message)."""
    errors: list[tuple[Path, str]] = []
    unit_codes = _unique_codes(plan.units, "units", "đơn vị", errors)
    round_codes = _unique_codes(plan.rounds, "rounds", "đợt thi đua", errors)
    _unique_codes(plan.deadlines, "deadlines", "hạn nộp", errors)
    _unique_codes(plan.meetings, "meetings", "cuộc họp", errors)
    _unique_codes(plan.commendations, "commendations", "hình thức khen thưởng", errors)

    def unit_ref(path: Path, code: str) -> None:
        if code != "head" and code not in unit_codes:
            errors.append((path, f"đơn vị '{code}' không có trong danh sách units"))

    def in_year(path: Path, day: dt.date | None) -> None:
        if day is not None and day.year != plan.year:
            errors.append((path, f"ngày {day:%d/%m/%Y} nằm ngoài năm kế hoạch {plan.year}"))

    unit_ref(("head",), plan.head)
    unit_ref(("deputy",), plan.deputy)
    unit_ref(("secretariat", "unit"), plan.secretariat.unit)
    if plan.head == plan.deputy:
        errors.append((("deputy",), "Phó Trưởng khối phải khác Trưởng khối"))

    rounds = {r.code: r for r in plan.rounds}
    for i, rnd in enumerate(plan.rounds):
        in_year(("rounds", i, "start"), rnd.start)
        in_year(("rounds", i, "end"), rnd.end)
        if rnd.end < rnd.start:
            errors.append((("rounds", i, "end"), "ngày kết thúc đợt trước ngày bắt đầu"))
        for j, ann in enumerate(rnd.anniversaries):
            in_year(("rounds", i, "anniversaries", j, "date"), ann.date)
        for other in plan.rounds[:i]:
            if rnd.start <= other.end and other.start <= rnd.end:
                errors.append(
                    (
                        ("rounds", i, "start"),
                        f"đợt '{rnd.code}' trùng thời gian với đợt '{other.code}'",
                    )
                )

    for i, deadline in enumerate(plan.deadlines):
        path = ("deadlines", i)
        in_year((*path, "date"), deadline.date)
        unit_ref((*path, "recipient"), deadline.recipient)
        if deadline.owed_by != "all":
            for j, code in enumerate(deadline.owed_by):
                unit_ref((*path, "owed_by", j), code)
        rnd = rounds.get(deadline.round)
        if rnd is None:
            errors.append(
                ((*path, "round"), f"đợt '{deadline.round}' không có trong danh sách rounds")
            )
        elif deadline.date <= rnd.start:
            errors.append(
                (
                    (*path, "date"),
                    f"hạn {deadline.date:%d/%m/%Y} không sau ngày bắt đầu đợt '{rnd.code}'",
                )
            )

    for i, meeting in enumerate(plan.meetings):
        path = ("meetings", i)
        for field in ("date", "until", "before", "after"):
            in_year((*path, field), getattr(meeting, field))
        unit_ref((*path, "host"), meeting.host)
        if meeting.round is not None and meeting.round not in round_codes:
            errors.append(
                ((*path, "round"), f"đợt '{meeting.round}' không có trong danh sách rounds")
            )
        if meeting.date is None and meeting.before is None and meeting.after is None:
            errors.append((path, "cuộc họp cần 'date', hoặc 'before' / 'after'"))
        if (meeting.start or meeting.end) and meeting.date is None:
            errors.append(((*path, "start"), "giờ họp chỉ dùng được khi đã có 'date'"))
        if meeting.start and meeting.end and meeting.end <= meeting.start:
            errors.append(((*path, "end"), "giờ kết thúc phải sau giờ bắt đầu"))
        if meeting.until and (meeting.date is None or meeting.until <= meeting.date):
            errors.append(((*path, "until"), "'until' cần 'date' và phải sau ngày đó"))
        if meeting.until and (meeting.start or meeting.end):
            errors.append(((*path, "until"), "cuộc họp nhiều ngày không ghi giờ bắt đầu/kết thúc"))

    _check_score_sheet(plan.score_sheet, errors)
    for i, code in enumerate(plan.election.rotation):
        unit_ref(("election", "rotation", i), code)
    for field in ("extra_holidays", "extra_working_days"):
        for i, day in enumerate(getattr(plan.calendar, field)):
            in_year(("calendar", field, i), day)
    return errors


def _unique_codes(items, field: str, what: str, errors: list) -> set[str]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.code in seen:
            errors.append(((field, i, "code"), f"mã {what} '{item.code}' bị trùng"))
        seen.add(item.code)
    return seen


def _check_score_sheet(sheet: ScoreSheet, errors: list) -> None:
    group_sum = sum(group.max for group in sheet.groups)
    if group_sum != sheet.total:
        errors.append(
            (
                ("score_sheet", "total"),
                f"tổng điểm tối đa các nhóm là {group_sum:g}, khác {sheet.total:g}",
            )
        )
    codes: set[str] = set()
    for i, group in enumerate(sheet.groups):
        criteria_sum = sum(c.max for c in group.criteria)
        if criteria_sum != group.max:
            errors.append(
                (
                    ("score_sheet", "groups", i, "max"),
                    f"nhóm '{group.code}': tổng điểm các tiêu chí là {criteria_sum:g}, khác {group.max:g}",
                )
            )
        items = [("groups", i), *(("groups", i, "criteria", j) for j in range(len(group.criteria)))]
        for path, item in zip(items, [group, *group.criteria], strict=True):
            _claim_code(("score_sheet", *path, "code"), item.code, codes, errors)
            if (item.max / sheet.step) % 1:
                errors.append(
                    (
                        ("score_sheet", *path, "max"),
                        f"điểm {item.max:g} không chia hết cho bước {sheet.step:g}",
                    )
                )
    for field in ("bonus", "penalties"):
        for i, item in enumerate(getattr(sheet, field)):
            _claim_code(("score_sheet", field, i, "code"), item.code, codes, errors)


def _claim_code(path: Path, code: str, codes: set[str], errors: list) -> None:
    if code in codes:
        errors.append((path, f"mã '{code}' trong bảng điểm bị trùng"))
    codes.add(code)
