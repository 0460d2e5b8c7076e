"""A unit's private links, as the secretariat handles them: send them to the unit again, or
rotate one (the old address stops answering at once). Each is audited with who asked."""

from datetime import datetime

from sqlmodel import Session

from calendars.publish import publish_feeds
from config.settings import Settings
from models.access import rotate_token
from models.links import Links
from models.tables import AuditEvent, Unit, YearPlan
from notifications.drafts import links_drafts
from notifications.outbox import enqueue
from notifications.state import plan_state

LINK_NAMES = {"portal": "đường dẫn nộp hồ sơ", "calendar": "đường dẫn lịch riêng"}


def send_links(
    session: Session, settings: Settings, *, plan: YearPlan, unit: Unit, actor: str, at: datetime
) -> list[str]:
    """Queue the email with the unit's current links to its focal point; the addresses."""
    links = Links(settings.base_url, settings.signing_key())
    state = plan_state(session, plan=plan, links=links, only_units={unit.id})
    drafts = links_drafts(state, unit, at)
    enqueue(session, drafts, domain=settings.mail_domain, as_of=at)
    recipients = [d.recipient for d in drafts]
    _audit(session, plan, unit, actor, at, action="links.sent", recipients=recipients)
    return recipients


def rotate_link(
    session: Session,
    settings: Settings,
    *,
    plan: YearPlan,
    unit: Unit,
    purpose: str,
    actor: str,
    at: datetime,
) -> None:
    """Revoke the unit's link for `purpose` (portal, calendar), issue the next one and
    republish the feeds (a static copy of a private feed is named by its token)."""
    rotate_token(session, key=settings.signing_key(), unit_id=unit.id, purpose=purpose, as_of=at)
    _audit(session, plan, unit, actor, at, action=f"{purpose}.rotated")
    publish_feeds(session, settings=settings, as_of=at)


def _audit(session, plan, unit, actor: str, at: datetime, *, action: str, **details) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            entity="Unit",
            key=unit.code,
            plan_id=plan.id,
            details=details,
        )
    )
