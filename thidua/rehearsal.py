"""A rehearsal of a plan's year: the flows' own code driven by a moving clock, in a scratch
database, sending to a local SMTP sink, with simulated units — some on time, one late, one
resubmitting, one that never answers — and a secretariat that verifies the scores. It shows
a secretariat, before it activates a plan, every email and state change the year would bring.
"""

import asyncio
import logging
import socket
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from domain.dates import TZ, fmt_date, last_day, local_day
from domain.registration import COLLECTIVE_TITLES, INDIVIDUAL_TITLES, check_registration
from domain.scoring import rank
from domain.workdays import WorkCalendar
from flows.chase import chase_decisions, mail_run
from flows.close import close_run
from flows.schedules import OPEN_ROUND, plan_schedules
from flows.scores import scores_run
from models import queries
from models.db import make_engine, session_scope, upgrade
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import sheet_view
from models.tables import AuditEvent, Deadline, OutboxMessage, Poll, Unit, YearPlan
from models.year_end import (
    accept_self_scores,
    candidate_ids,
    cast_ballot,
    plan_polls,
    unit_scores,
    voted,
)
from notifications.drafts import round_drafts
from notifications.kinds import kind_name
from notifications.mailer import send_outbox
from notifications.state import plan_calendar
from operations.approval import automatic
from operations.closing import STEP_NAMES
from operations.intake import Upload, take_submission

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STATUS = {"accepted": "đã nhận", "rejected": "không hợp lệ"}
VERIFY_AFTER = 4  # working days after the annual report's last day
QUIET = logging.getLogger("thidua.rehearsal")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # thư | nộp | thẩm định | bỏ phiếu | kết thúc năm
    unit: str | None
    text: str


@dataclass(frozen=True)
class Email:
    at: datetime  # the rehearsal's clock when it was sent
    stage: str
    unit: str | None  # None: to the secretariat or the provincial board
    recipient: str
    subject: str


@dataclass
class Rehearsal:
    behaviours: dict[str, str]  # unit code -> on_time | late | never | resubmits
    events: list[Event] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    ranking: list[tuple[int, str, float]] = field(default_factory=list)
    head: str | None = None
    deputy: str | None = None
    received: int = 0  # messages the SMTP sink accepted

    def stages(self) -> Counter:
        """(unit code, stage) -> number of emails."""
        return Counter((e.unit, e.stage) for e in self.emails)


def behaviours_for(units: list[str]) -> dict[str, str]:
    """The last unit never answers, the one before is late, the one before resubmits."""
    roles = ["on_time"] * len(units)
    for offset, role in ((-1, "never"), (-2, "late"), (-3, "resubmits")):
        if len(units) >= -offset + 1:
            roles[offset] = role
    return dict(zip(units, roles, strict=True))


def rehearse(
    plan_path: Path, *, work_dir: Path, start: date | None = None, end: date | None = None
) -> Rehearsal:
    """Run the plan's year (or `start`..`end`) in `work_dir`; stops when the year is closed.
    Every email goes to a local SMTP server (`thidua.smtp_sink`) that counts them."""
    with socket.socket() as probe:  # a free port: aiosmtpd checks it can connect to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen(
        [sys.executable, "-m", "thidua.smtp_sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the rehearsal's SMTP server did not start")
        settings = Settings(
            data_dir=work_dir,
            database_url=f"sqlite:///{work_dir / 'rehearsal.db'}",
            smtp_url=f"smtp://127.0.0.1:{port}",
            public_url="https://thidua.invalid",
            secret_key="rehearsal-" + "k" * 32,
        )
        result = _run(plan_path, settings, start, end)
    finally:
        received, _ = sink.communicate(timeout=60)  # closes its input: it stops and counts
    result.received = int(received.strip() or 0)
    return result


@dataclass
class _Year:
    """What the rehearsal knows of the plan once loaded, so a quiet day costs next to nothing."""

    engine: Engine
    settings: Settings
    calendar: WorkCalendar
    codes: dict[int, str]  # unit id -> code, in the plan's order
    acts: dict[date, list[tuple[int, int, int]]]  # day -> (deadline id, unit id, version)
    verify_on: date | None  # when the secretariat verifies the scores
    annual_due: datetime | None  # the last annual report deadline

    @cached_property
    def order(self) -> dict[int, int]:
        """Unit id -> its place in the plan (the first scores best)."""
        return {unit_id: index for index, unit_id in enumerate(self.codes)}


def _run(plan_path: Path, settings: Settings, start: date | None, end: date | None) -> Rehearsal:
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        load_plan(session, read_plan(plan_path), actor="rehearsal")
        plan = session.exec(select(YearPlan)).one()
        plan.state = "active"
        codes = {u.id: u.code for u in queries.plan_units(session=session, plan=plan)}
        result = Rehearsal(behaviours_for(list(codes.values())))
        year = _prepare(session, plan, engine, settings, codes, result.behaviours)
        day = start or date(plan.year, 1, 1)
        last = end or date(plan.year + 1, 1, 31)
    with Session(engine) as session:  # as `sync-schedules` sets them when the plan goes live
        links = Links(settings.base_url, settings.signing_key())
        schedules = plan_schedules(session, links=links, as_of=datetime.combine(day, time(), TZ))
    openings = {t for s in schedules if s.deployment == OPEN_ROUND for t in s.times}
    seen = 0
    while day <= last:
        for at, act in _day(day, openings):
            act(year, at, result)
            seen = _collect(year, result, seen, at)
        if end is None and _state(engine) == "closed":
            break
        day += timedelta(days=1)
    _summary(engine, result)
    engine.dispose()
    return result


def _prepare(session, plan, engine, settings, codes, behaviours) -> _Year:
    """Each unit's submission days, from its behaviour and the plan's working days."""
    calendar = plan_calendar(plan)
    deadlines = [d for d in queries.plan_events(session=session, plan=plan)[2] if not d.cancelled]
    owed = queries.obligations(session=session, plan=plan)
    acts: dict[date, list[tuple[int, int, int]]] = defaultdict(list)
    for unit_id, code in codes.items():
        for deadline in deadlines:
            if (deadline.id, unit_id) not in owed:
                continue
            days = _submission_days(behaviours[code], calendar, last_day(deadline.due_at))
            for version, day in enumerate(days, start=1):
                acts[day].append((deadline.id, unit_id, version))
    annual = [d.due_at for d in deadlines if d.kind == "self_score"]
    verify_on = calendar.shift(last_day(max(annual)), VERIFY_AFTER) if annual else None
    return _Year(engine, settings, calendar, codes, acts, verify_on, max(annual, default=None))


def _day(day: date, openings: set[datetime]):
    """The day's runs: `open-round` at its scheduled times, then the daily ones."""

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), TZ)

    return [
        *((t, _open_rounds) for t in sorted(openings) if local_day(t) == day),
        (at(8), _chase),
        (at(8, 30), _close_year),
        (at(10), _units_act),
        (at(11), _secretariat_verifies),
    ]


def _open_rounds(year: _Year, at, result):
    mail_run(round_drafts, engine=year.engine, settings=year.settings, instant=at, log=QUIET)


def _chase(year: _Year, at, result):
    mail_run(chase_decisions, engine=year.engine, settings=year.settings, instant=at, log=QUIET)


def _close_year(year: _Year, at, result):
    if year.annual_due is None or at < year.annual_due or _state(year.engine) != "active":
        return
    approve = automatic("Trưởng khối (diễn tập)", at)  # the rehearsal approves by itself
    rows = close_run(
        engine=year.engine, settings=year.settings, instant=at, log=QUIET, approve=approve
    )
    for row in rows:
        said = [e.text for e in result.events if e.kind == "kết thúc năm"]
        if not said or said[-1] != row["Chi tiết"]:
            result.events.append(Event(at, "kết thúc năm", None, row["Chi tiết"]))
        if row["Bước"] == STEP_NAMES["opened"]:  # the secretariat runs the scores then
            scores_run(engine=year.engine, settings=year.settings, instant=at, log=QUIET)


def _units_act(year: _Year, at, result):
    """Each unit submits what it owes on the day its behaviour says, and votes once."""
    acts = year.acts.get(at.date(), [])
    with session_scope(year.engine) as session:
        ballot = select(Poll.id).where(Poll.state == "open", Poll.closes_at > at)
        if not (acts or session.exec(ballot).first()):
            return  # a quiet day: the plan (its whole document) is not read
        plan = session.exec(select(YearPlan)).one()
        polls = [
            p for p in plan_polls(session, plan=plan) if p.state == "open" and at < p.closes_at
        ]
        if plan.state != "active":
            return
        view = sheet_view(session, plan=plan)  # one per day, whoever self-scores
        for deadline_id, unit_id, version in acts:
            deadline, unit = session.get(Deadline, deadline_id), session.get(Unit, unit_id)
            submission = _submit(session, year, view, deadline, unit, at)
            late = " (nộp muộn)" if at >= deadline.due_at else ""
            result.events.append(
                Event(
                    at,
                    "nộp",
                    unit.code,
                    f"{deadline.title}, lần {version}{late}: {STATUS[submission.status]}",
                )
            )
        if polls:
            _vote(session, plan, polls, year.codes, result, at)
    asyncio.run(send_outbox(year.engine, year.settings))


def _submission_days(behaviour: str, calendar, due: date) -> list[date]:
    if behaviour == "on_time":
        return [calendar.shift(due, -2)]
    if behaviour == "late":
        return [calendar.shift(due, 3)]
    if behaviour == "resubmits":
        return [calendar.shift(due, -4), calendar.shift(due, -1)]
    return []


def _submit(session, year: _Year, view, deadline, unit, at):
    data = None
    if deadline.kind == "registration":
        data, _ = check_registration(COLLECTIVE_TITLES[0], dict.fromkeys(INDIVIDUAL_TITLES, "1"))
    elif deadline.kind == "self_score":
        index = year.order[unit.id]
        scores = {i.code: i.max_points for i in view.items if i.kind == "criterion"}
        first = next(i for i in view.items if i.kind == "criterion")
        scores[first.code] = max(first.max_points - index * view.sheet.step * 2, 0)
        data = {"scores": scores, "occurrences": {}}
    return take_submission(
        session,
        year.settings,
        deadline=deadline,
        unit=unit,
        received_at=at.astimezone(UTC),
        channel="portal",
        data=data,
        uploads=[Upload(f"{deadline.code}-{unit.code}.pdf", PDF)],
    )


def _vote(session, plan, polls, codes: dict[int, str], result, at):
    """Every unit but the silent one votes on the first working day the ballot is open."""
    members = set(codes)
    order = [r.score.unit for r in rank(unit_scores(session, plan=plan))]
    ids = {code: unit_id for unit_id, code in codes.items()}
    for poll in polls:
        already = voted(session, poll=poll)
        allowed = candidate_ids(session, poll=poll)
        choices = [ids[c] for c in order if ids[c] in allowed][: poll.seats]
        for unit_id, code in codes.items():
            if result.behaviours[code] == "never" or unit_id in already:
                continue
            voter = session.get(Unit, unit_id)
            cast_ballot(session, poll=poll, voter=voter, members=members, choices=choices, at=at)
            result.events.append(Event(at, "bỏ phiếu", code, poll.title))


def _secretariat_verifies(year: _Year, at, result):
    """Four working days after the annual report's last day (late reports included), the
    secretariat verifies every unit's score as self-scored."""
    if year.verify_on is None or at.date() < year.verify_on:
        return
    with session_scope(year.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        if plan.state != "active" or session.exec(select(Poll)).first():
            return
        for unit_id, code in year.codes.items():
            unit = session.get(Unit, unit_id)
            if accept_self_scores(session, plan=plan, unit=unit, actor="rehearsal", at=at):
                result.events.append(Event(at, "thẩm định", code, "giữ nguyên điểm tự chấm"))


def _collect(year: _Year, result, seen: int, at: datetime) -> int:
    with Session(year.engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.id > seen).order_by(OutboxMessage.id)
        ).all()
    for row in rows:
        email = Email(at, row.stage, year.codes.get(row.unit_id), row.recipient, row.subject)
        result.emails.append(email)
        text = f"{kind_name(email.stage)} → {email.recipient}: {email.subject}"
        result.events.append(Event(email.at, "thư", email.unit, text))
    return rows[-1].id if rows else seen


def _state(engine) -> str:
    with Session(engine) as session:
        return session.exec(select(YearPlan.state)).one()


def _summary(engine, result: Rehearsal) -> None:
    with Session(engine) as session:
        plan = session.exec(select(YearPlan)).one()
        result.ranking = [
            (r.rank, r.score.unit, r.score.total) for r in rank(unit_scores(session, plan=plan))
        ]
        close = session.exec(
            select(AuditEvent).where(AuditEvent.action == "close", AuditEvent.plan_id == plan.id)
        ).first()
        if close is not None:
            result.head, result.deputy = close.details["head"], close.details["deputy"]


def timeline(result: Rehearsal) -> list[str]:
    lines = []
    for event in sorted(result.events, key=lambda e: e.at):
        local = event.at.astimezone(TZ)
        who = f"{event.unit:<10}" if event.unit else " " * 10
        lines.append(f"{fmt_date(local.date())} {local:%H:%M}  {event.kind:<9} {who} {event.text}")
    return lines
