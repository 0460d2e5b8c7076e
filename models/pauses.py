"""Storing a pause of reminders (tạm dừng nhắc), for a whole plan or one unit, audited."""

from datetime import date, datetime

from sqlmodel import Session, select

from domain.dates import fmt_date
from domain.pauses import Pause, pause_errors
from models import queries
from models.tables import AuditEvent, ReminderPause, Unit, YearPlan


class PauseRefused(ValueError):
    """The pause cannot be stored; `errors` says why, one Vietnamese message per field."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def add_pause(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str | None,
    starts_on: date | None,
    ends_on: date | None,
    reason: str,
    actor: str,
    at: datetime,
) -> str:
    """Pause the reminders of the plan (`unit_code` None) or of one member unit from
    `starts_on` to `ends_on`, audited under `actor`; returns the confirmation to show.
    `PauseRefused`, and nothing stored, when it cannot be."""
    errors = pause_errors(year=plan.year, starts_on=starts_on, ends_on=ends_on, reason=reason)
    unit = None
    if unit_code:
        units = {u.code: u for u in queries.plan_units(session=session, plan=plan)}
        unit = units.get(unit_code)
        if unit is None:
            errors.insert(
                0, f"Đơn vị: không có đơn vị “{unit_code[:64]}” trong kế hoạch năm {plan.year}."
            )
    if errors:
        raise PauseRefused(errors)
    row = ReminderPause(
        plan_id=plan.id,
        unit_id=unit.id if unit else None,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip(),
        created_by=actor,
        created_at=at,
    )
    session.add(row)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="pause",
            entity="ReminderPause",
            key=unit.code if unit else "*",
            plan_id=plan.id,
            details={
                "unit": unit.code if unit else None,
                "from": starts_on.isoformat(),
                "to": ends_on.isoformat(),
                "reason": reason.strip(),
            },
        )
    )
    session.flush()
    whom = unit.name if unit else "mọi đơn vị"
    return (
        f"Đã tạm dừng nhắc hạn cho {whom} từ ngày {fmt_date(starts_on)} "
        f"đến hết ngày {fmt_date(ends_on)}."
    )


def plan_pauses(session: Session, *, plan: YearPlan) -> list[Pause]:
    """Every pause of the plan's reminders."""
    rows = session.exec(select(ReminderPause).where(ReminderPause.plan_id == plan.id)).all()
    return [Pause(r.starts_on, r.ends_on, r.unit_id) for r in rows]


def find_pause(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str | None,
    starts_on: date | None,
    ends_on: date | None,
) -> int:
    """The id of the plan's pause of `unit_code` (None: the whole plan) over exactly those
    days; `PauseRefused` when there is none."""
    query = select(ReminderPause.id).where(
        ReminderPause.plan_id == plan.id,
        ReminderPause.starts_on == starts_on,
        ReminderPause.ends_on == ends_on,
    )
    if unit_code:
        query = query.join(Unit, Unit.id == ReminderPause.unit_id).where(Unit.code == unit_code)
    else:
        query = query.where(ReminderPause.unit_id.is_(None))
    found = session.exec(query).first()
    if found is None or starts_on is None or ends_on is None:
        whom = f"đơn vị “{unit_code[:64]}”" if unit_code else "cả khối"
        raise PauseRefused(
            [f"Tạm dừng nhắc: không có lần tạm dừng nào của {whom} trong những ngày đó."]
        )
    return found


def remove_pause(
    session: Session, *, plan: YearPlan, pause_id: int | None, actor: str, at: datetime
) -> str:
    """Take the plan's pause `pause_id` away, audited under `actor`: its days get reminders
    again from the next run. Returns the confirmation; `PauseRefused` when there is none."""
    row = session.get(ReminderPause, pause_id) if pause_id is not None else None
    if row is None or row.plan_id != plan.id:
        raise PauseRefused(["Tạm dừng nhắc: không có lần tạm dừng này (có thể đã được hủy)."])
    unit = session.get(Unit, row.unit_id) if row.unit_id is not None else None
    session.delete(row)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="pause.removed",
            entity="ReminderPause",
            key=unit.code if unit else "*",
            plan_id=plan.id,
            details={
                "unit": unit.code if unit else None,
                "from": row.starts_on.isoformat(),
                "to": row.ends_on.isoformat(),
                "reason": row.reason,
            },
        )
    )
    session.flush()
    whom = unit.name if unit else "mọi đơn vị"
    return (
        f"Đã hủy tạm dừng nhắc hạn cho {whom} từ ngày {fmt_date(row.starts_on)} "
        f"đến hết ngày {fmt_date(row.ends_on)}; việc nhắc hạn tiếp tục từ lần chạy sau."
    )
