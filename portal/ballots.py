"""The year-end ballot on a unit's private page: one form per plan holding every open poll.

The unit's choices are stored without the unit (see models.year_end.cast_ballot); the page
only shows that the unit has voted.
"""

from datetime import UTC, datetime

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from models import queries
from models.db import session_scope
from models.year_end import YearEndError, cast_ballot, plan_polls, voted
from portal.pages import not_found, unit_and_plans, unit_page_response

router = APIRouter(include_in_schema=False)


@router.post("/don-vi/{token}/bo-phieu/{year}", response_class=HTMLResponse)
async def vote(token: str, year: int, request: Request):
    form = await request.form()
    choices = {key: form.getlist(key) for key in form if key.startswith("poll_")}
    return await to_thread.run_sync(_vote, request, token, year, choices)


def _vote(request: Request, token: str, year: int, choices: dict[str, list[str]]):
    with session_scope(request.app.state.engine) as session:
        found = unit_and_plans(session, token)
        plan = next((p for p in found[1] if p.year == year), None) if found else None
        if plan is None:
            return not_found()
        unit, plans = found
        members = {u.id for u in queries.plan_units(session=session, plan=plan)}
        polls = [
            p
            for p in plan_polls(session, plan=plan)
            if p.state == "open" and unit.id not in voted(session, poll=p)
        ]
        if not polls:
            refused = f"Đơn vị đã bỏ phiếu năm {year} hoặc cuộc bỏ phiếu đã kết thúc; mỗi đơn vị chỉ một phiếu."
            return unit_page_response(
                request, session, token, unit, plans, 422, ballot_errors=[refused]
            )
        try:
            with session.begin_nested():  # every poll of the form, or none
                for poll in polls:
                    picked = [int(v) for v in choices.get(f"poll_{poll.code}", []) if v.isdigit()]
                    cast_ballot(
                        session,
                        poll=poll,
                        voter=unit,
                        members=members,
                        choices=picked,
                        at=datetime.now(UTC),
                    )
        except YearEndError as error:
            return unit_page_response(
                request,
                session,
                token,
                unit,
                plans,
                422,
                ballot_errors=[str(error)],
            )
        done = {"title": f"Phiếu bầu năm {year}", "count": len(polls)}
        return unit_page_response(request, session, token, unit, plans, voted_notice=done)
