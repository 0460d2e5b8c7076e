"""The year-end ballot on a unit's private page: one form per plan holding every open poll.

The unit's choices are stored without the unit (see models.year_end.cast_ballot); the page
only shows that the unit has voted. Only the page's own form is taken as a ballot: it names
each poll it shows (`phieu`) and carries its submit marker (`gui`), so an empty or foreign
request can never cast a blank ballot.
"""

from datetime import UTC, datetime

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from models import queries
from models.db import forget_history, session_scope
from models.year_end import YearEndError, cast_ballot, plan_polls, voted
from portal.pages import PlanYear, not_found, unit_and_plans, unit_page_response

router = APIRouter(include_in_schema=False)
SUBMIT_MARKER = "phieu-bau"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_THE_FORM = "Yêu cầu gửi đến không phải phiếu bầu của trang này; không có gì được ghi nhận. Vui lòng mở lại trang của đơn vị và gửi phiếu bằng nút “Gửi phiếu bầu”."


async def read_ballot(request: Request) -> tuple[list[str], dict[str, list[str]]] | None:
    """(the polls the form showed, the choices per poll) from the page's ballot form, or None
    when the request is not that form."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    try:  # a file part is refused before it is spooled; the body is bounded by portal.limits
        form = await request.form(max_files=0, max_fields=200)
    except HTTPException:  # malformed, or a file: not the page's form
        return None
    try:
        if form.get("gui") != SUBMIT_MARKER:
            return None
        shown = [v for v in form.getlist("phieu") if isinstance(v, str)]
        choices = {key: form.getlist(key) for key in form if key.startswith("poll_")}
    finally:
        await form.close()
    return (shown, choices) if shown else None


@router.post("/don-vi/{token}/bo-phieu/{year}", response_class=HTMLResponse)
async def vote(token: str, year: PlanYear, request: Request):
    ballot = await read_ballot(request)
    return await to_thread.run_sync(_vote, request, token, year, ballot)


def _picked(values: list, title: str) -> list[int]:
    """The candidate ids chosen in one poll; anything but a plain number refuses the ballot."""
    if not all(isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 9 for v in values):
        raise YearEndError(f"{title}: lựa chọn không hợp lệ")
    return [int(v) for v in values]


def _vote(request: Request, token: str, year: int, ballot):
    engine = request.app.state.engine
    with session_scope(engine) as session:
        found = unit_and_plans(session, token)
        plan = next((p for p in found[1] if p.year == year), None) if found else None
        if plan is None:
            return not_found()
        unit, plans = found

        def refuse(message: str):
            return unit_page_response(
                request, session, token, unit, plans, 422, ballot_errors=[message]
            )

        if ballot is None:
            return refuse(NOT_THE_FORM)
        shown, choices = ballot
        members = {u.id for u in queries.plan_units(session=session, plan=plan)}
        polls = [
            p
            for p in plan_polls(session, plan=plan)
            if p.state == "open" and unit.id not in voted(session, poll=p)
        ]
        if not polls:
            return refuse(
                f"Đơn vị đã bỏ phiếu năm {year} hoặc cuộc bỏ phiếu đã kết thúc; mỗi đơn vị chỉ một phiếu."
            )
        if sorted(shown) != sorted(p.code for p in polls):
            return refuse(
                "Các mục bầu đã thay đổi từ khi trang được mở (có mục mới hoặc mục đã kết thúc); không có gì được ghi nhận. Vui lòng tải lại trang và bỏ phiếu."
            )
        now = datetime.now(UTC)
        try:
            with session.begin_nested():  # every poll of the form, or none
                for poll in polls:
                    cast_ballot(
                        session,
                        poll=poll,
                        voter=unit,
                        members=members,
                        choices=_picked(choices.get(f"poll_{poll.code}", []), poll.title),
                        at=now,
                    )
        except YearEndError as error:
            return refuse(str(error))
        done = {"title": f"Phiếu bầu năm {year}", "count": len(polls)}
        page = unit_page_response(request, session, token, unit, plans, voted_notice=done)
    forget_history(engine)
    return page
