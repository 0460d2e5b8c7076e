"""Deciding who gets which email, as of an instant: pure functions from a plan's state to drafts.

The flows load a `PlanState` from the database, call these, and enqueue the drafts; the
outbox keys below are what make a repeated decision a no-op.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from domain.dates import fmt_instant, last_day, local_day
from domain.extensions import unit_due_at
from domain.pauses import Pause, paused
from domain.reminders import Policy, Stage, latest_open, schedule
from domain.status import SubmissionState, submission_state
from domain.workdays import WorkCalendar
from models.tables import Anniversary, Contact, Deadline, Round, Unit
from notifications.outbox import Draft
from notifications.render import render


@dataclass(frozen=True)
class UnitLinks:
    submit_url: str
    calendar_url: str


DIGEST_AT_LEAST_EVERY = timedelta(days=7)  # an unchanged digest is sent again after a week


@dataclass
class PlanState:
    """What the decisions need to know about one active plan."""

    plan_id: int
    year: int
    bloc_name: str
    calendar: WorkCalendar
    units: list[Unit]
    unit_names: dict[int, str]
    focal_points: dict[int, Contact]
    leaders: dict[int, Contact]
    secretariat: Contact
    deadlines: list[Deadline]
    rounds: list[Round]
    anniversaries: list[Anniversary]
    owed: set[tuple[int, int]]
    receipts: dict[tuple[int, int], list[datetime]]
    load_links: Callable[[], dict[int, UnitLinks]]  # called once, when an email needs a link
    sent_reminders: set[str] = field(default_factory=set)  # outbox keys without the recipient
    failures: list[dict] = field(default_factory=list)  # emails that could not be delivered
    waiting: list[dict] = field(default_factory=list)  # emails to retry: count per last error
    last_digest: tuple[date, str] | None = None  # the day and content hash of the last digest
    admin_url: str = ""  # the secretariat's workspace, linked from the digest
    extensions: dict[tuple[int, int], date] = field(default_factory=dict)  # new last days
    pauses: list[Pause] = field(default_factory=list)  # days without reminders (tạm dừng nhắc)

    @cached_property
    def links(self) -> dict[int, UnitLinks]:
        """Each unit's private links (a quiet day's decisions never look them up)."""
        return self.load_links()

    def due_at(self, deadline: Deadline, unit: Unit) -> datetime:
        """When the unit's time on the deadline runs out, its extension included."""
        return unit_due_at(deadline.due_at, self.extensions.get((deadline.id, unit.id)))

    def state(self, deadline: Deadline, unit: Unit, as_of: datetime) -> SubmissionState:
        received = self.receipts.get((deadline.id, unit.id), [])
        return submission_state(self.due_at(deadline, unit), received, as_of)

    def submitted(self, deadline: Deadline, unit: Unit, as_of: datetime) -> bool:
        return self.state(deadline, unit, as_of) in (
            SubmissionState.SUBMITTED,
            SubmissionState.LATE,
        )


@dataclass(frozen=True)
class Decision:
    """One reminder decided for a unit on a deadline (before it becomes per-recipient drafts)."""

    unit: Unit
    deadline: Deadline
    stage: Stage


def reminder_key(deadline: Deadline, unit: Unit, stage: str, due_at: datetime | None = None) -> str:
    """The outbox key of a reminder, without the recipient; `due_at`: the unit's own due
    instant when it was given an extension."""
    # The due date is part of the key: a moved deadline, or a unit's extension (its new last
    # day is added), gets a fresh schedule.
    due = deadline.due_on.isoformat()
    if due_at is not None and due_at != deadline.due_at:
        due += f"~{last_day(due_at).isoformat()}"
    return f"reminder:{deadline.id}:{due}:{unit.id}:{stage}"


def due_reminders(state: PlanState, as_of: datetime) -> list[Decision]:
    """Every reminder due now: the latest open stage per unit and deadline, if not yet sent;
    counted from the unit's own last day when it was given an extension. Nothing to a unit
    whose reminders are paused today; after the pause, only the stage then current."""
    today = local_day(as_of)
    decisions = []
    for deadline in state.deadlines:
        policy = Policy.from_rules(deadline.reminder_policy)
        open_at: dict[datetime, Stage | None] = {}  # one schedule per distinct due instant
        for unit in state.units:
            if (deadline.id, unit.id) not in state.owed or paused(state.pauses, unit.id, today):
                continue
            due_at = state.due_at(deadline, unit)
            if due_at not in open_at:
                stages = schedule(due_at, policy, state.calendar)
                open_at[due_at] = latest_open(stages, state.calendar, as_of, policy)
            stage = open_at[due_at]
            if (
                stage is not None
                and reminder_key(deadline, unit, stage.name, due_at) not in state.sent_reminders
                and not state.submitted(deadline, unit, as_of)
            ):
                decisions.append(Decision(unit, deadline, stage))
    return decisions


def common_context(state: PlanState, addressee: str, unit: Unit | None) -> dict:
    secretariat = state.secretariat
    return {
        "year": state.year,
        "addressee": addressee,
        "bloc": {"name": state.bloc_name},
        "secretariat": {
            "name": secretariat.name,
            "title": secretariat.title,
            "phone": secretariat.phone,
            "email": secretariat.emails[0] if secretariat.emails else None,
        },
        "links": state.links[unit.id] if unit else None,
    }


def _deadline_context(state: PlanState, deadline: Deadline, unit: Unit) -> dict:
    """The deadline as the unit's emails show it: with the unit's own last day."""
    due_at = state.due_at(deadline, unit)
    return {
        "title": deadline.title,
        "wording": deadline.wording,
        "last_day": last_day(due_at),
        "extended": due_at != deadline.due_at,
        "recipient": state.unit_names[deadline.recipient_unit_id],
        "documents": deadline.documents,
    }


def reminder_drafts(state: PlanState, decision: Decision, as_of: datetime) -> list[Draft]:
    """The emails of one decision: to the focal point, and when escalated to the leader and the
    secretariat as well."""
    unit, deadline, stage = decision.unit, decision.deadline, decision.stage
    today = local_day(as_of)
    due_at = state.due_at(deadline, unit)
    last = last_day(due_at)
    template = {"before": "reminder_before", "due": "due_today", "overdue": "overdue"}[
        stage.name.split("-")[0]
    ]
    context = {
        "unit": unit.name,
        "deadline": _deadline_context(state, deadline, unit),
        "today": today,
        "working_days_left": state.calendar.count_between(today, last),
        "working_days_late": state.calendar.count_between(last, today),
        "escalated": False,
    }
    recipients = [(state.focal_points[unit.id], False)]
    if stage.escalate:
        if unit.id in state.leaders:
            recipients.append((state.leaders[unit.id], True))
        recipients.append((state.secretariat, True))
    drafts: list[Draft] = []
    for contact, escalated in recipients:
        addressee = (
            f"Lãnh đạo {unit.name}"
            if escalated and contact.role == "leader"
            else (contact.name if escalated else unit.name)
        )
        message = render(
            template, {**common_context(state, addressee, unit), **context, "escalated": escalated}
        )
        for email in contact.emails:
            if any(d.recipient == email for d in drafts):
                continue  # one address, one email (the head's secretariat is its focal point)
            drafts.append(
                Draft(
                    key=f"{reminder_key(deadline, unit, stage.name, due_at)}:{email}",
                    recipient=email,
                    stage=stage.name,
                    message=message,
                    thread=f"{deadline.id}:{unit.id}",
                    plan_id=state.plan_id,
                    unit_id=unit.id,
                    deadline_id=deadline.id,
                )
            )
    return drafts


def round_drafts(state: PlanState, as_of: datetime) -> list[Draft]:
    """Announce each round in progress to every unit, once; with it, the registration request
    for each registration deadline of the round not yet due and not yet submitted."""
    today = local_day(as_of)
    if not state.calendar.is_office_time(as_of):
        return []
    drafts = []
    for rnd in state.rounds:
        if not rnd.starts_on <= today <= rnd.ends_on:
            continue
        in_round = [d for d in state.deadlines if d.round_id == rnd.id]
        for unit in state.units:
            owed = [d for d in in_round if (d.id, unit.id) in state.owed]
            context = {
                **common_context(state, unit.name, unit),
                "round": {
                    "name": rnd.name,
                    "starts_on": rnd.starts_on,
                    "ends_on": rnd.ends_on,
                    "theme": rnd.theme,
                    "anniversaries": [a for a in state.anniversaries if a.round_id == rnd.id],
                    "deadlines": [_deadline_context(state, d, unit) for d in owed],
                },
            }
            messages = [
                (f"round:{rnd.id}", "round-opening", render("round_opening", context), None)
            ]
            for deadline in owed:
                if (
                    deadline.kind == "registration"
                    and as_of < state.due_at(deadline, unit)
                    and not state.submitted(deadline, unit, as_of)
                ):
                    request = render(
                        "registration_request",
                        {**context, "deadline": _deadline_context(state, deadline, unit)},
                    )
                    messages.append(
                        (
                            f"registration:{deadline.id}",
                            "registration-request",
                            request,
                            deadline.id,
                        )
                    )
            for key, stage, message, deadline_id in messages:
                drafts += [
                    Draft(
                        key=f"{key}:{unit.id}:{email}",
                        recipient=email,
                        stage=stage,
                        message=message,
                        plan_id=state.plan_id,
                        unit_id=unit.id,
                        deadline_id=deadline_id,
                    )
                    for email in state.focal_points[unit.id].emails
                ]
    return drafts


def digest_drafts(state: PlanState, as_of: datetime) -> list[Draft]:
    """The digest to the secretariat: for each deadline in progress, where each unit stands,
    and the emails that could not be delivered or wait to be retried. Sent on a working day
    when this differs from the last digest, or when the last is a week old; nothing on a
    quiet day."""
    today = local_day(as_of)
    if not state.calendar.is_office_time(as_of):
        return []
    columns = [d for d in state.deadlines if _in_progress(state, d, today, as_of)]
    if not columns and not state.failures and not state.waiting:
        return []
    rows = [
        {
            "unit": unit.name,
            "cells": [
                state.state(d, unit, as_of).value if (d.id, unit.id) in state.owed else "—"
                for d in columns
            ],
        }
        for unit in state.units
    ]
    content = {
        "columns": [{"title": d.title, "last_day": last_day(d.due_at)} for d in columns],
        "rows": rows,
        "failures": state.failures,
        "waiting": state.waiting,
    }
    fingerprint = hashlib.sha256(
        json.dumps(content, default=str, ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()[:16]
    if state.last_digest:
        day, last = state.last_digest
        if last == fingerprint and today < day + DIGEST_AT_LEAST_EVERY:
            return []
    context = {
        **common_context(state, state.secretariat.name, None),
        **content,
        "today": today,
        "admin_url": state.admin_url,
    }
    message = render("digest", context)
    return [
        Draft(
            key=f"digest:{state.plan_id}:{today.isoformat()}:{fingerprint}:{email}",
            recipient=email,
            stage="digest",
            message=message,
            plan_id=state.plan_id,
        )
        for email in state.secretariat.emails
    ]


def _in_progress(state: PlanState, deadline: Deadline, today: date, as_of: datetime) -> bool:
    """Reminders for it have started, and some unit still owes it."""
    stages = schedule(deadline.due_at, Policy.from_rules(deadline.reminder_policy), state.calendar)
    if not stages or today < stages[0].day:
        return False
    return any(
        not state.submitted(deadline, unit, as_of)
        for unit in state.units
        if (deadline.id, unit.id) in state.owed
    )


def receipt_drafts(
    state: PlanState,
    unit: Unit,
    deadline: Deadline,
    submission,
    files: list[str],
    details: list[str] = (),
) -> list[Draft]:
    """The acknowledgement of an accepted submission, to the unit's focal point: what was
    received (`details`: the registration's title and counts, the self score's total), the note
    and the files, as the unit's page shows them."""
    context = {
        **common_context(state, unit.name, unit),
        "unit": unit.name,
        "deadline": _deadline_context(state, deadline, unit),
        "version": submission.version,
        "received_at": fmt_instant(submission.received_at),
        "late": submission.received_at >= state.due_at(deadline, unit),
        "files": files,
        "details": list(details),
        "note": submission.note,
    }
    message = render("receipt", context)
    return [
        Draft(
            key=f"receipt:{submission.id}:{email}",
            recipient=email,
            stage="receipt",
            message=message,
            thread=f"{deadline.id}:{unit.id}",
            plan_id=state.plan_id,
            unit_id=unit.id,
            deadline_id=deadline.id,
        )
        for email in state.focal_points[unit.id].emails
    ]


def links_drafts(state: PlanState, unit: Unit, asked_at: datetime) -> list[Draft]:
    """The unit's private links, sent again to its focal point because the secretariat asked
    at `asked_at` (each request is a new email)."""
    message = render("unit_links", {**common_context(state, unit.name, unit), "unit": unit.name})
    return [
        Draft(
            key=f"links:{state.plan_id}:{unit.id}:{asked_at.isoformat()}:{email}",
            recipient=email,
            stage="links",
            message=message,
            plan_id=state.plan_id,
            unit_id=unit.id,
        )
        for email in state.focal_points[unit.id].emails
    ]
