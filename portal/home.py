"""The bloc's public home page (`/`): each plan in force, its timeline with the state of every
event on today's date, and how to subscribe to the bloc calendar.

Public: it shows what the plan file publishes (rounds, deadlines, meetings, the units that
receive or host them) and never a unit's link, contact or submissions.
"""

import io
from datetime import UTC, date, datetime, timedelta

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from domain.dates import fmt_date, fmt_day, fmt_instant, last_day, local_day
from domain.status import EventState, event_state
from models import queries
from models.db import session_scope
from models.links import Links, subscribe_links
from models.tables import Bloc, Deadline, Meeting, Round, YearPlan
from portal.pages import render_page

router = APIRouter(include_in_schema=False)
STATE_CLASSES = {
    EventState.PAST: "s-past",
    EventState.CURRENT: "s-current",
    EventState.UPCOMING: "s-pending",
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    today = local_day(datetime.now(UTC))
    links = Links(settings.base_url, b"")  # the bloc feed is public: no token to sign
    with session_scope(request.app.state.engine) as session:
        plans = session.exec(
            select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.year)
        ).all()
        sections = [plan_section(session, plan, links, today) for plan in plans]
    return render_page("home.html.j2", plans=sections, today=fmt_day(today))


def plan_section(session: Session, plan: YearPlan, links: Links, today: date) -> dict:
    """What the page shows of one plan: its bloc, its rounds with their events, the feed."""
    bloc = session.get(Bloc, plan.bloc_id)
    rounds, _, deadlines, meetings = queries.plan_events(session=session, plan=plan)
    names = queries.unit_names(session=session, bloc_id=plan.bloc_id)
    events = [_deadline(d, names, today) for d in deadlines if not d.cancelled]
    events += [_meeting(m, names, today) for m in meetings if not m.cancelled]
    events.sort(key=lambda event: event["day"])
    live = [r for r in rounds if not r.cancelled]
    groups = [_round(r, [e for e in events if e["round_id"] == r.id], today) for r in live]
    outside = [e for e in events if e["round_id"] not in {r.id for r in live}]
    if outside:
        groups.append(
            {
                "name": "Ngoài các đợt thi đua",
                "span": None,
                "theme": None,
                "events": outside,
                "state": None,
                "state_class": None,
            }
        )
    feed_url = links.bloc_feed_url(bloc.code, plan.year)
    anchor = f"lich-{bloc.code}-{plan.year}"
    return {
        "bloc": bloc.name,
        "province": bloc.province,
        "year": plan.year,
        "title": plan.title,
        "rounds": groups,
        "anchor": anchor,
        "subscribe": subscribe_links(feed_url),
        "qr_svg": qr_svg(f"{links.base_url}/#{anchor}"),
    }


def qr_svg(url: str) -> str:
    """An inline SVG QR code of `url` (no XML declaration, to sit inside the page)."""
    out = io.BytesIO()
    title = "Mã QR mở trang này trên điện thoại"
    options = {
        "scale": 5,
        "border": 2,
        "xmldecl": False,
        "svgclass": None,
        "lineclass": None,
        "omitsize": True,
    }
    segno.make(url, error="m").save(out, kind="svg", title=title, **options)
    return out.getvalue().decode()


def _state(first: date, last: date, today: date) -> dict:
    state = event_state(first, last, today)
    return {"state": state.value, "state_class": STATE_CLASSES[state]}


def _round(r: Round, events: list[dict], today: date) -> dict:
    return {
        "name": r.name,
        "span": f"{fmt_date(r.starts_on)} – {fmt_date(r.ends_on)}",
        "theme": r.theme,
        "events": events,
        **_state(r.starts_on, r.ends_on, today),
    }


def _deadline(d: Deadline, names: dict[int, str], today: date) -> dict:
    day = last_day(d.due_at)
    return {
        "kind": "Hạn nộp",
        "round_id": d.round_id,
        "day": day,
        "title": d.title,
        "when": f"{d.wording} – hạn cuối: hết ngày {fmt_day(day)}",
        "detail": f"Gửi {names[d.recipient_unit_id]}.",
        **_state(day, day, today),
    }


def _meeting(m: Meeting, names: dict[int, str], today: date) -> dict:
    if m.on:
        day, state = m.on, _state(m.on, m.until or m.on, today)
        when = f"Từ {fmt_day(m.on)} đến {fmt_day(m.until)}" if m.until else fmt_day(m.on)
        if m.starts_at:
            when += f", lúc {fmt_instant(m.starts_at).split()[0]}"
    else:  # not scheduled yet: upcoming until the last day it can be held, never "under way"
        if m.held_before:
            day = last = m.held_before - timedelta(days=1)
            when = f"Chưa ấn định ngày; họp chậm nhất {fmt_day(last)}"
        else:
            day, last = m.held_after, date(m.held_after.year, 12, 31)
            when = f"Chưa ấn định ngày; họp sau ngày {fmt_date(m.held_after)}"
        state = _state(last + timedelta(days=1), last, today)
        if m.wording:
            when += f" ({m.wording})"
    detail = f"{names[m.host_unit_id]} chủ trì" + (f", tại {m.location}." if m.location else ".")
    return {
        "kind": "Họp",
        "round_id": m.round_id,
        "day": day,
        "title": m.title,
        "when": when,
        "detail": detail,
        **state,
    }
