"""A unit's private submission page: its deadlines, what it sent, and a form per deadline.

Server-rendered, works without JavaScript, readable on a phone. A wrong or rotated token gets
the same 404 page as any unknown address.
"""

from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlmodel import Session, select

from domain.dates import fmt_day, fmt_instant, last_day
from domain.extensions import unit_due_at
from domain.registration import COLLECTIVE_TITLES, INDIVIDUAL_TITLES, check_registration
from domain.self_score import Entry, check_self_score, missing_evidence
from domain.status import SubmissionState, submission_state
from domain.uploads import KINDS
from models import queries
from models.access import unit_for_token
from models.db import session_scope
from models.links import Links
from models.scores import SheetView, sheet_view
from models.submissions import history
from models.tables import Bloc, Deadline, Membership, Unit, YearPlan
from notifications.mailer import send_outbox
from operations.intake import take_submission
from portal.limits import read_form
from portal.score_workbook import build_template, read_workbook
from portal.sent import files_at, prefill, typed_form, version_view
from portal.year_end_sections import ballot_sections, score_sections

router = APIRouter(include_in_schema=False)
# A year in an address; a larger number would overflow the database's integer (a 500).
PlanYear = Annotated[int, FastAPIPath(ge=1, le=9999)]
PAGES = Environment(
    loader=PackageLoader("portal", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STATE_CLASSES = {
    SubmissionState.SUBMITTED: "s-done",
    SubmissionState.LATE: "s-late",
    SubmissionState.PENDING: "s-pending",
    SubmissionState.OVERDUE: "s-overdue",
}


def render_page(name: str, status: int = 200, **context) -> HTMLResponse:
    """The page template `name`, rendered with `context`, never stored by a cache."""
    headers = {
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(
        PAGES.get_template(name).render(context), status_code=status, headers=headers
    )


def not_found() -> HTMLResponse:
    return render_page("not_found.html.j2", 404)


def unit_and_plans(session: Session, token: str) -> tuple[Unit, list[YearPlan]] | None:
    unit_id = unit_for_token(session, token=token, purpose="portal")
    if unit_id is None:
        return None
    plans = session.exec(
        select(YearPlan)
        .join(Membership, Membership.plan_id == YearPlan.id)
        .where(Membership.unit_id == unit_id, YearPlan.state == "active")
        .order_by(YearPlan.year)
    ).all()
    return session.get(Unit, unit_id), list(plans)


def unit_page_response(
    request: Request,
    session: Session,
    token: str,
    unit: Unit,
    plans,
    status=200,
    typed: tuple[int, dict[str, str]] | None = None,
    **extra,
):
    """The unit's page; `typed`: (deadline id, form fields) of a refused submission, whose form
    shows them again instead of the latest accepted version."""
    settings = request.app.state.settings
    now = datetime.now(UTC)
    views = {plan.year: sheet_view(session, plan=plan) for plan in plans}
    items = []
    for plan in plans:
        deadlines = [
            d for d in queries.plan_events(session=session, plan=plan)[2] if not d.cancelled
        ]
        owed = queries.obligations(session=session, plan=plan)
        deadlines = [d for d in deadlines if (d.id, unit.id) in owed]
        past = history(session, unit_id=unit.id, deadline_ids=[d.id for d in deadlines])
        names = queries.unit_names(session=session, bloc_id=plan.bloc_id)
        extended = queries.extensions(session=session, plan=plan, only={unit.id})
        for d in deadlines:
            entries = past.get(d.id, [])
            accepted = [s for s, _ in entries if s.status == "accepted"]  # newest first
            due_at = unit_due_at(d.due_at, extended.get((d.id, unit.id)))
            state = submission_state(due_at, [s.received_at for s in accepted], now)
            items.append(
                {
                    "anchor": f"han-{plan.year}-{d.code}",
                    "action": f"/don-vi/{token}/nop/{plan.year}/{d.code}",
                    "kind": d.kind,
                    "year": plan.year,
                    "template_url": f"/don-vi/{token}/bang-diem/{plan.year}.xlsx",
                    "evidence_required": views[plan.year].sheet.evidence_required,
                    "title": d.title,
                    "wording": d.wording,
                    "last_day": fmt_day(last_day(due_at)),
                    "extended": due_at != d.due_at,
                    "recipient": names[d.recipient_unit_id],
                    "documents": d.documents,
                    "state": state.value,
                    "state_class": STATE_CLASSES[state],
                    "history": [
                        version_view(
                            s, files, files_at=files_at(token), kind=d.kind, view=views[plan.year]
                        )
                        for s, files in entries
                    ],
                    "form": typed_form(d.kind, typed[1])
                    if typed and typed[0] == d.id
                    else prefill(d.kind, accepted[0] if accepted else None),
                }
            )
    bloc = session.get(Bloc, unit.bloc_id)
    links = Links(settings.base_url, settings.signing_key())
    context = {
        "receipt": None,
        "errors": [],
        "errors_for": None,
        "voted_notice": None,
        "ballot_errors": [],
        **extra,
    }
    sheet_rows = {year: _sheet_rows(view) for year, view in views.items()}
    return render_page(
        "unit.html.j2",
        status,
        unit=unit,
        bloc_name=bloc.name,
        deadlines=items,
        collective_titles=COLLECTIVE_TITLES,
        individual_titles=INDIVIDUAL_TITLES,
        calendar_url=links.unit_feed_url(session, unit.id),
        sheet_rows=sheet_rows,
        ballots=ballot_sections(session, token, unit, plans),
        scores=score_sections(session, unit, plans, views),
        **context,
    )


def _sheet_rows(view: SheetView) -> list[dict]:
    """The self-score form: a heading per group, the bonus and the penalties, then their items."""
    sections = [
        (code, name, f"tối đa {maximum:g} điểm", items)
        for code, name, maximum, items in view.groups
    ]
    if view.bonus:
        sections.append(("", "Điểm thưởng", f"tối đa {view.sheet.bonus_cap:g} điểm", view.bonus))
    if view.penalties:
        sections.append(("", "Điểm trừ", "nhập số lần", view.penalties))
    rows = []
    for code, name, limit, items in sections:
        rows.append({"heading": True, "code": code, "name": name, "limit": limit})
        rows += [
            {
                "heading": False,
                "code": i.code,
                "name": i.name,
                "kind": i.kind,
                "limit": f"−{i.points:g} điểm/lần"
                if i.kind == "penalty"
                else f"tối đa {i.max_points:g}",
            }
            for i in items
        ]
    return rows


@router.get("/don-vi/{token}/bang-diem/{year}.xlsx")
def score_template(token: str, year: PlanYear, request: Request):
    with session_scope(request.app.state.engine) as session:
        found = unit_and_plans(session, token)
        plan = next((p for p in found[1] if p.year == year), None) if found else None
        if plan is None:
            return not_found()
        unit = found[0]
        bloc = session.get(Bloc, plan.bloc_id)
        view = sheet_view(session, plan=plan)
        content = build_template(
            bloc_code=bloc.code,
            bloc_name=bloc.name,
            year=year,
            unit_code=unit.code,
            unit_name=unit.name,
            groups=view.groups,
            bonus=view.bonus,
            penalties=view.penalties,
            bonus_cap=view.sheet.bonus_cap,
        )
    headers = {
        "Content-Disposition": f'attachment; filename="bang-tu-cham-diem-{year}-{unit.code}.xlsx"',
        "Cache-Control": "no-store",
    }
    return Response(content, media_type=KINDS["xlsx"], headers=headers)


@router.get("/don-vi/{token}", response_class=HTMLResponse)
def unit_page(token: str, request: Request):
    with session_scope(request.app.state.engine) as session:
        found = unit_and_plans(session, token)
        if found is None:
            return not_found()
        return unit_page_response(request, session, token, *found)


@router.post("/don-vi/{token}/nop/{year}/{code}", response_class=HTMLResponse)
async def submit(
    token: str, year: PlanYear, code: str, request: Request, background: BackgroundTasks
):
    settings = request.app.state.settings
    if not await owes(request, token, year, code):  # refused before a byte of the body is read
        return not_found()
    fields, uploads = await read_form(request, settings.max_upload_bytes)
    response, accepted = await to_thread.run_sync(
        _record, request, token, year, code, fields, uploads
    )
    if accepted:  # the receipt leaves at once, not at the next scheduled run
        background.add_task(send_outbox, request.app.state.engine, settings)
    return response


def locate(session: Session, token: str, year: int, code: str):
    """(unit, its active plans, the plan, the deadline) for a submission address, or None when
    the token is unknown or the deadline is not one the unit owes."""
    found = unit_and_plans(session, token)
    if found is None:
        return None
    unit, plans = found
    plan = next((p for p in plans if p.year == year), None)
    if plan is None:
        return None
    deadline = session.exec(
        select(Deadline).where(
            Deadline.plan_id == plan.id, Deadline.code == code, Deadline.cancelled.is_(False)
        )
    ).one_or_none()
    if deadline is None or (deadline.id, unit.id) not in queries.obligations(
        session=session, plan=plan
    ):
        return None
    return unit, plans, plan, deadline


async def owes(request: Request, token: str, year: int, code: str) -> bool:
    """Whether the submission address names a deadline its unit owes (see `locate`)."""

    def check() -> bool:
        with session_scope(request.app.state.engine) as session:
            return locate(session, token, year, code) is not None

    return await to_thread.run_sync(check)


def accept_form(
    session: Session, settings, *, unit, plan, deadline, fields: dict, uploads: dict, channel: str
):
    """Decode the form fields for the deadline's kind and take the submission (kept even when
    rejected). The portal page and the API share this, field names included."""
    data, errors = None, []
    files = [upload for group in uploads.values() for upload in group]
    if deadline.kind == "registration":
        counts = {
            title: fields.get(f"count_{i}", "0")
            for i, title in enumerate(INDIVIDUAL_TITLES, start=1)
        }
        data, errors = check_registration(fields.get("collective_title", ""), counts)
    elif deadline.kind == "self_score":
        data, errors = _self_score(session, plan, unit, fields, uploads)
    elif not files:
        errors = ["Chưa chọn tệp hồ sơ nào."]
    return take_submission(
        session,
        settings,
        deadline=deadline,
        unit=unit,
        received_at=datetime.now(UTC),
        channel=channel,
        data=data,
        uploads=files,
        errors=errors,
        note=(fields.get("note") or "").strip() or None,
    )


def _record(
    request: Request, token: str, year: int, code: str, fields: dict, uploads: dict
) -> tuple[HTMLResponse, bool]:
    settings = request.app.state.settings
    with session_scope(request.app.state.engine) as session:
        found = locate(session, token, year, code)
        if found is None:
            return not_found(), False
        unit, plans, plan, deadline = found
        submission = accept_form(
            session,
            settings,
            unit=unit,
            plan=plan,
            deadline=deadline,
            fields=fields,
            uploads=uploads,
            channel="portal",
        )
        if submission.status == "rejected":
            page = unit_page_response(
                request,
                session,
                token,
                unit,
                plans,
                422,
                typed=(deadline.id, fields),
                errors=submission.errors,
                errors_for=deadline.title,
            )
            return page, False
        receipt = {
            "title": deadline.title,
            "version": submission.version,
            "at": fmt_instant(submission.received_at),
            "late": submission.received_at
            >= queries.due_at_for(session=session, deadline=deadline, unit=unit),
        }
        return unit_page_response(request, session, token, unit, plans, receipt=receipt), True


def _self_score(
    session: Session, plan: YearPlan, unit: Unit, fields: dict, uploads: dict
) -> tuple[dict | None, list[str]]:
    """The self-score from the uploaded template, or else from the web form; and the report."""
    view = sheet_view(session, plan=plan)
    errors = [] if uploads.get("files") else ["Chưa chọn tệp báo cáo tổng kết."]
    workbooks = uploads.get("score_file", [])
    if workbooks:
        bloc = session.get(Bloc, plan.bloc_id)
        entries, problems = read_workbook(
            workbooks[0].content, bloc_code=bloc.code, year=plan.year, unit_code=unit.code
        )
        if problems:
            return None, errors + problems
    else:
        entries = {
            item.code: Entry(fields.get(f"score_{item.code}"), f"Ô điểm {item.code}")
            for item in view.items
        }
        if all(not (entry.raw or "").strip() for entry in entries.values()):
            return None, [
                *errors,
                "Chưa có bảng tự chấm điểm: tải lên tệp Excel theo mẫu hoặc nhập điểm trên trang.",
            ]
    data, problems = check_self_score(view.items, entries, view.sheet.step)
    named = {code: entry.evidence for code, entry in entries.items() if entry.evidence}
    if view.sheet.evidence_required:
        files = {u.criterion_code for group in uploads.values() for u in group if u.criterion_code}
        problems += missing_evidence(view.items, data["scores"], files | set(named))
    if named:
        data["evidence"] = named  # kept with the version, for the verification
    return data, errors + problems
