"""What the feeds contain: pure functions from a plan's rows to event descriptions.

UIDs come from the plan's identities (bloc code, year, event code; unit code in private feeds),
so regenerating a feed never changes them. Deadlines are all-day events on the last day to
submit; rounds are all-day spans; meetings are timed when their time is known.
"""

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from domain.dates import TZ, fmt_date, last_day
from domain.extensions import unit_due_at
from domain.status import SubmissionState
from models.tables import Anniversary, Deadline, Meeting, Round, Unit

UID_DOMAIN = "thidua"
# VALARM triggers relative to the all-day event's start (00:00 on the last day): 09:00 seven
# days before, and 09:00 the day before.
DEADLINE_ALARMS = (-timedelta(days=6, hours=15), -timedelta(hours=15))
DEFAULT_MEETING_LENGTH = timedelta(hours=2)
HOW_TO_SUBMIT = "Đơn vị nộp hồ sơ trên trang nộp hồ sơ riêng, theo đường dẫn trong thư của khối."


@dataclass(frozen=True)
class EventSpec:
    """One VEVENT's content, without the bookkeeping (SEQUENCE, LAST-MODIFIED, STATUS)."""

    uid: str
    summary: str
    start: date | datetime
    end: date | datetime
    description: str = ""
    location: str | None = None
    url: str | None = None
    alarms: tuple[timedelta, ...] = ()
    categories: tuple[str, ...] = field(default=())

    def to_content(self) -> dict:
        """A JSON-able form: what the registry stores and hashes to detect a change."""
        data = asdict(self)
        for key in ("start", "end"):
            value = data[key]
            data[key] = {"datetime" if isinstance(value, datetime) else "date": value.isoformat()}
        data["alarms"] = [int(alarm.total_seconds()) for alarm in self.alarms]
        data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_content(cls, data: dict) -> "EventSpec":
        data = dict(data)
        for key in ("start", "end"):
            ((kind, text),) = data[key].items()
            value = datetime.fromisoformat(text).astimezone(TZ) if kind == "datetime" else None
            data[key] = value or date.fromisoformat(text)
        data["alarms"] = tuple(timedelta(seconds=s) for s in data["alarms"])
        data["categories"] = tuple(data["categories"])
        return cls(**data)

    def content_json(self) -> str:
        return json.dumps(self.to_content(), sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class PlanRows:
    """A plan's events as loaded from the database (cancelled rows are left out)."""

    bloc_code: str
    year: int
    rounds: list[Round]
    anniversaries: list[Anniversary]
    deadlines: list[Deadline]
    meetings: list[Meeting]
    unit_names: dict[int, str]


def _text(value: str) -> str:
    # NFC keeps Vietnamese diacritics as single code points, so folding never splits a letter.
    return unicodedata.normalize("NFC", value)


def _uid(rows: PlanRows, kind: str, key: str, unit: Unit | None = None) -> str:
    suffix = f"-{unit.code}" if unit else ""
    return f"{rows.bloc_code}-{rows.year}-{kind}-{key}{suffix}@{UID_DOMAIN}"


def bloc_events(rows: PlanRows) -> list[EventSpec]:
    """The bloc-wide feed: rounds, anniversaries, every deadline and every meeting."""
    events = [
        EventSpec(
            uid=_uid(rows, "round", r.code),
            summary=_text(f"{r.name} ({fmt_date(r.starts_on)} – {fmt_date(r.ends_on)})"),
            start=r.starts_on,
            end=r.ends_on + timedelta(days=1),
            description=_text(r.theme or ""),
            categories=("Đợt thi đua",),
        )
        for r in rows.rounds
    ]
    events += [
        EventSpec(
            uid=_uid(rows, "anniversary", f"{a.on:%Y%m%d}"),
            summary=_text(f"Kỷ niệm {a.name}"),
            start=a.on,
            end=a.on + timedelta(days=1),
            categories=("Ngày kỷ niệm",),
        )
        for a in rows.anniversaries
    ]
    events += [_deadline_event(rows, d) for d in rows.deadlines]
    events += [_meeting_event(rows, m) for m in rows.meetings]
    return events


def unit_events(
    rows: PlanRows,
    unit: Unit,
    states: dict[int, SubmissionState],
    extended: dict[int, date] | None = None,
) -> list[EventSpec]:
    """A unit's private feed: the deadlines it owes (`states` by deadline id), each on the
    unit's own last day (`extended`: its new last day by deadline id), and the meetings.

    It carries no link that acts for the unit: a feed is read by whoever the calendar is shared
    with, so it only says where the unit submits."""
    events = []
    for d in rows.deadlines:
        state = states.get(d.id)
        if state is None:  # not owed by this unit
            continue
        base = _deadline_event(rows, d, unit, (extended or {}).get(d.id))
        events.append(
            EventSpec(
                uid=base.uid,
                summary=_text(f"[{state.value}] {base.summary}"),
                start=base.start,
                end=base.end,
                description=_text(f"{base.description}\n\n{HOW_TO_SUBMIT}"),
                alarms=DEADLINE_ALARMS if state is SubmissionState.PENDING else (),
                categories=base.categories,
            )
        )
    events += [_meeting_event(rows, m, unit) for m in rows.meetings]
    return events


def _deadline_event(
    rows: PlanRows, d: Deadline, unit: Unit | None = None, until: date | None = None
) -> EventSpec:
    """The deadline on its last day: the plan's, or the unit's new one (`until`, gia hạn)."""
    day = last_day(unit_due_at(d.due_at, until))
    extended = "được gia hạn, " if day != last_day(d.due_at) else ""
    documents = "\n".join(f"- {doc}" for doc in d.documents)
    description = (
        f"Hạn nộp {d.wording} ({extended}hạn cuối: hết ngày {fmt_date(day)}).\n"
        f"Gửi: {rows.unit_names[d.recipient_unit_id]}.\n"
        f"Hồ sơ gồm:\n{documents}"
    )
    return EventSpec(
        uid=_uid(rows, "deadline", d.code, unit),
        summary=_text(f"Hạn nộp: {d.title} ({d.wording})"),
        start=day,
        end=day + timedelta(days=1),
        description=_text(description),
        categories=("Hạn nộp",),
    )


def _meeting_event(rows: PlanRows, m: Meeting, unit: Unit | None = None) -> EventSpec:
    lines = [f"Đơn vị chủ trì: {rows.unit_names[m.host_unit_id]}."]
    if m.wording:
        lines.append(f"Thời gian: {m.wording}.")
    if m.on is None:  # only bounded: shown on its latest (or earliest) possible day
        lines.append("Ngày họp cụ thể sẽ được thông báo sau.")
    if m.starts_at is not None:
        start: date | datetime = m.starts_at.astimezone(TZ)
        end: date | datetime = (m.ends_at or m.starts_at + DEFAULT_MEETING_LENGTH).astimezone(TZ)
    else:
        start = m.on or (m.held_before - timedelta(days=1) if m.held_before else m.held_after)
        end = (m.until or start) + timedelta(days=1)
    summary = f"Họp: {m.title}" if m.starts_at or not m.wording else f"Họp: {m.title} ({m.wording})"
    return EventSpec(
        uid=_uid(rows, "meeting", m.code, unit),
        summary=_text(summary),
        start=start,
        end=end,
        description=_text("\n".join(lines)),
        location=_text(m.location) if m.location else None,
        categories=("Họp khối",),
    )
