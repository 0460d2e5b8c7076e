"""The secretariat's plan page (`/quan-tri/ke-hoach`): the plan in force as a clerk reads it,
its file to download, and an edited file uploaded, checked, previewed, then applied.

An upload is checked as `thidua plan check` does (every problem with its line and field) and
tried against the plan in force without storing anything; the page then lists what would
change. A checked file waits under the data folder by its SHA-256 and the apply form names it
with the plan's content it was previewed against: what is applied is what was previewed, and an
apply after the plan changed (or a second one) is refused. Applying is `thidua plan load`'s
code, audited under the staff account's name. Signed-in staff only (portal.sign_in).
"""

import hashlib
import re
from pathlib import Path, PurePath

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from domain.dates import fmt_day
from domain.reminders import Policy
from models import queries
from models.db import session_scope
from models.next_plan import plan_yaml
from models.plan_file import MAX_BYTES, PlanFileError, read_plan_bytes
from models.plan_store import PlanLoadError
from models.tables import Bloc, Contact, YearPlan
from models.timeline import build_timeline
from operations.plans import STALE, apply_plan, preview_plan
from portal.admin import SignedIn
from portal.limits import read_form
from portal.pages import PlanYear, render_page
from portal.sign_in import now, same_site_only

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
PAGE = "/quan-tri/ke-hoach"
DIGEST = re.compile(r"[0-9a-f]{64}")
STATE_NAMES = {"draft": "dự thảo", "active": "đang thực hiện", "closed": "đã kết thúc"}


def _active(session: Session, year: int) -> YearPlan | None:
    return session.exec(
        select(YearPlan).where(YearPlan.year == year, YearPlan.state == "active")
    ).first()


def _plan_view(session: Session, plan: YearPlan) -> dict:
    """What `thidua plan show` prints, plus the units and the reminder policy."""
    bloc = session.get(Bloc, plan.bloc_id)
    names = queries.unit_names(session=session, bloc_id=plan.bloc_id)
    events = queries.plan_events(session=session, plan=plan)
    units = queries.plan_units(session=session, plan=plan)
    focal = {
        c.unit_id: c
        for c in session.exec(
            select(Contact).where(
                Contact.unit_id.in_([u.id for u in units]), Contact.role == "focal_point"
            )
        ).all()
    }
    general = plan.rules["reminders"]
    own = [
        (d.title, Policy.from_rules(d.reminder_policy).describe())
        for d in events[2]
        if not d.cancelled and d.reminder_policy != general
    ]
    return {
        "plan": plan,
        "bloc": bloc,
        "state": STATE_NAMES.get(plan.state, plan.state),
        "head": names[plan.head_unit_id],
        "deputy": names[plan.deputy_unit_id],
        "secretariat": session.get(Contact, plan.secretariat_contact_id),
        "timeline": [(fmt_day(e.day), e.text) for e in build_timeline(*events, names)],
        "units": [(u, focal.get(u.id)) for u in units],
        "policy": Policy.from_rules(general).describe(),
        "own_policies": own,
    }


def _render(
    session: Session, request: Request, user, status: int = 200, *, year: int | None = None, **shown
) -> HTMLResponse:
    """The page: every plan in force; `shown` (errors, problems, preview, message) belongs to
    the form of the plan of `year` just sent."""
    plans = session.exec(
        select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.year)
    ).all()
    return render_page(
        "admin_plan.html.j2",
        status,
        staff=user,
        plans=[_plan_view(session, plan) for plan in plans],
        year=year,
        errors=shown.get("errors", []),
        problems=shown.get("problems", []),
        warnings=shown.get("warnings", []),
        preview=shown.get("preview"),
        message=shown.get("message"),
    )


@router.get(PAGE, response_class=HTMLResponse)
def plan_page(request: Request, user: SignedIn):
    with session_scope(request.app.state.engine) as session:
        return _render(session, request, user)


@router.get(PAGE + "/{year}.yaml")
def plan_download(year: PlanYear, request: Request, user: SignedIn) -> Response:
    """The plan in force as a plan file, to edit and upload again."""
    with session_scope(request.app.state.engine) as session:
        plan = _active(session, year)
        if plan is None:
            raise HTTPException(404)
        code = session.get(Bloc, plan.bloc_id).code
        text = plan_yaml(plan.document)
    headers = {
        "Content-Disposition": f'attachment; filename="ke-hoach-{code}-{year}.yaml"',
        "Cache-Control": "no-store",
    }
    return Response(text.encode(), media_type="application/yaml; charset=utf-8", headers=headers)


def _pending(request: Request, digest: str) -> Path:
    return request.app.state.settings.data_dir / "plans" / "uploaded" / f"{digest}.yaml"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@router.post(PAGE + "/{year}/kiem-tra", response_class=HTMLResponse)
async def check(year: PlanYear, request: Request, user: SignedIn):
    """Check an uploaded plan file and show what applying it would change; nothing is stored
    but the checked file, kept for the apply form."""

    def has_plan() -> bool:
        with session_scope(request.app.state.engine) as session:
            return _active(session, year) is not None

    # The session (the dependency) and the year are checked before the body is read.
    if not await to_thread.run_sync(has_plan):
        raise HTTPException(404)
    fields, uploads = await read_form(request, MAX_BYTES)
    user.check_form(fields)

    def try_it() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan = _active(session, year)
            if plan is None:
                raise HTTPException(404)
            files = uploads.get("plan", [])
            if len(files) != 1:
                errors = ["Hãy chọn một tệp kế hoạch (.yaml)."]
                return _render(session, request, user, 422, year=year, errors=errors)
            (upload,) = files
            name = PurePath(upload.filename.replace("\\", "/")).name[:100] or "ke-hoach.yaml"
            try:
                plan_file = read_plan_bytes(upload.content, name)
                preview = preview_plan(session, plan, plan_file)
            except PlanFileError as error:
                return _render(session, request, user, 422, year=year, problems=error.problems)
            except PlanLoadError as error:
                errors = [f"{name}: {_sentence(str(error))}"]
                return _render(session, request, user, 422, year=year, errors=errors)
            pending = _pending(request, plan_file.sha256)
            pending.parent.mkdir(parents=True, exist_ok=True)
            pending.write_bytes(upload.content)
            shown = {
                "file": name,
                "digest": plan_file.sha256,
                "base": plan.content_sha256,
                "summary": preview.summary,
                "changes": preview.changes,
            }
            return _render(
                session, request, user, year=year, preview=shown, warnings=plan_file.warnings
            )

    return await to_thread.run_sync(try_it)


@router.post(PAGE + "/{year}/ap-dung", response_class=HTMLResponse)
async def apply(year: PlanYear, request: Request, user: SignedIn):
    """Apply the file checked by the form just before, if the plan is still as it was then."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)
    digest, base = fields.get("digest", ""), fields.get("base", "")
    name = PurePath(fields.get("file", "").replace("\\", "/")).name[:100] or "ke-hoach.yaml"

    def save() -> HTMLResponse:
        with session_scope(request.app.state.engine) as session:
            plan = _active(session, year)
            if plan is None:
                raise HTTPException(404)
            pending = _pending(request, digest) if DIGEST.fullmatch(digest) else None
            if pending is None or not pending.is_file():
                return _render(session, request, user, 409, year=year, errors=[STALE])
            content = pending.read_bytes()
            if hashlib.sha256(content).hexdigest() != digest:
                return _render(session, request, user, 409, year=year, errors=[STALE])
            try:
                with session.begin_nested():
                    result = apply_plan(
                        session,
                        request.app.state.settings,
                        plan,
                        read_plan_bytes(content, name),
                        previewed_against=base,
                        actor=user.name,
                        at=now(request),
                    )
            except (PlanFileError, PlanLoadError) as error:
                errors = [_sentence(str(error))]
                return _render(session, request, user, 409, year=year, errors=errors)
            count = len(result.changes)
            message = (
                f"Đã áp dụng {name} cho kế hoạch năm {year}: {count} thay đổi."
                if count
                else f"{name}: kế hoạch năm {year} không có gì thay đổi."
            )
            return _render(session, request, user, year=year, message=message)

    response = await to_thread.run_sync(save)
    if response.status_code == 200:
        _pending(request, digest).unlink(missing_ok=True)
        if hook := request.app.state.on_plan_change:  # the Prefect schedules follow the dates
            await to_thread.run_sync(hook, request.app.state.engine)
    return response
