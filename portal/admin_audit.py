"""The workspace's audit page (`/quan-tri/nhat-ky`): who changed what and when, newest first,
a page at a time, for one unit or one account; actions and details in Vietnamese.

Only for a signed-in member of staff (portal.sign_in). A few queries whatever the page holds:
the events, their count, and the names of the units, deadlines and plans they mention."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from domain.audit import action_name, readable_details, subject_parts
from domain.dates import fmt_instant
from models.audit import audit_events, staff_names
from models.db import session_scope
from models.tables import AuditEvent, Deadline, Unit, YearPlan
from portal.admin import SignedIn
from portal.pages import render_page
from portal.sign_in import same_site_only

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
PAGE_SIZE = 50


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


@router.get("/quan-tri/nhat-ky", response_class=HTMLResponse)
def audit_log(
    request: Request,
    user: SignedIn,
    don_vi: str | None = None,
    tai_khoan: str | None = None,
    trang: str | None = None,
):
    with session_scope(request.app.state.engine) as session:
        units = session.exec(select(Unit).order_by(Unit.name, Unit.id)).all()
        unit = next((u for u in units if u.id == _number(don_vi)), None)
        actor = (tai_khoan or "").strip()[:64] or None
        found = audit_events(
            session, unit=unit, actor=actor, page=_number(trang) or 1, size=PAGE_SIZE
        )
        rows = _rows(session, found.events, units)
        accounts = staff_names(session)
    query = {"don_vi": unit.id if unit else None, "tai_khoan": actor}
    link = urlencode({k: v for k, v in query.items() if v is not None})
    return render_page(
        "admin_audit.html.j2",
        staff=user,
        rows=rows,
        found=found,
        units=units,
        unit=unit,
        actor=actor,
        accounts=accounts,
        link=link,
    )


def _rows(session: Session, events: list[AuditEvent], units: list[Unit]) -> list[dict]:
    """Each event as the page shows it, units and deadlines by their names."""
    plan_ids = {e.plan_id for e in events if e.plan_id is not None}
    blocs = dict(
        session.exec(select(YearPlan.id, YearPlan.bloc_id).where(YearPlan.id.in_(plan_ids))).all()
    )
    deadlines = {
        (d.plan_id, d.code): d.title
        for d in session.exec(select(Deadline).where(Deadline.plan_id.in_(plan_ids))).all()
    }
    unit_names = {(u.bloc_id, u.code): u.name for u in units}
    rows = []
    for event in events:

        def unit_name(code: str, event=event) -> str:
            return unit_names.get((blocs.get(event.plan_id), code), code)

        def deadline_title(code: str, event=event) -> str:
            return deadlines.get((event.plan_id, code), code)

        parts = subject_parts(event.entity, event.key)
        subject = [
            unit_name(parts["unit"]) if "unit" in parts else None,
            deadline_title(parts["deadline"]) if "deadline" in parts else None,
            f"lần {parts['version']}" if "version" in parts else None,
            f"tiêu chí {parts['item']}" if "item" in parts else None,
            f"tài khoản {parts['account']}" if "account" in parts else None,
            parts.get("text"),
        ]
        # The unit and deadline an event's details repeat are named in its subject already.
        details = {k: v for k, v in event.details.items() if k not in ("unit", "deadline")}
        rows.append(
            {
                "at": fmt_instant(event.at),
                "actor": event.actor,
                "action": action_name(event.action),
                "subject": ", ".join(s for s in subject if s),
                "details": readable_details(details),
            }
        )
    return rows
