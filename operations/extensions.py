"""Granting or taking away an extension: store it (audited), then republish the unit's private
feed at once."""

from datetime import date, datetime

from sqlmodel import Session

from calendars.publish import publish_bloc
from models.extensions import describe, describe_removal, grant_extension, remove_extension
from models.tables import Bloc, YearPlan


def extend_deadline(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str,
    deadline_code: str,
    until: date | None,
    reason: str,
    actor: str,
    at: datetime,
) -> str:
    """Grant the extension (models.extensions.grant_extension, which refuses with
    `ExtensionRefused`) and rebuild that unit's feed; returns the confirmation to show."""
    unit, deadline, row = grant_extension(
        session,
        plan=plan,
        unit_code=unit_code,
        deadline_code=deadline_code,
        until=until,
        reason=reason,
        actor=actor,
        at=at,
    )
    publish_bloc(session, bloc=session.get(Bloc, plan.bloc_id), as_of=at, only_units={unit.id})
    return describe(unit, deadline, row)


def cancel_extension(
    session: Session,
    *,
    plan: YearPlan,
    unit_code: str,
    deadline_code: str,
    actor: str,
    at: datetime,
) -> str:
    """Take the extension away (models.extensions.remove_extension, which refuses with
    `ExtensionRefused`) and rebuild that unit's feed; returns the confirmation to show."""
    unit, deadline = remove_extension(
        session,
        plan=plan,
        unit_code=unit_code,
        deadline_code=deadline_code,
        actor=actor,
        at=at,
    )
    publish_bloc(session, bloc=session.get(Bloc, plan.bloc_id), as_of=at, only_units={unit.id})
    return describe_removal(unit, deadline)
