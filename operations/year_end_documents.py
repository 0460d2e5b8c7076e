"""The year's documents from its data: the score table (.xlsx), the minutes of the year-end
meeting and the result report to the province (.docx)."""

from datetime import datetime
from fractions import Fraction
from pathlib import Path

from sqlmodel import Session

from documents.model import (
    Letterhead,
    Proposal,
    ScoreLine,
    ScoreTable,
    UnitResult,
    VoteCount,
    YearEnd,
)
from documents.score_table import write_score_table
from documents.text import percent, points
from documents.verification_sheet import build_verification_sheet
from documents.word import write_minutes, write_report
from domain.dates import fmt_instant, local_day
from domain.scoring import Ranked
from domain.voting import Seat, Tally
from domain.year_end import DEPUTY, HEAD, Decisions
from models import queries
from models.tables import Bloc, Contact, Meeting, Poll, YearPlan
from models.year_end import plan_polls, unit_scores


def verification_sheet(session: Session, *, plan: YearPlan) -> bytes:
    """The verification sheet (phiếu thẩm định) of every member unit, as verified so far."""
    names = {u.code: u.name for u in queries.plan_units(session=session, plan=plan)}
    return build_verification_sheet(
        bloc_code=session.get(Bloc, plan.bloc_id).code,
        year=plan.year,
        units=[(names[score.unit], score) for score in unit_scores(session, plan=plan)],
    )


def score_table(year) -> ScoreTable:
    """The ranking with every unit's line-by-line explanation."""
    plan, view = year.plan, year.view
    return ScoreTable(
        bloc_name=year.bloc_row.name,
        year=plan.year,
        groups=[(code, name, maximum) for code, name, maximum, _ in view.groups],
        bonus_cap=view.sheet.bonus_cap,
        total_max=view.sheet.total,
        results=[_unit_result(year, r) for r in year.ranking],
    )


def _unit_result(year, ranked: Ranked) -> UnitResult:
    score = ranked.score
    notes = []
    if ranked.tied_with:
        notes.append(f"Đồng hạng {ranked.rank}")
    elif ranked.split_by_penalty:
        notes.append("Bằng điểm; xếp theo điểm trừ ít hơn")
    return UnitResult(
        rank=ranked.rank,
        unit_code=score.unit,
        unit_name=year.names[score.unit],
        groups=score.groups,
        bonus=score.bonus,
        penalty=score.penalty,
        self_total=score.self_total,
        total=score.total,
        lines=[
            ScoreLine(
                code=line.item.code,
                name=line.item.name,
                kind=line.item.kind,
                max_points=line.item.max_points,
                self_points=line.self_points,
                verified_points=line.verified_points,
                final_points=line.final,
                reason=line.reason,
            )
            for line in score.lines
        ],
        note="; ".join(notes),
    )


def write_documents(
    session: Session,
    year,
    decisions: Decisions,
    counts: dict[str, Tally],
    *,
    folder: Path,
    as_of: datetime,
) -> list[Path]:
    table = score_table(year)
    content = _year_end(session, year, decisions, counts, table, as_of)
    n = year.plan.year
    return [
        save_score_table(year, table, folder=folder),
        write_minutes(folder / f"bien-ban-hoi-nghi-tong-ket-{n}.docx", content),
        write_report(folder / f"bao-cao-ket-qua-thi-dua-{n}.docx", content),
    ]


def documents_folder(data_dir: Path, year) -> Path:
    """Where a year's documents are written: DATA_DIR/documents/BLOC/YEAR."""
    return plan_documents(data_dir, year.bloc_row.code, year.plan.year)


def plan_documents(data_dir: Path, bloc: str, year: int) -> Path:
    """The documents folder of the bloc `bloc`'s plan of `year`."""
    return data_dir / "documents" / bloc / str(year)


def save_score_table(year, table: ScoreTable, *, folder: Path) -> Path:
    """The score table as `bang-diem-thi-dua-YEAR.xlsx` in `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_score_table(folder / f"bang-diem-thi-dua-{year.plan.year}.xlsx", table)


def year_end_meeting(session: Session, plan: YearPlan) -> Meeting | None:
    """The plan's last meeting (the year-end one), whose time and place the minutes state
    when the plan gives them."""
    meetings = [m for m in queries.plan_events(session=session, plan=plan)[3] if not m.cancelled]
    dated = [m for m in meetings if m.on or m.held_after or m.held_before]
    return max(dated, key=lambda m: m.on or m.held_after or m.held_before, default=None)


def _year_end(session, year, decisions, counts, table, as_of) -> YearEnd:
    plan, names = year.plan, year.names
    polls = plan_polls(session, plan=plan)
    secretariat = session.get(Contact, plan.secretariat_contact_id)
    head = names[year.bloc.head]
    province = year.bloc_row.province
    heading = dict(parent=f"UBND TỈNH {province.upper()}", issuer=year.bloc_row.name.upper())
    day = local_day(as_of)
    meeting = year_end_meeting(session, plan)
    return YearEnd(
        letterhead_minutes=Letterhead(**heading, number="     /BB-KTĐ", place=province, on=day),
        letterhead_report=Letterhead(**heading, number="     /BC-KTĐ", place=province, on=day),
        bloc_name=year.bloc_row.name,
        year=plan.year,
        next_year=plan.year + 1,
        meeting_title=f"Hội nghị tổng kết công tác thi đua, khen thưởng năm {plan.year}",
        held_at=meeting.starts_at if meeting else None,
        ended_at=meeting.ends_at if meeting else None,
        location=meeting.location if meeting else None,
        chair=f"Đại diện lãnh đạo {head} (Trưởng khối)",
        secretary=f"{secretariat.name}, {secretariat.title}"
        if secretariat.title
        else secretariat.name,
        present=None,  # who came to the meeting is not known here; voting online is not attending
        absent=None,
        scores=table,
        votes=[_vote_count(year, p, counts[p.code], decisions, polls) for p in polls],
        proposals=[
            Proposal(
                rule.title,
                [
                    (names[u], _total(year, u), counts[rule.code].counts.get(u))
                    for u in decisions.awards[rule.code].proposed
                ],
            )
            for rule in year.bloc.commendations
            if rule.code in decisions.awards
        ],
        head_next=_seat_name(year, decisions.head),
        deputy_next=_seat_name(year, decisions.deputy),
        election_note=_election_note(decisions),
        rotation=decisions.by_rotation,
        recipients=[plan.document["report_to"]["name"]] if plan.document.get("report_to") else [],
        copies_to=["Như trên", "Các đơn vị thành viên Khối", "Lưu: VT"],
        signer_title=f"TM. {year.bloc_row.name.upper()}\nTRƯỞNG KHỐI",
        signer_name="",
        chair_name="",
        secretary_name=secretariat.name,
    )


def _total(year, unit: str) -> float:
    return next(s.total for s in year.scores if s.unit == unit)


def _seat_name(year, seat: Seat | None) -> str | None:
    return year.names[seat.unit] if seat is not None and seat.unit else None


def _election_note(decisions: Decisions) -> str:
    seats = [s for s in (decisions.head, decisions.deputy) if s is not None]
    if seats and all(s.outcome == "rotation" for s in seats):
        return "theo thứ tự luân phiên"
    if any(s.outcome == "rotation" for s in seats):
        return "bầu bằng phiếu kín; khi số phiếu bằng nhau, theo thứ tự luân phiên"
    return "bầu bằng phiếu kín"


def _vote_count(year, poll: Poll, result: Tally, decisions: Decisions, polls) -> VoteCount:
    share = _share(year, poll)
    paper = poll.result.get("paper")
    return VoteCount(
        title=poll.title,
        members=result.members,
        present=result.returned,
        issued=result.returned if paper else result.members,
        returned=result.returned,
        valid=result.valid,
        invalid=result.invalid,
        counts=[
            (year.names[u], n) for u, n in sorted(result.counts.items(), key=lambda item: -item[1])
        ],
        threshold=(
            f"trên {percent(float(share), 1)} tổng số đơn vị thành viên "
            f"(trên {points(float(share * result.members))} phiếu)"
        ),
        outcome=_outcome(year, poll, result, decisions, [p.code for p in polls]),
        online="" if paper else _ballot_window(poll),
    )


def _ballot_window(poll: Poll) -> str:
    """ "từ 09:00 14/12/2020 đến 17:00 21/12/2020", or from the close alone for a poll opened
    before the opening time was kept."""
    closes = f"đến {fmt_instant(poll.closes_at)}" if poll.closes_at else ""
    opens = poll.result.get("opens_at")
    return f"từ {fmt_instant(datetime.fromisoformat(opens))} {closes}" if opens else closes


def _share(year, poll: Poll) -> Fraction:
    rule = next((r for r in year.bloc.commendations if r.code == poll.code), None)
    return rule.vote_share if rule else year.bloc.election.majority


def _outcome(year, poll: Poll, result: Tally, decisions: Decisions, codes: list[str]) -> list[str]:
    names = year.names
    if not result.quorum_met:
        return [f"Không đủ số phiếu tối thiểu ({result.returned}/{result.members} đơn vị)."]
    if poll.code in decisions.awards:
        award = decisions.awards[poll.code]
        said = (
            [f"Đề nghị: {', '.join(names[u] for u in award.proposed)}."] if award.proposed else []
        )
        if award.referred:
            tied = ", ".join(names[u] for u in award.referred)
            said.append(f"Các đơn vị bằng phiếu và bằng điểm, đề nghị cấp trên xem xét: {tied}.")
        return said or ["Không có đơn vị đạt số phiếu cần thiết."]
    head = poll.code.startswith(HEAD)
    seat = decisions.head if head else decisions.deputy
    role = "Trưởng khối" if head else "Phó Trưởng khối"
    latest = [c for c in codes if c.startswith(HEAD if head else DEPUTY)][-1]
    if seat is not None and seat.unit and poll.code == latest:
        how = "theo thứ tự luân phiên" if seat.outcome == "rotation" else "trúng cử"
        return [f"{names[seat.unit]} {how} {role} năm {year.plan.year + 1}."]
    return ["Không đơn vị nào đạt đa số cần thiết; bỏ phiếu lại."]
