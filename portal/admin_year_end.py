"""The year-end part of the secretariat's workspace: each active plan's polls (open or closed,
how many units have voted, never for whom), the documents the close of each year wrote (minutes,
report, score table) to download, and the way to the flow runs in the Prefect UI."""

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session, func, select

from domain.dates import fmt_instant
from models.db import session_scope
from models.tables import BallotReceipt, Bloc, Poll, YearPlan
from operations.year_end_documents import plan_documents
from portal.downloads import attachment_header
from portal.pages import PlanYear, not_found
from portal.sign_in import same_site_only, signed_in

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])
MEDIA = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class PollRow:
    title: str
    state: str  # "Đang mở đến 17:00 21/12/2020", "Đã đóng"
    voted: int
    members: int


@dataclass(frozen=True)
class Documents:
    year: int
    title: str
    files: list[tuple[str, int]]  # name, size in KB


def poll_rows(session: Session, plan: YearPlan, members: int) -> list[PollRow]:
    """The plan's polls with how many units have voted in each (two queries)."""
    polls = session.exec(select(Poll).where(Poll.plan_id == plan.id).order_by(Poll.id)).all()
    counts = dict(
        session.exec(
            select(BallotReceipt.poll_id, func.count())
            .where(BallotReceipt.poll_id.in_([p.id for p in polls]))
            .group_by(BallotReceipt.poll_id)
        ).all()
    )
    return [PollRow(p.title, _state(p), counts.get(p.id, 0), members) for p in polls]


def _state(poll: Poll) -> str:
    if poll.state == "closed":
        return "Đã kiểm phiếu" if poll.result else "Đã đóng"
    return f"Đang mở đến {fmt_instant(poll.closes_at)}" if poll.closes_at else "Đang mở"


def year_documents(session: Session, data_dir: Path) -> list[Documents]:
    """Every plan's year-end documents on disk, newest year first (one query)."""
    plans = session.exec(
        select(YearPlan, Bloc.code).join(Bloc).order_by(YearPlan.year.desc())
    ).all()
    found = []
    for plan, bloc in plans:
        folder = plan_documents(data_dir, bloc, plan.year)
        files = sorted(f for f in folder.glob("*") if f.suffix in MEDIA and f.is_file())
        if files:
            sizes = [(f.name, max(1, round(f.stat().st_size / 1024))) for f in files]
            found.append(Documents(plan.year, plan.title, sizes))
    return found


@router.get("/quan-tri/van-ban/{year}/{name}", dependencies=[Depends(signed_in)])
def document(year: PlanYear, name: str, request: Request) -> Response:
    """One of the year's documents, by its name as listed (never a path)."""
    with session_scope(request.app.state.engine) as session:
        blocs = session.exec(select(Bloc.code).join(YearPlan).where(YearPlan.year == year)).all()
    data_dir = request.app.state.settings.data_dir
    for bloc in blocs:
        folder = plan_documents(data_dir, bloc, year)
        match = [f for f in folder.glob("*") if f.name == name and f.suffix in MEDIA]
        if match and match[0].is_file():
            headers = {"Content-Disposition": attachment_header(name)}
            return FileResponse(match[0], media_type=MEDIA[match[0].suffix], headers=headers)
    return not_found()
