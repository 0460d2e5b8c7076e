"""Reading the audit log (nhật ký): newest first, a page at a time, for one unit or one account."""

import math
from dataclasses import dataclass

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from domain.audit import UNIT_KEYS, like_pattern
from models.tables import AuditEvent, StaffAccount, Unit, YearPlan


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int  # events matching the filters, on every page
    page: int  # 1-based, within 1..pages
    pages: int


def audit_events(
    session: Session, *, unit: Unit | None, actor: str | None, page: int, size: int
) -> AuditPage:
    """The events about `unit` (its plans' events whose key names it) and by `actor`, newest
    first, page `page` (clamped to the last) of `size` each; two queries whatever the filters."""
    conditions = []
    if unit is not None:
        conditions.append(
            AuditEvent.plan_id.in_(select(YearPlan.id).where(YearPlan.bloc_id == unit.bloc_id))
        )
        conditions.append(
            or_(
                *(
                    and_(
                        AuditEvent.entity == entity,
                        AuditEvent.key.like(like_pattern(template, unit.code), escape="\\"),
                    )
                    for entity, template in UNIT_KEYS.items()
                )
            )
        )
    if actor is not None:
        conditions.append(AuditEvent.actor == actor)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    pages = max(1, math.ceil(total / size))
    page = min(max(page, 1), pages)
    events = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return AuditPage(list(events), total, page, pages)


def staff_names(session: Session) -> list[str]:
    """The secretariat's account names, sorted (the account filter's suggestions)."""
    return list(session.exec(select(StaffAccount.name).order_by(StaffAccount.name)).all())
