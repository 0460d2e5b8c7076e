"""A unit's page in the secretariat's workspace (/quan-tri/don-vi/YEAR/CODE), for the active
plan of YEAR: the unit's contacts, its private links (send them again, rotate one), every
version it sent with its files, its self score and the verification, whether it has voted in
each poll (never for whom), and every email to it with its delivery.

Signed-in staff only (portal.sign_in): every POST comes from this site, carries the session's
CSRF token and is audited under the account's name. The unit is named by its code, never by its
private token, so no token reaches an address, a page of the workspace or a log. A fixed number
of queries, whatever the size of the bloc or the unit's history.
"""

from datetime import datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from documents.text import points
from domain.dates import fmt_date, fmt_instant, last_day, local_day
from domain.extensions import unit_due_at
from domain.status import submission_state
from models import queries
from models.db import session_scope
from models.overview import STATE_CLASS
from models.scores import SheetView, sheet_view
from models.submissions import history
from models.tables import (
    AccessToken,
    BallotReceipt,
    Contact,
    Deadline,
    Membership,
    OutboxMessage,
    Submission,
    SubmissionFile,
    Unit,
    YearPlan,
)
from models.year_end import plan_polls, unit_scores
from notifications.kinds import STATUS_NAMES, kind_name
from notifications.mailer import send_outbox
from operations.unit_links import LINK_NAMES, rotate_link, send_links
from portal.downloads import FileId, file_response
from portal.limits import read_form
from portal.pages import PlanYear, not_found, render_page
from portal.sent import version_view
from portal.sign_in import Staff, now, same_site_only, signed_in
from portal.year_end_sections import line_view

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
SignedIn = Annotated[Staff, Depends(signed_in)]
ROLES = {
    "focal_point": "Cán bộ đầu mối",
    "leader": "Lãnh đạo đơn vị",
    "secretariat": "Văn phòng Khối",
}


def unit_url(year: int, code: str) -> str:
    """The address of the unit's page in the workspace."""
    return f"/quan-tri/don-vi/{year}/{code}"


def _find(session: Session, year: int, code: str) -> tuple[YearPlan, Unit] | None:
    """The active plan of `year` and its member unit `code` (None when either is missing)."""
    return session.exec(
        select(YearPlan, Unit)
        .join(Membership, Membership.plan_id == YearPlan.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(YearPlan.year == year, YearPlan.state == "active", Unit.code == code)
    ).first()


@router.get("/quan-tri/don-vi/{year}/{code}", response_class=HTMLResponse)
def unit_page(year: PlanYear, code: str, request: Request, user: SignedIn):
    with session_scope(request.app.state.engine) as session:
        found = _find(session, year, code)
        if found is None:
            return not_found()
        return _render(session, request, user, *found)


@router.get("/quan-tri/don-vi/{year}/{code}/tep/{file_id}")
def download(year: PlanYear, code: str, file_id: FileId, request: Request, user: SignedIn):
    """A file the unit sent for a deadline of the plan; any other file is not found."""
    with session_scope(request.app.state.engine) as session:
        found = _find(session, year, code)
        file = (
            found
            and session.exec(
                select(SubmissionFile)
                .join(Submission, Submission.id == SubmissionFile.submission_id)
                .join(Deadline, Deadline.id == Submission.deadline_id)
                .where(
                    SubmissionFile.id == file_id,
                    Submission.unit_id == found[1].id,
                    Deadline.plan_id == found[0].id,
                )
            ).one_or_none()
        )
    return file_response(request, file)


@router.post("/quan-tri/don-vi/{year}/{code}/gui-duong-dan", response_class=HTMLResponse)
async def resend_links(
    year: PlanYear, code: str, request: Request, user: SignedIn, background: BackgroundTasks
):
    """Email the unit's current links to its focal point again, through the outbox."""

    def act(session: Session, plan: YearPlan, unit: Unit, fields: dict) -> tuple[int, str]:
        settings = request.app.state.settings
        sent_to = send_links(
            session, settings, plan=plan, unit=unit, actor=user.name, at=now(request)
        )
        background.add_task(send_outbox, request.app.state.engine, settings)
        return 200, f"Đã gửi lại đường dẫn riêng cho {unit.name} tới {', '.join(sent_to)}."

    return await _change(year, code, request, user, act)


@router.post("/quan-tri/don-vi/{year}/{code}/doi-duong-dan", response_class=HTMLResponse)
async def rotate(year: PlanYear, code: str, request: Request, user: SignedIn):
    """Issue the unit a new link (portal or calendar): the old one stops answering at once."""

    def act(session: Session, plan: YearPlan, unit: Unit, fields: dict) -> tuple[int, str]:
        purpose = fields.get("purpose", "")
        if purpose not in LINK_NAMES:
            return 422, "Hãy chọn đường dẫn cần cấp mới: trang nộp hồ sơ hoặc lịch riêng."
        rotate_link(
            session,
            request.app.state.settings,
            plan=plan,
            unit=unit,
            purpose=purpose,
            actor=user.name,
            at=now(request),
        )
        return 200, (
            f"Đã cấp {LINK_NAMES[purpose]} mới cho {unit.name}; đường dẫn cũ đã ngừng hoạt động. "
            "Hãy gửi lại đường dẫn cho đơn vị."
        )

    return await _change(year, code, request, user, act)


async def _change(year: int, code: str, request: Request, user: Staff, act) -> Response:
    """A form of the unit's page: `act(session, plan, unit, fields)` gives (status, message);
    a refusal (422) shows its message as an error and stores nothing."""
    fields, _ = await read_form(request, 0)
    user.check_form(fields)

    def save() -> Response:
        with session_scope(request.app.state.engine) as session:
            found = _find(session, year, code)
            if found is None:
                return not_found()
            status, message = act(session, *found, fields)
            if status != 200:  # refused before anything was changed
                return _render(session, request, user, *found, status, errors=[message])
            return _render(session, request, user, *found, message=message)

    return await to_thread.run_sync(save)


def _render(
    session: Session,
    request: Request,
    user: Staff,
    plan: YearPlan,
    unit: Unit,
    status: int = 200,
    *,
    message: str | None = None,
    errors: list[str] = (),
) -> HTMLResponse:
    contacts = session.exec(select(Contact).where(Contact.unit_id == unit.id)).all()
    view = sheet_view(session, plan=plan)
    return render_page(
        "admin_unit.html.j2",
        status,
        staff=user,
        plan=plan,
        unit=unit,
        url=unit_url(plan.year, unit.code),
        contacts=[
            {"role": ROLES.get(c.role, c.role), "person": c}
            for c in sorted(contacts, key=lambda c: list(ROLES).index(c.role))
        ],
        links=_links(session, unit),
        deadlines=_deadlines(session, plan, unit, view, now(request)),
        score=_score(session, plan, unit, view),
        polls=_polls(session, plan, unit),
        mails=_mails(session, plan, unit),
        message=message,
        errors=errors,
    )


def _links(session: Session, unit: Unit) -> list[dict]:
    """Each private link of the unit: which issue it is and since when (never the token)."""
    rows = session.exec(
        select(AccessToken).where(AccessToken.unit_id == unit.id, AccessToken.revoked_at.is_(None))
    ).all()
    live = {row.purpose: row for row in rows}
    return [
        {
            "purpose": purpose,
            "name": name,
            "issued": _issued(live[purpose])
            if purpose in live
            else "chưa cấp (cấp khi gửi thư đầu tiên)",
        }
        for purpose, name in LINK_NAMES.items()
    ]


def _issued(row: AccessToken) -> str:
    return f"cấp lần {row.generation}, ngày {fmt_date(local_day(row.created_at))}"


def _deadlines(
    session: Session, plan: YearPlan, unit: Unit, view: SheetView, as_of: datetime
) -> list[dict]:
    """Each deadline the unit owes: its last day for the unit, its state and every version."""
    only = {unit.id}
    owed = queries.obligations(session=session, plan=plan, only=only)
    deadlines = [
        d
        for d in queries.plan_events(session=session, plan=plan)[2]
        if not d.cancelled and (d.id, unit.id) in owed
    ]
    extended = queries.extensions(session=session, plan=plan, only=only)
    past = history(session, unit_id=unit.id, deadline_ids=[d.id for d in deadlines])
    files_at = f"{unit_url(plan.year, unit.code)}/tep"
    items = []
    for d in deadlines:
        entries = past.get(d.id, [])
        due_at = unit_due_at(d.due_at, extended.get((d.id, unit.id)))
        received = [s.received_at for s, _ in entries if s.status == "accepted"]
        state = submission_state(due_at, received, as_of)
        items.append(
            {
                "title": d.title,
                "last_day": fmt_date(last_day(due_at)),
                "extended": due_at != d.due_at,
                "state": state.value,
                "css": STATE_CLASS[state],
                "history": [
                    version_view(s, files, files_at=files_at, kind=d.kind, view=view)
                    for s, files in entries
                ],
            }
        )
    return items


def _score(session: Session, plan: YearPlan, unit: Unit, view: SheetView) -> dict | None:
    """The unit's self score and the verification, item by item (None before any score)."""
    score = next(s for s in unit_scores(session, plan=plan, view=view) if s.unit == unit.code)
    lines = [
        line
        for line in score.lines
        if line.self_points is not None or line.verified_points is not None
    ]
    if not lines:
        return None
    checked = sum(line.verified_points is not None for line in score.lines)
    return {
        "self_total": points(score.self_total),
        "total": points(score.total),
        "state": "đã thẩm định xong"
        if score.verified
        else f"đã thẩm định {checked}/{len(score.lines)} mục",
        "lines": [line_view(line) for line in lines],
    }


def _polls(session: Session, plan: YearPlan, unit: Unit) -> list[dict]:
    """Each poll of the plan and whether the unit has voted in it: the receipt only, which
    holds no choice (docs/scoring.md, "The secrecy of the ballot")."""
    polls = plan_polls(session, plan=plan)
    voted = set(
        session.exec(
            select(BallotReceipt.poll_id).where(
                BallotReceipt.voter_unit_id == unit.id,
                BallotReceipt.poll_id.in_([p.id for p in polls]),
            )
        ).all()
    )
    return [
        {
            "title": p.title,
            "state": "đang bỏ phiếu" if p.state == "open" else "đã kết thúc",
            "closes_at": fmt_instant(p.closes_at) if p.closes_at else None,
            "voted": p.id in voted,
        }
        for p in polls
    ]


def _mails(session: Session, plan: YearPlan, unit: Unit) -> list[dict]:
    """Every email of the plan about the unit, newest first, with its delivery."""
    rows = session.exec(
        select(
            OutboxMessage.created_at,
            OutboxMessage.stage,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.status,
            OutboxMessage.sent_at,
            OutboxMessage.last_error,
        )
        .where(OutboxMessage.unit_id == unit.id, OutboxMessage.plan_id == plan.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()
    return [
        {
            "at": fmt_instant(created_at),
            "kind": kind_name(stage),
            "recipient": recipient,
            "subject": subject,
            "status": STATUS_NAMES.get(status, status),
            "css": _STATUS_CLASS.get(status, "s-pending"),
            "failed": status == "failed",
            "detail": _delivery(status, sent_at, error),
        }
        for created_at, stage, recipient, subject, status, sent_at, error in rows
    ]


_STATUS_CLASS = {"sent": "s-done", "failed": "s-overdue", "cancelled": "s-past"}


def _delivery(status: str, sent_at: datetime | None, error: str | None) -> str | None:
    """What the server said: when it took the email, or why it did not."""
    if status == "sent" and sent_at:
        return f"máy chủ thư nhận lúc {fmt_instant(sent_at)}"
    if status == "failed":
        return f"máy chủ thư từ chối: {error}" if error else None
    if error:
        return f"sẽ thử gửi lại; lần trước lỗi: {error}"
    return None
