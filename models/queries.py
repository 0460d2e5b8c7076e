"""Reads shared by the CLI, the flows and the feeds: keyword-only, one session passed in."""

from collections import defaultdict
from datetime import date, datetime

from sqlmodel import Session, select

from domain.extensions import unit_due_at
from models.tables import (
    Anniversary,
    Bloc,
    Deadline,
    Extension,
    Meeting,
    Membership,
    Obligation,
    Round,
    Submission,
    Unit,
    YearPlan,
)


class NotFound(LookupError):
    """What the user asked for is not in the database; the message says what to do."""


def find_plan(*, session: Session, year: int | None, bloc: str | None) -> tuple[Bloc, YearPlan]:
    """The plan of `bloc` (optional when only one bloc exists) for `year` (default: the latest)."""
    blocs = session.exec(select(Bloc).order_by(Bloc.code)).all()
    if bloc is not None:
        blocs = [b for b in blocs if b.code == bloc]
    if not blocs:
        raise NotFound(
            "chưa có kế hoạch nào: nạp bằng `thidua plan load TỆP`"
            if bloc is None
            else f"không có khối '{bloc}'"
        )
    if len(blocs) > 1:
        codes = ", ".join(b.code for b in blocs)
        raise NotFound(f"có nhiều khối ({codes}): chọn một bằng --bloc")
    query = select(YearPlan).where(YearPlan.bloc_id == blocs[0].id)
    query = query.where(YearPlan.year == year) if year else query.order_by(YearPlan.year.desc())
    plan = session.exec(query).first()
    if plan is None:
        raise NotFound(f"khối '{blocs[0].code}' chưa có kế hoạch năm {year}")
    return blocs[0], plan


def plan_units(*, session: Session, plan: YearPlan, only: set[int] | None = None) -> list[Unit]:
    """The plan's member units (with `only`, those of them whose id is in it)."""
    query = (
        select(Unit)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.plan_id == plan.id)
        .order_by(Unit.id)
    )
    if only is not None:
        query = query.where(Unit.id.in_(only))
    return list(session.exec(query).all())


def plan_events(*, session: Session, plan: YearPlan):
    """(rounds, anniversaries, deadlines, meetings) of a plan, cancelled ones included."""

    def rows(model, order):
        return list(
            session.exec(select(model).where(model.plan_id == plan.id).order_by(order)).all()
        )

    return (
        rows(Round, Round.starts_on),
        rows(Anniversary, Anniversary.on),
        rows(Deadline, Deadline.due_at),
        rows(Meeting, Meeting.id),
    )


def obligations(
    *, session: Session, plan: YearPlan, only: set[int] | None = None
) -> set[tuple[int, int]]:
    """(deadline id, unit id) pairs: who owes what (with `only`, of those units)."""
    query = (
        select(Obligation.deadline_id, Obligation.unit_id)
        .join(Deadline)
        .where(Deadline.plan_id == plan.id)
    )
    if only is not None:
        query = query.where(Obligation.unit_id.in_(only))
    return set(session.exec(query).all())


def accepted_receipts(
    *, session: Session, plan: YearPlan, only: set[int] | None = None
) -> dict[tuple[int, int], list[datetime]]:
    """When accepted submissions arrived, per (deadline id, unit id) (with `only`, of those
    units)."""
    query = (
        select(Submission.deadline_id, Submission.unit_id, Submission.received_at)
        .join(Deadline)
        .where(Deadline.plan_id == plan.id, Submission.status == "accepted")
    )
    if only is not None:
        query = query.where(Submission.unit_id.in_(only))
    receipts: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for deadline_id, unit_id, received_at in session.exec(query).all():
        receipts[deadline_id, unit_id].append(received_at)
    return receipts


def extensions(
    *, session: Session, plan: YearPlan, only: set[int] | None = None
) -> dict[tuple[int, int], date]:
    """The new last day of each extension, per (deadline id, unit id) (with `only`, of those
    units)."""
    query = (
        select(Extension.deadline_id, Extension.unit_id, Extension.until)
        .join(Deadline)
        .where(Deadline.plan_id == plan.id)
    )
    if only is not None:
        query = query.where(Extension.unit_id.in_(only))
    return {(d, u): until for d, u, until in session.exec(query).all()}


def due_at_for(*, session: Session, deadline: Deadline, unit: Unit) -> datetime:
    """When the unit's time on the deadline runs out, its extension (gia hạn) included."""
    until = session.exec(
        select(Extension.until).where(
            Extension.deadline_id == deadline.id, Extension.unit_id == unit.id
        )
    ).one_or_none()
    return unit_due_at(deadline.due_at, until)


def latest_versions(
    *, session: Session, plan: YearPlan, as_of: datetime
) -> dict[tuple[int, int], tuple[int, datetime]]:
    """The newest accepted version received by `as_of` per (deadline id, unit id), and when."""
    query = (
        select(
            Submission.deadline_id, Submission.unit_id, Submission.version, Submission.received_at
        )
        .join(Deadline)
        .where(
            Deadline.plan_id == plan.id,
            Submission.status == "accepted",
            Submission.received_at <= as_of,
        )
        .order_by(Submission.version)
    )
    return {(d, u): (version, at) for d, u, version, at in session.exec(query).all()}


def unit_names(*, session: Session, bloc_id: int) -> dict[int, str]:
    """{unit id: name} of every unit of the bloc, members of a plan or not."""
    query = select(Unit.id, Unit.name).where(Unit.bloc_id == bloc_id)
    return dict(session.exec(query).all())
