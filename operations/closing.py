"""The close of the year, one step at a time: each call of `advance` looks at where the plan
stands and does the next thing once — open the ballot, count it when everyone has voted or
the ballot closed, open a re-vote, or, once the head unit approves the decisions, finish
(proposals, documents, results, plan closed, next year's draft). Repeating a call changes
nothing until the state moves on.
"""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from sqlmodel import Session, select

from config.settings import Settings
from documents.text import points
from domain.dates import TZ, fmt_instant, local_day
from domain.plan_schema import Commendation, Election
from domain.scoring import Ranked, UnitScore, rank
from domain.voting import Tally
from domain.year_end import Bloc, Decisions, PollSpec, decide, first_polls
from models import filestore, queries
from models.next_plan import next_year_plan
from models.scores import SheetView, sheet_view
from models.tables import AuditEvent, CommendationProposal, Poll, Unit, YearPlan
from models.tables import Bloc as BlocRow
from models.year_end import open_poll, plan_polls, poll_tally, unit_scores, voted
from notifications.drafts import PlanState
from notifications.outbox import Draft
from notifications.year_end import ballot_drafts, result_drafts
from operations.approval import Approval, Approve, decided, record_answer
from operations.year_end_documents import documents_folder, write_documents


@dataclass
class Year:
    """One plan's year-end as loaded: members, scores, ranking and rules."""

    plan: YearPlan
    bloc_row: BlocRow
    units: list[Unit]
    view: SheetView
    scores: list[UnitScore]
    ranking: list[Ranked]
    bloc: Bloc
    state: PlanState

    @cached_property
    def codes(self) -> dict[int, str]:
        return {u.id: u.code for u in self.units}

    @cached_property
    def ids(self) -> dict[str, int]:
        return {u.code: u.id for u in self.units}

    @cached_property
    def names(self) -> dict[str, str]:
        return {u.code: u.name for u in self.units}


@dataclass(frozen=True)
class Step:
    """What one call did, for the flow's table artifact."""

    action: str  # waiting | opened | closed
    detail: str
    drafts: list[Draft]
    files: list[Path]

    @property
    def name(self) -> str:
        """The step in the words of the run's table and log."""
        return STEP_NAMES[self.action]


STEP_NAMES = {
    "waiting": "đang chờ",
    "opened": "mở bỏ phiếu",
    "rejected": "chưa phê duyệt kết quả",
    "closed": "kết thúc năm",
}


def load_year(session: Session, *, plan: YearPlan, state: PlanState) -> Year:
    view = sheet_view(session, plan=plan)
    scores = unit_scores(session, plan=plan, view=view)
    units = queries.plan_units(session=session, plan=plan)
    rules = plan.rules
    codes = {u.id: u.code for u in units}
    bloc = Bloc(
        year=plan.year,
        members=tuple(u.code for u in units),
        head=codes[plan.head_unit_id],
        deputy=codes[plan.deputy_unit_id],
        election=Election.model_validate(rules.get("election", {})),
        commendations=tuple(Commendation.model_validate(c) for c in rules.get("commendations", [])),
        disqualified=_disqualified(session, plan=plan, state=state, scores=scores),
    )
    return Year(
        plan, session.get(BlocRow, plan.bloc_id), units, view, scores, rank(scores), bloc, state
    )


def _disqualified(
    session: Session, *, plan: YearPlan, state: PlanState, scores: list[UnitScore]
) -> dict[str, frozenset[str]]:
    """Units without an accepted registration; units with a disciplinary penalty verified."""
    registrations = [d for d in state.deadlines if d.kind == "registration"]
    codes = {u.id: u.code for u in state.units}
    unregistered = {
        codes[unit_id]
        for deadline in registrations
        for deadline_id, unit_id in state.owed
        if deadline_id == deadline.id and not state.receipts.get((deadline.id, unit_id))
    }
    penalties = plan.document.get("score_sheet", {}).get("penalties", [])
    disciplinary = {p["code"] for p in penalties if p.get("disciplinary")}
    disciplined = {
        s.unit
        for s in scores
        for line in s.lines
        if line.item.code in disciplinary and line.final > 0
    }
    return {"no_registration": frozenset(unregistered), "disciplined": frozenset(disciplined)}


def advance(
    session: Session,
    year: Year,
    *,
    as_of: datetime,
    settings: Settings,
    dry_run: bool,
    approve: Approve,
) -> Step:
    """Do the next step of the year's close, once; only in office hours of a working day, so
    that ballots and results, like reminders, reach people at work. After the count nothing
    goes out until `approve` (the head unit) approves the decisions; a dry run does not ask."""
    plan = year.plan
    if not year.state.calendar.is_office_time(as_of):
        return Step(
            "waiting", "ngoài giờ hành chính: bước tiếp theo làm trong giờ làm việc", [], []
        )
    polls = plan_polls(session, plan=plan)
    if not polls:
        blocked = _not_ready(year, as_of)
        if blocked:
            return Step("waiting", blocked, [], [])
        specs = first_polls(year.bloc, year.ranking)
        if specs:
            return _open(session, year, specs, as_of, "Mở bỏ phiếu")
    members = set(year.codes)
    open_polls = [p for p in polls if p.state == "open"]
    if open_polls:
        everyone = all(
            p.result.get("paper") or voted(session, poll=p) >= members for p in open_polls
        )
        closes_at = min(p.closes_at for p in open_polls)
        if not everyone and as_of < closes_at:
            returned = len(set.intersection(*(voted(session, poll=p) for p in open_polls)))
            return Step(
                "waiting",
                f"{returned}/{len(members)} đơn vị đã bỏ phiếu; hạn {fmt_instant(closes_at)}",
                [],
                [],
            )
        for poll in open_polls:
            _close(session, year, poll)
    counts = {p.code: _stored_tally(p) for p in plan_polls(session, plan=plan)}
    decisions = decide(year.bloc, year.ranking, counts)
    if decisions.next_polls:
        return _open(session, year, decisions.next_polls, as_of, "Bỏ phiếu lại")
    if not dry_run:
        answer = _ask(session, year, decisions, approve)
        if not answer.approved:
            return Step("rejected", f"{answer.by} chưa phê duyệt: {answer.note}", [], [])
    return _finish(
        session, year, decisions, counts, as_of=as_of, settings=settings, dry_run=dry_run
    )


def _ask(session: Session, year: Year, decisions: Decisions, approve: Approve) -> Approval:
    """The head unit's answer on the decisions, written to the audit log."""
    key = f"{year.bloc_row.code}-{year.plan.year}"
    results = _results(year, decisions)
    decision = decided(key=key, year=year.plan.year, bloc=year.bloc_row.name, results=results)
    answer = approve(decision)
    record_answer(session, plan=year.plan, decision=decision, answer=answer)
    return answer


def _not_ready(year: Year, as_of: datetime) -> str | None:
    """Why the vote cannot open yet: the annual report is not due, or scores are unverified."""
    annual = [d.due_at for d in year.state.deadlines if d.kind == "self_score"]
    if annual and as_of < max(annual):
        return f"chưa đến hạn nộp báo cáo tổng kết ({fmt_instant(max(annual))})"
    unverified = [year.names[s.unit] for s in year.scores if not s.verified]
    if unverified:
        return "chờ thẩm định điểm của: " + ", ".join(unverified)
    return None


def _open(session: Session, year: Year, specs: list[PollSpec], as_of: datetime, what: str) -> Step:
    calendar = year.state.calendar
    last = calendar.shift(local_day(as_of), year.bloc.election.ballot_working_days)
    closes_at = datetime.combine(last, calendar.closes, TZ)
    polls = [
        open_poll(
            session,
            plan=year.plan,
            code=spec.code,
            kind=spec.kind,
            title=spec.title,
            seats=spec.seats,
            candidates=[year.ids[c] for c in spec.candidates],
            closes_at=closes_at,
        )
        for spec in specs
    ]
    for poll in polls:  # the minutes state the ballot's window
        poll.result = {**poll.result, "opens_at": as_of.isoformat()}
    listed = [
        {"title": s.title, "seats": s.seats, "candidates": [year.names[c] for c in s.candidates]}
        for s in specs
    ]
    codes = ",".join(p.code for p in polls)
    drafts = ballot_drafts(year.state, listed, codes=codes, closes_at=closes_at, voted=set())
    detail = f"{what}: {'; '.join(s.title for s in specs)}; hạn {fmt_instant(closes_at)}"
    return Step("opened", detail, drafts, [])


def _close(session: Session, year: Year, poll: Poll) -> None:
    quorum = year.bloc.election.quorum
    result = poll_tally(
        session, poll=poll, members=len(year.units), quorum=quorum, codes=year.codes
    )
    poll.state = "closed"
    poll.result = {
        **poll.result,
        "members": result.members,
        "returned": result.returned,
        "invalid": result.invalid,
        "counts": result.counts,
        "quorum": str(quorum),
    }
    session.add(poll)


def _stored_tally(poll: Poll) -> Tally:
    r = poll.result
    return Tally(r["members"], r["returned"], r["invalid"], r["counts"], Fraction(r["quorum"]))


def _finish(
    session: Session,
    year: Year,
    decisions: Decisions,
    counts: dict[str, Tally],
    *,
    as_of: datetime,
    settings: Settings,
    dry_run: bool,
) -> Step:
    plan, data_dir = year.plan, settings.data_dir
    totals = {s.unit: s.total for s in year.scores}
    for rule in year.bloc.commendations:
        outcome = decisions.awards.get(rule.code)
        for state, units in (
            (("proposed", outcome.proposed), ("referred", outcome.referred)) if outcome else ()
        ):
            for unit in units:
                session.add(
                    CommendationProposal(
                        plan_id=plan.id,
                        unit_id=year.ids[unit],
                        title=rule.title,
                        rank=next(r.rank for r in year.ranking if r.score.unit == unit),
                        total=totals[unit],
                        votes=counts[rule.code].counts.get(unit),
                        state=state,
                    )
                )
    head, deputy = decisions.head.unit, decisions.deputy.unit
    folder = documents_folder(data_dir, year)
    draft_path = data_dir / "plans" / f"{year.bloc_row.code}-{plan.year + 1}.yaml"
    documents: list[Path] = []
    files: list[Path] = []
    if not dry_run:
        documents = write_documents(session, year, decisions, counts, folder=folder, as_of=as_of)
        files = list(documents)
        if head and deputy:
            draft_path.parent.mkdir(parents=True, exist_ok=True)
            draft_path.write_text(
                next_year_plan(plan.document, head=head, deputy=deputy), encoding="utf-8"
            )
            files.append(draft_path)
    attachments = tuple(  # the emails keep these bytes even if a file is redone
        (f.name, filestore.store(settings.files_dir, f.read_bytes())) for f in documents
    )
    results = _results(year, decisions)
    drafts = result_drafts(
        year.state, results, plan.document.get("report_to"), attachments=attachments
    )
    plan.state = "closed"
    session.add(plan)
    session.add(
        AuditEvent(
            at=as_of,
            actor="close-year",
            action="close",
            entity="plan",
            key=str(plan.year),
            plan_id=plan.id,
            details={"head": head, "deputy": deputy, "files": [str(f) for f in files]},
        )
    )
    detail = f"Trưởng khối {plan.year + 1}: {results['head']}; Phó Trưởng khối: {results['deputy']}"
    return Step("closed", detail, drafts, files)


def _results(year: Year, decisions: Decisions) -> dict:
    def seat(s) -> str:
        if s is None or s.unit is None:
            return "chưa xác định (đề nghị Hội đồng Thi đua - Khen thưởng tỉnh xem xét)"
        return year.names[s.unit] + (" (theo thứ tự luân phiên)" if s.outcome == "rotation" else "")

    return {
        "ranking": [
            {"rank": r.rank, "unit": year.names[r.score.unit], "total": points(r.score.total)}
            for r in year.ranking
        ],
        "proposals": [
            {
                "title": rule.title,
                "units": [year.names[u] for u in decisions.awards[rule.code].proposed],
                "referred": [year.names[u] for u in decisions.awards[rule.code].referred],
            }
            if rule.code in decisions.awards
            else {"title": rule.title, "units": [], "referred": []}
            for rule in year.bloc.commendations
        ],
        "head": seat(decisions.head),
        "deputy": seat(decisions.deputy),
        "rotation": decisions.by_rotation,
    }


def plans_to_close(session: Session, *, year: int | None) -> list[YearPlan]:
    query = select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.id)
    if year is not None:
        query = query.where(YearPlan.year == year)
    return list(session.exec(query).all())
