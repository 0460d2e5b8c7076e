"""Loading what the email decisions need from the database (one `PlanState` per active plan)."""

from datetime import date, time

from sqlmodel import Session, func, select

from domain.workdays import WorkCalendar, vietnam_calendar
from models import queries
from models.links import Links
from models.pauses import plan_pauses
from models.tables import Bloc, Contact, OutboxMessage, YearPlan
from notifications import outbox
from notifications.drafts import PlanState, UnitLinks


def active_plan_states(session: Session, *, links: Links) -> list[PlanState]:
    plans = session.exec(
        select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.id)
    ).all()
    return [plan_state(session, plan=plan, links=links) for plan in plans]


def plan_calendar(plan: YearPlan) -> WorkCalendar:
    """The plan's working days and office hours (Vietnamese holidays plus the plan's own)."""
    rules = plan.rules.get("calendar", {})
    opens, closes = (time.fromisoformat(t) for t in rules.get("office_hours", ["07:30", "17:00"]))
    return vietnam_calendar(
        [plan.year],
        extra_holidays=[date.fromisoformat(d) for d in rules.get("extra_holidays", [])],
        extra_working_days=[date.fromisoformat(d) for d in rules.get("extra_working_days", [])],
        office_hours=(opens, closes),
    )


def plan_state(
    session: Session, *, plan: YearPlan, links: Links, only_units: set[int] | None = None
) -> PlanState:
    """With `only_units`, what a receipt to those units needs: their rows, without the bloc's
    mail history (reminders sent, failures), so that its cost does not grow with the bloc."""
    bloc = session.get(Bloc, plan.bloc_id)
    units = queries.plan_units(session=session, plan=plan, only=only_units)
    rounds, anniversaries, deadlines, _ = queries.plan_events(session=session, plan=plan)
    contacts = session.exec(select(Contact).where(Contact.unit_id.in_([u.id for u in units]))).all()
    state = PlanState(
        plan_id=plan.id,
        year=plan.year,
        bloc_name=bloc.name,
        calendar=plan_calendar(plan),
        units=units,
        unit_names=queries.unit_names(session=session, bloc_id=bloc.id),
        focal_points={c.unit_id: c for c in contacts if c.role == "focal_point"},
        leaders={c.unit_id: c for c in contacts if c.role == "leader"},
        secretariat=session.get(Contact, plan.secretariat_contact_id),
        deadlines=[d for d in deadlines if not d.cancelled],
        rounds=[r for r in rounds if not r.cancelled],
        anniversaries=[a for a in anniversaries if not a.cancelled],
        owed=queries.obligations(session=session, plan=plan, only=only_units),
        receipts=queries.accepted_receipts(session=session, plan=plan, only=only_units),
        extensions=queries.extensions(session=session, plan=plan, only=only_units),
        admin_url=f"{links.base_url}/quan-tri",
        load_links=lambda: {
            unit_id: UnitLinks(*urls)
            for unit_id, urls in links.for_units(session, [u.id for u in units]).items()
        },
    )
    if only_units is None:
        state.pauses = plan_pauses(session, plan=plan)
        _add_mail_history(session, plan, state)
    return state


def _add_mail_history(session: Session, plan: YearPlan, state: PlanState) -> None:
    """The reminders already sent, the emails that failed and those waiting to be retried."""
    sent = outbox.live_keys(session, plan_id=plan.id, prefix="reminder:")
    failed = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.plan_id == plan.id, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(20)
    ).all()
    waiting = session.exec(  # e.g. held back by a run that found the SMTP server silent
        select(OutboxMessage.last_error, func.count())
        .where(
            OutboxMessage.plan_id == plan.id,
            OutboxMessage.status == "pending",
            OutboxMessage.last_error.is_not(None),
        )
        .group_by(OutboxMessage.last_error)
        .order_by(func.count().desc(), OutboxMessage.last_error)
        .limit(5)
    ).all()
    state.sent_reminders = {key.rsplit(":", 1)[0] for key in sent}
    digests = outbox.live_keys(session, plan_id=plan.id, prefix=f"digest:{plan.id}:")
    if digests:  # digest:PLAN:DAY:CONTENT:EMAIL
        day, content = max(tuple(key.split(":")[2:4]) for key in digests)
        state.last_digest = (date.fromisoformat(day), content)
    state.failures = [
        {"recipient": m.recipient, "subject": m.subject, "error": m.last_error} for m in failed
    ]
    state.waiting = [{"count": count, "error": error} for error, count in waiting]
