"""Storing an extension (gia hạn) of one deadline for one unit, with its audit event."""

from datetime import date, datetime

from sqlmodel import Session, select

from domain.dates import fmt_date, last_day
from domain.extensions import extension_errors
from models import queries
from models.tables import AuditEvent, Deadline, Extension, Unit, YearPlan


class ExtensionRefused(ValueError):
    """The extension cannot be granted; `errors` says why, one Vietnamese message per field."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def find_target(
    session: Session, *, plan: YearPlan, unit_code: str, deadline_code: str
) -> tuple[Unit, Deadline]:
    """The member unit and the deadline it owes, by their codes (`ExtensionRefused` if not)."""
    units = {u.code: u for u in queries.plan_units(session=session, plan=plan)}
    unit = units.get(unit_code)
    deadline = session.exec(
        select(Deadline).where(Deadline.plan_id == plan.id, Deadline.code == deadline_code)
    ).one_or_none()
    errors = []
    if unit is None:
        errors.append(f"Đơn vị: không có đơn vị “{unit_code[:64]}” trong kế hoạch năm {plan.year}.")
    if deadline is None or deadline.cancelled:
        errors.append(
            f"Hạn nộp: không có hạn nộp “{deadline_code[:64]}” trong kế hoạch năm {plan.year}."
        )
    elif unit is not None and (deadline.id, unit.id) not in queries.obligations(
        session=session, plan=plan, only={unit.id}
    ):
        errors.append(f"Hạn nộp: {unit.name} không phải nộp “{deadline.title}”.")
    if errors:
        raise ExtensionRefused(errors)
    return unit, deadline


def grant_extension(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str,
    deadline_code: str,
    until: date | None,
    reason: str,
    actor: str,
    at: datetime,
) -> tuple[Unit, Deadline, Extension]:
    """Give the unit until the end of `until` on the deadline (replacing an earlier extension),
    audited under `actor`; `ExtensionRefused` and nothing stored when it cannot be granted."""
    unit, deadline = find_target(
        session, plan=plan, unit_code=unit_code, deadline_code=deadline_code
    )
    errors = extension_errors(due_at=deadline.due_at, year=plan.year, until=until, reason=reason)
    if errors:
        raise ExtensionRefused(errors)
    row = session.exec(
        select(Extension).where(Extension.deadline_id == deadline.id, Extension.unit_id == unit.id)
    ).one_or_none()
    before = row.until.isoformat() if row else None
    row = row or Extension(deadline_id=deadline.id, unit_id=unit.id, until=until, reason="")
    row.until, row.reason, row.granted_by, row.granted_at = until, reason.strip(), actor, at
    session.add(row)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="extend",
            entity="Deadline",
            key=f"{deadline.code}/{unit.code}",
            plan_id=plan.id,
            details={
                "unit": unit.code,
                "deadline": deadline.code,
                "last_day": last_day(deadline.due_at).isoformat(),
                "until": until.isoformat(),
                "previous_until": before,
                "reason": reason.strip(),
            },
        )
    )
    session.flush()
    return unit, deadline, row


def describe(unit: Unit, deadline: Deadline, row: Extension) -> str:
    """The confirmation shown after a grant, in Vietnamese."""
    return (
        f"Đã gia hạn “{deadline.title}” cho {unit.name} đến hết ngày {fmt_date(row.until)} "
        f"(hạn cuối của kế hoạch: {fmt_date(last_day(deadline.due_at))})."
    )


def remove_extension(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str,
    deadline_code: str,
    actor: str,
    at: datetime,
) -> tuple[Unit, Deadline]:
    """Take the unit's extension on the deadline away, audited under `actor`: it follows the
    plan's own last day again. `ExtensionRefused` and nothing stored when it has none."""
    unit, deadline = find_target(
        session, plan=plan, unit_code=unit_code, deadline_code=deadline_code
    )
    row = session.exec(
        select(Extension).where(Extension.deadline_id == deadline.id, Extension.unit_id == unit.id)
    ).one_or_none()
    if row is None:
        raise ExtensionRefused([f"Gia hạn: {unit.name} không được gia hạn “{deadline.title}”."])
    session.delete(row)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="extend.removed",
            entity="Deadline",
            key=f"{deadline.code}/{unit.code}",
            plan_id=plan.id,
            details={
                "unit": unit.code,
                "deadline": deadline.code,
                "last_day": last_day(deadline.due_at).isoformat(),
                "previous_until": row.until.isoformat(),
                "reason": row.reason,
            },
        )
    )
    session.flush()
    return unit, deadline


def describe_removal(unit: Unit, deadline: Deadline) -> str:
    """The confirmation shown after an extension is taken away, in Vietnamese."""
    return (
        f"Đã hủy gia hạn “{deadline.title}” cho {unit.name}: hạn cuối trở lại "
        f"hết ngày {fmt_date(last_day(deadline.due_at))}."
    )
