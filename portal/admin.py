"""The secretariat's page: the state of every unit, recording paper submissions, and the
bloc's verification of the self scores (thẩm định) with the ranking it gives.

Only for a signed-in member of staff (portal.sign_in): every POST comes from this site and
carries the session's CSRF token, and what it changes is audited under the account's name.
Put it behind HTTPS (docs: reverse proxy).
"""

from datetime import datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from documents.text import points
from documents.verification_sheet import UnreadableSheet, read_verification_sheet
from domain.dates import fmt_date, last_day, local_instant
from domain.extensions import read_day
from domain.scoring import rank
from domain.uploads import KINDS
from models import queries
from models.db import session_scope
from models.extensions import ExtensionRefused
from models.overview import FILTERS, overview
from models.pauses import PauseRefused, add_pause, remove_pause
from models.scores import sheet_view
from models.tables import Bloc, Deadline, Extension, ReminderPause, Unit, YearPlan
from models.year_end import YearEndError, import_verification, unit_scores, verify_score
from operations.extensions import cancel_extension, extend_deadline
from operations.intake import take_submission
from operations.year_end_documents import verification_sheet
from portal.admin_year_end import poll_rows, year_documents
from portal.limits import read_form
from portal.pages import PlanYear, render_page
from portal.sign_in import Staff, now, same_site_only, signed_in

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
SignedIn = Annotated[Staff, Depends(signed_in)]


def _render(
    session: Session,
    request: Request,
    user: Staff,
    status: int = 200,
    *,
    only: str | None = None,
    **extra,
) -> HTMLResponse:
    """The workspace page: for each active plan its overview (with the filter `only`), the
    forms and the ranking; `extra` gives the message or the errors of the form just sent."""
    plans = []
    for plan in session.exec(
        select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.year)
    ).all():
        table = overview(session, plan=plan, as_of=now(request))
        plans.append(
            {
                "overview": table,
                "rows": table.only(only),
                "sheet_items": sheet_view(session, plan=plan).items,
                "ranking": _ranking(session, plan, {row.code: row.unit for row in table.rows}),
                "polls": poll_rows(session, plan, members=len(table.rows)),
                **_plan_changes(session, plan),
            }
        )
    return render_page(
        "admin.html.j2",
        status,
        plans=plans,
        documents=year_documents(session, request.app.state.settings.data_dir),
        prefect_ui=request.app.state.settings.prefect_ui_url,
        staff=user,
        only=only if only in FILTERS else None,
        filters=FILTERS,
        message=extra.get("message"),
        errors=extra.get("errors", []),
    )


def _plan_changes(session: Session, plan: YearPlan) -> dict[str, list[dict]]:
    """The plan's extensions and pauses as the page lists them (two queries)."""
    extensions = session.exec(
        select(Extension, Deadline, Unit)
        .join(Deadline, Deadline.id == Extension.deadline_id)
        .join(Unit, Unit.id == Extension.unit_id)
        .where(Deadline.plan_id == plan.id)
        .order_by(Deadline.due_at, Unit.name)
    ).all()
    pauses = session.exec(
        select(ReminderPause, Unit.name)
        .outerjoin(Unit, Unit.id == ReminderPause.unit_id)
        .where(ReminderPause.plan_id == plan.id)
        .order_by(ReminderPause.starts_on, ReminderPause.id)
    ).all()
    return {
        "extensions": [
            {
                "unit": unit,
                "deadline": deadline,
                "last_day": fmt_date(last_day(deadline.due_at)),
                "until": fmt_date(row.until),
                "reason": row.reason,
                "by": row.granted_by,
            }
            for row, deadline, unit in extensions
        ],
        "pauses": [
            {
                "id": row.id,
                "whom": name or "Mọi đơn vị của khối",
                "from": fmt_date(row.starts_on),
                "to": fmt_date(row.ends_on),
                "reason": row.reason,
                "by": row.created_by,
            }
            for row, name in pauses
        ],
    }


def _ranking(session: Session, plan: YearPlan, names: dict[str, str]) -> list[dict]:
    """The units with a score, ranked; then those with none yet, unranked (before any self
    score every unit would otherwise share rank 1 with 0 points)."""
    scores = unit_scores(session, plan=plan)
    scored = [s for s in scores if any(_entered(line) for line in s.lines)]
    rows = [
        {
            "rank": r.rank,
            "unit": names[r.score.unit],
            "self_total": points(r.score.self_total),
            "total": points(r.score.total),
            "state": "xong" if r.score.verified else "chưa xong",
        }
        for r in rank(scored)
    ]
    waiting = [s for s in scores if s not in scored]
    none = {"rank": "—", "self_total": "—", "total": "—", "state": "chưa có bảng tự chấm"}
    return rows + [{**none, "unit": names[s.unit]} for s in waiting]


def _entered(line) -> bool:
    return line.self_points is not None or line.verified_points is not None


def _active_plan(session: Session, year: int) -> tuple[YearPlan | None, dict[str, Unit]]:
    """The active plan of `year` and its member units by code (none when there is no plan)."""
    plan = session.exec(
        select(YearPlan).where(YearPlan.year == year, YearPlan.state == "active")
    ).first()
    units = {u.code: u for u in queries.plan_units(session=session, plan=plan)} if plan else {}
    return plan, units


@router.get("/quan-tri", response_class=HTMLResponse)
def workspace(request: Request, user: SignedIn, loc: str | None = None):
    with session_scope(request.app.state.engine) as session:
        return _render(session, request, user, only=loc)


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
                return _render(session, request, user, 422, errors=errors)
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
                return _render(session, request, user, 422, errors=submission.errors)
            return _render(
                session,
                request,
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
                    session,
                    request,
                    user,
                    422,
                    errors=["Đơn vị: hãy chọn một đơn vị trong danh sách."],
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
                        at=now(request),
                    )
            except YearEndError as error:
                return _render(session, request, user, 422, errors=[str(error)])
            message = f"Đã ghi điểm thẩm định: {unit.name}, {fields['item']} = {points(row.verified_points)}."
            return _render(session, request, user, message=message)

    return await to_thread.run_sync(save)


@router.post("/quan-tri/gia-han/{year}", response_class=HTMLResponse)
async def extend(year: PlanYear, request: Request, user: SignedIn):
    """Give one unit more time on one deadline (a new last day and a reason), audited."""

    def act(session, plan, fields: dict[str, str]) -> str:
        return extend_deadline(
            session,
            plan=plan,
            unit_code=fields.get("unit", ""),
            deadline_code=fields.get("deadline", ""),
            until=read_day(fields.get("until", "")),
            reason=fields.get("reason", ""),
            actor=user.name,
            at=now(request),
        )

    return await _plan_change(year, request, user, act)


@router.post("/quan-tri/tam-dung/{year}", response_class=HTMLResponse)
async def pause(year: PlanYear, request: Request, user: SignedIn):
    """Pause the reminders of the plan, or of one unit, for a span of days, audited."""

    def act(session, plan, fields: dict[str, str]) -> str:
        return add_pause(
            session,
            plan=plan,
            unit_code=fields.get("unit") or None,
            starts_on=read_day(fields.get("from", "")),
            ends_on=read_day(fields.get("to", "")),
            reason=fields.get("reason", ""),
            actor=user.name,
            at=now(request),
        )

    return await _plan_change(year, request, user, act)


@router.post("/quan-tri/huy-gia-han/{year}", response_class=HTMLResponse)
async def unextend(year: PlanYear, request: Request, user: SignedIn):
    """Take one unit's extension on one deadline away, audited."""

    def act(session, plan, fields: dict[str, str]) -> str:
        return cancel_extension(
            session,
            plan=plan,
            unit_code=fields.get("unit", ""),
            deadline_code=fields.get("deadline", ""),
            actor=user.name,
            at=now(request),
        )

    return await _plan_change(year, request, user, act)


@router.post("/quan-tri/huy-tam-dung/{year}", response_class=HTMLResponse)
async def unpause(year: PlanYear, request: Request, user: SignedIn):
    """Take one pause of reminders away, audited."""

    def act(session, plan, fields: dict[str, str]) -> str:
        pause_id = fields.get("pause", "")
        return remove_pause(
            session,
            plan=plan,
            pause_id=int(pause_id) if pause_id.isdigit() and len(pause_id) < 10 else None,
            actor=user.name,
            at=now(request),
        )

    return await _plan_change(year, request, user, act)


async def _plan_change(year: int, request: Request, user, act) -> HTMLResponse:
    """A form that changes the active plan of `year`: `act(session, plan, fields)` returns the
    message to show, or raises a refusal whose errors are shown and nothing is stored."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan, _ = _active_plan(session, year)
            if plan is None:
                raise HTTPException(404)
            try:
                with session.begin_nested():
                    message = act(session, plan, fields)
            except (ExtensionRefused, PauseRefused) as refused:
                return _render(session, request, user, 422, errors=refused.errors)
            return _render(session, request, user, message=message)

    return await to_thread.run_sync(save)


@router.get("/quan-tri/tong-quan/{year}.xlsx")
def overview_download(
    year: PlanYear, request: Request, user: SignedIn, loc: str | None = None
) -> Response:
    """The overview of the active plan of `year` (with the page's filter) as an Excel sheet."""
    from documents.overview_sheet import write_overview  # openpyxl only for this download

    with session_scope(request.app.state.engine) as session:
        plan, _ = _active_plan(session, year)
        if plan is None:
            raise HTTPException(404)
        table = overview(session, plan=plan, as_of=now(request))
    heading = f"{table.title}: tình hình nộp hồ sơ"
    if loc in FILTERS:
        heading += f" ({FILTERS[loc].lower()})"
    columns = [f"{c.title} (hạn cuối {c.last_day})" for c in table.columns]
    rows = [
        (row.unit, [(c.state, c.text) if c else None for c in row.cells]) for row in table.only(loc)
    ]
    headers = {
        "Content-Disposition": f'attachment; filename="tinh-hinh-nop-ho-so-{year}.xlsx"',
        "Cache-Control": "no-store",
    }
    return Response(
        write_overview(heading, columns, rows), media_type=KINDS["xlsx"], headers=headers
    )


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
                    session,
                    request,
                    user,
                    422,
                    errors=["Hãy chọn một tệp phiếu thẩm định (.xlsx)."],
                )
            (upload,) = files
            if len(upload.content) > limit:
                return _render(
                    session, request, user, 422, errors=[f"{upload.filename}: tệp quá lớn."]
                )
            bloc = session.get(Bloc, plan.bloc_id)
            try:
                lines = read_verification_sheet(
                    upload.content, bloc_code=bloc.code, year=year, filename=upload.filename
                )
            except UnreadableSheet as error:
                return _render(session, request, user, 422, errors=[str(error)])
            changed, errors = import_verification(
                session, plan=plan, lines=lines, actor=user.name, at=now(request)
            )
            if errors:
                return _render(
                    session,
                    request,
                    user,
                    422,
                    errors=[*errors, "Chưa ghi điểm nào; hãy sửa và tải lên lại."],
                )
            message = f"Đã nhập phiếu thẩm định {upload.filename}: {changed} mục thay đổi."
            return _render(session, request, user, message=message)

    return await to_thread.run_sync(save)
