"""The secretariat's page: the state of every unit, recording paper submissions, and the
bloc's verification of the self scores (thẩm định) with the ranking it gives.

Only for a signed-in member of staff (portal.sign_in): every POST comes from this site and
carries the session's CSRF token, and what it changes is audited under the account's name.
Put it behind HTTPS (docs: reverse proxy).
"""

from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from documents.text import points
from documents.verification_sheet import UnreadableSheet, read_verification_sheet
from domain.dates import local_instant
from domain.scoring import rank
from domain.status import submission_state
from domain.uploads import KINDS
from models import queries
from models.db import session_scope
from models.scores import sheet_view
from models.tables import Bloc, Deadline, Unit, YearPlan
from models.year_end import YearEndError, import_verification, unit_scores, verify_score
from operations.intake import take_submission
from operations.year_end_documents import verification_sheet
from portal.limits import read_form
from portal.pages import PlanYear, render_page
from portal.sign_in import Staff, same_site_only, signed_in

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
SignedIn = Annotated[Staff, Depends(signed_in)]


def _render(session: Session, user: Staff, status: int = 200, **extra) -> HTMLResponse:
    now = datetime.now(UTC)
    plans = []
    for plan in session.exec(
        select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.year)
    ).all():
        deadlines = [
            d for d in queries.plan_events(session=session, plan=plan)[2] if not d.cancelled
        ]
        owed = queries.obligations(session=session, plan=plan)
        receipts = queries.accepted_receipts(session=session, plan=plan)
        units = queries.plan_units(session=session, plan=plan)
        rows = [
            {
                "unit": unit.name,
                "cells": [
                    submission_state(d.due_at, receipts.get((d.id, unit.id), []), now).value
                    if (d.id, unit.id) in owed
                    else "—"
                    for d in deadlines
                ],
            }
            for unit in units
        ]
        plans.append(
            {
                "year": plan.year,
                "title": plan.title,
                "columns": [d.code for d in deadlines],
                "rows": rows,
                "units": units,
                "deadlines": deadlines,
                "sheet_items": sheet_view(session, plan=plan).items,
                "ranking": _ranking(session, plan, units),
            }
        )
    return render_page(
        "admin.html.j2",
        status,
        plans=plans,
        staff=user,
        message=extra.get("message"),
        errors=extra.get("errors", []),
    )


def _ranking(session: Session, plan: YearPlan, units) -> list[dict]:
    names = {u.code: u.name for u in units}
    return [
        {
            "rank": r.rank,
            "unit": names[r.score.unit],
            "self_total": points(r.score.self_total),
            "total": points(r.score.total),
            "verified": r.score.verified,
        }
        for r in rank(unit_scores(session, plan=plan))
    ]


def _active_plan(session: Session, year: int) -> tuple[YearPlan | None, dict[str, Unit]]:
    """The active plan of `year` and its member units by code (none when there is no plan)."""
    plan = session.exec(
        select(YearPlan).where(YearPlan.year == year, YearPlan.state == "active")
    ).first()
    units = {u.code: u for u in queries.plan_units(session=session, plan=plan)} if plan else {}
    return plan, units


@router.get("/quan-tri", response_class=HTMLResponse)
def overview(request: Request, user: SignedIn):
    with session_scope(request.app.state.engine) as session:
        return _render(session, user)


@router.post("/quan-tri/ghi-nhan/{year}", response_class=HTMLResponse)
async def record(
    year: PlanYear,
    request: Request,
    user: SignedIn,
):
    settings = request.app.state.settings
    fields, uploads = await read_form(request, settings.max_upload_bytes)
    user.check_form(fields)

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, units = _active_plan(session, year)
            unit = units.get(fields.get("unit", ""))
            deadline = (
                plan
                and session.exec(
                    select(Deadline).where(
                        Deadline.plan_id == plan.id, Deadline.code == fields.get("deadline", "")
                    )
                ).one_or_none()
            )
            try:
                when = datetime.fromisoformat(fields.get("received_at", ""))
            except ValueError:
                when = None
            channel = fields.get("channel")
            errors = [
                message
                for ok, message in (
                    (unit is not None, "Đơn vị: hãy chọn một đơn vị trong danh sách."),
                    (deadline is not None, "Hạn nộp: hãy chọn một hạn nộp trong danh sách."),
                    (when is not None, "Ngày giờ nhận: hãy nhập ngày và giờ."),
                    (channel in ("paper", "dispatch"), "Hình thức: văn bản giấy hoặc công văn."),
                )
                if not ok
            ]
            if errors:
                return _render(session, user, 422, errors=errors)
            files = [upload for group in uploads.values() for upload in group]
            submission = take_submission(
                session,
                settings,
                deadline=deadline,
                unit=unit,
                received_at=local_instant(when.date(), when.time()),
                channel=channel,
                uploads=files,
                note=(fields.get("note") or "").strip() or None,
                recorded_by=user.name,
            )
            if submission.status == "rejected":
                return _render(session, user, 422, errors=submission.errors)
            return _render(
                session,
                user,
                message=f"Đã ghi nhận {unit.name} – {deadline.title}, lần {submission.version}.",
            )

    return await to_thread.run_sync(save)


@router.post("/quan-tri/tham-dinh/{year}", response_class=HTMLResponse)
async def verify(year: PlanYear, request: Request, user: SignedIn):
    fields, _ = await read_form(request, 0)
    user.check_form(fields)

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, units = _active_plan(session, year)
            unit = units.get(fields.get("unit", ""))
            if unit is None:
                return _render(
                    session, user, 422, errors=["Đơn vị: hãy chọn một đơn vị trong danh sách."]
                )
            try:
                with session.begin_nested():
                    row = verify_score(
                        session,
                        plan=plan,
                        unit=unit,
                        code=fields.get("item", ""),
                        value=fields.get("value", ""),
                        reason=fields.get("reason"),
                        actor=user.name,
                        at=datetime.now(UTC),
                    )
            except YearEndError as error:
                return _render(session, user, 422, errors=[str(error)])
            message = f"Đã ghi điểm thẩm định: {unit.name}, {fields['item']} = {points(row.verified_points)}."
            return _render(session, user, message=message)

    return await to_thread.run_sync(save)


@router.get("/quan-tri/tham-dinh/{year}/phieu-tham-dinh.xlsx")
def verification_download(year: PlanYear, request: Request, user: SignedIn):
    with session_scope(request.app.state.engine) as session:
        plan, _ = _active_plan(session, year)
        if plan is None:
            raise HTTPException(404)
        content = verification_sheet(session, plan=plan)
    headers = {
        "Content-Disposition": f'attachment; filename="phieu-tham-dinh-{year}.xlsx"',
        "Cache-Control": "no-store",
    }
    return Response(content, media_type=KINDS["xlsx"], headers=headers)


@router.post("/quan-tri/tham-dinh/{year}/tai-len", response_class=HTMLResponse)
async def verification_upload(
    year: PlanYear,
    request: Request,
    user: SignedIn,
):
    limit = request.app.state.settings.max_upload_bytes

    def has_plan() -> bool:
        with session_scope(request.app.state.engine) as session:
            return _active_plan(session, year)[0] is not None

    # The credentials (the dependency) and the year are checked before the body is read.
    if not await to_thread.run_sync(has_plan):
        raise HTTPException(404)
    fields, uploads = await read_form(request, limit)
    user.check_form(fields)

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, _ = _active_plan(session, year)
            if plan is None:
                raise HTTPException(404)
            files = uploads.get("sheet", [])
            if len(files) != 1:
                return _render(
                    session, user, 422, errors=["Hãy chọn một tệp phiếu thẩm định (.xlsx)."]
                )
            (upload,) = files
            if len(upload.content) > limit:
                return _render(session, user, 422, errors=[f"{upload.filename}: tệp quá lớn."])
            bloc = session.get(Bloc, plan.bloc_id)
            try:
                lines = read_verification_sheet(
                    upload.content, bloc_code=bloc.code, year=year, filename=upload.filename
                )
            except UnreadableSheet as error:
                return _render(session, user, 422, errors=[str(error)])
            changed, errors = import_verification(
                session, plan=plan, lines=lines, actor=user.name, at=datetime.now(UTC)
            )
            if errors:
                return _render(
                    session,
                    user,
                    422,
                    errors=[*errors, "Chưa ghi điểm nào; hãy sửa và tải lên lại."],
                )
            message = f"Đã nhập phiếu thẩm định {upload.filename}: {changed} mục thay đổi."
            return _render(session, user, message=message)

    return await to_thread.run_sync(save)
