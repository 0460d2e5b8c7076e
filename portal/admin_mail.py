"""The secretariat's mail (thư điện tử): the outbox of the active plan with its filters and the
server's reason for a failed email, resending one, and writing a letter to all units or some
(a preview first, then queued in the outbox as every other email).

Only for a signed-in member of staff (portal.sign_in), every POST from this site with the
session's CSRF token, every change audited under the account's name. What is queued is sent at
once in the background by the normal sender (as a receipt is), not at the next mail run.
"""

import secrets
from datetime import datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, select

from domain.dates import fmt_instant
from models import queries
from models.db import session_scope
from models.tables import Unit, YearPlan
from notifications.kinds import STATUS_NAMES, kind_name
from notifications.letters import (
    MAX_BODY,
    MAX_TITLE,
    LetterRefused,
    mailing,
    preview,
    read_letter,
    send_letter,
)
from notifications.mail_log import (
    PAGE_SIZE,
    STATES,
    Filters,
    ResendRefused,
    mail_page,
    plan_stages,
    resend,
    resent,
)
from notifications.mailer import send_outbox
from portal.limits import read_form
from portal.pages import PlanYear, render_page
from portal.sign_in import Staff, now, same_site_only, signed_in

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
SignedIn = Annotated[Staff, Depends(signed_in)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
ALL = Filters()


def when(instant: datetime | None) -> str:
    """HH:MM dd/mm/yyyy, Vietnam's time (as every page shows an instant)."""
    return fmt_instant(instant) if instant else ""


def _plan(session: Session, year: int) -> tuple[YearPlan, list[Unit]]:
    plan = session.exec(
        select(YearPlan).where(YearPlan.year == year, YearPlan.state == "active")
    ).first()
    if plan is None:
        raise HTTPException(404)
    return plan, queries.plan_units(session=session, plan=plan)


def _render(
    session: Session,
    user: Staff,
    plan: YearPlan,
    units: list[Unit],
    status: int = 200,
    *,
    filters: Filters = ALL,
    page: int = 1,
    **extra,
) -> HTMLResponse:
    """The mail page: `extra` gives the message, the errors, the letter being written
    (`letter`: the form's fields) and its `preview`."""
    rows, total = mail_page(session, plan_id=plan.id, filters=filters, page=page)
    names = queries.unit_names(session=session, bloc_id=plan.bloc_id)
    again = resent(session, [row.id for row in rows])
    codes = {u.id: u.code for u in units}
    return render_page(
        "admin_mail.html.j2",
        status,
        staff=user,
        year=plan.year,
        units=units,
        states={key: label for key, (label, _) in STATES.items()},
        stages=[(stage, kind_name(stage)) for stage in plan_stages(session, plan_id=plan.id)],
        filters={
            "trang_thai": filters.state or "",
            "loai": filters.stage or "",
            "don_vi": codes.get(filters.unit_id, ""),
        },
        rows=[
            {
                "id": row.id,
                "at": when(row.created_at),
                "sent_at": when(row.sent_at),
                "unit": names.get(row.unit_id, "—"),
                "kind": kind_name(row.stage),
                "recipient": row.recipient,
                "subject": row.subject,
                "status": row.status,
                "state": STATUS_NAMES.get(row.status, row.status),
                "error": row.last_error,
                "resent": row.id in again,
            }
            for row in rows
        ],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        max_title=MAX_TITLE,
        max_body=MAX_BODY,
        letter=extra.get("letter", {}),
        preview=extra.get("preview"),
        message=extra.get("message"),
        errors=extra.get("errors", []),
    )


@router.get("/quan-tri/thu")
def mail_of_the_year(request: Request, user: SignedIn) -> RedirectResponse:
    """The workspace's menu link: the mail of the latest active plan."""
    with session_scope(request.app.state.engine) as session:
        year = session.exec(
            select(YearPlan.year).where(YearPlan.state == "active").order_by(YearPlan.year.desc())
        ).first()
    if year is None:
        raise HTTPException(404)
    return RedirectResponse(f"/quan-tri/thu/{year}", status_code=303)


@router.get("/quan-tri/thu/{year}", response_class=HTMLResponse)
def mail(
    year: PlanYear,
    request: Request,
    user: SignedIn,
    trang_thai: str = "",
    loai: str = "",
    don_vi: str = "",
    trang: Page = 1,
):
    with session_scope(request.app.state.engine) as session:
        plan, units = _plan(session, year)
        unit = {u.code: u.id for u in units}.get(don_vi)
        filters = Filters(trang_thai if trang_thai in STATES else None, loai[:32] or None, unit)
        return _render(session, user, plan, units, filters=filters, page=trang)


@router.post("/quan-tri/thu/{year}/gui-lai/{message}", response_class=HTMLResponse)
async def resend_one(
    year: PlanYear,
    message: Annotated[int, FastAPIPath(ge=1, le=2**31 - 1)],
    request: Request,
    user: SignedIn,
    background: BackgroundTasks,
):
    """Resend one sent or failed email through the outbox, once however often it is asked."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)
    settings = request.app.state.settings

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, units = _plan(session, year)
            try:
                with session.begin_nested():
                    queued = resend(
                        session,
                        plan_id=plan.id,
                        message=message,
                        actor=user.name,
                        at=now(request),
                        domain=settings.mail_domain,
                    )
            except ResendRefused as refused:
                return _render(session, user, plan, units, 422, errors=[str(refused)])
            if not queued:
                text = "Thư này đã được gửi lại trước đó; không gửi thêm lần nữa."
                return _render(session, user, plan, units, message=text)
            background.add_task(send_outbox, request.app.state.engine, settings)
            text = "Đã đưa thư vào hàng gửi lại; hệ thống gửi ngay, kết quả hiện trong danh sách."
            return _render(session, user, plan, units, message=text)

    return await to_thread.run_sync(save)


@router.post("/quan-tri/thu/{year}/xem-truoc", response_class=HTMLResponse)
async def preview_letter(year: PlanYear, request: Request, user: SignedIn):
    """The letter as a unit will read it, with the form that sends it (and a one-time code)."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)

    def show() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, units = _plan(session, year)
            try:
                letter = read_letter(fields, units)
                code = secrets.token_urlsafe(16)
                mail = mailing(session, plan=plan, letter=letter, code=code)
            except LetterRefused as refused:
                return _render(
                    session, user, plan, units, 422, letter=fields, errors=refused.errors
                )
            shown = {
                "message": preview(mail),
                "code": code,
                "units": len(letter.units),
                "emails": len(mail.drafts),
                "without_address": mail.without_address,
            }
            return _render(session, user, plan, units, letter=fields, preview=shown)

    return await to_thread.run_sync(show)


@router.post("/quan-tri/thu/{year}/gui", response_class=HTMLResponse)
async def send(year: PlanYear, request: Request, user: SignedIn, background: BackgroundTasks):
    """Queue the previewed letter in the outbox (once per code), audited, and send it."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)
    settings = request.app.state.settings

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, units = _plan(session, year)
            try:
                with session.begin_nested():
                    stored = send_letter(
                        session,
                        plan=plan,
                        letter=read_letter(fields, units),
                        code=fields.get("code", ""),
                        actor=user.name,
                        at=now(request),
                        domain=settings.mail_domain,
                    )
            except LetterRefused as refused:
                return _render(
                    session, user, plan, units, 422, letter=fields, errors=refused.errors
                )
            if not stored:
                text = "Thư này đã được đưa vào hàng gửi trước đó; không gửi thêm lần nữa."
                return _render(session, user, plan, units, message=text)
            background.add_task(send_outbox, request.app.state.engine, settings)
            text = f"Đã đưa {stored} thư vào hàng gửi; hệ thống gửi ngay, kết quả hiện trong danh sách."
            return _render(session, user, plan, units, message=text)

    return await to_thread.run_sync(save)
