"""The close of the year in the database: final scores and the secretariat's verification,
and the secret ballots of the year-end vote (commendations, next year's head and deputy)."""

from datetime import datetime
from fractions import Fraction

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.scoring import UnitScore, Verified, score_unit
from domain.self_score import Entry, check_self_score
from domain.voting import Tally, tally
from models import queries
from models.scores import SheetView, sheet_view
from models.tables import (
    AuditEvent,
    BallotBox,
    BallotReceipt,
    Candidate,
    Poll,
    Score,
    Unit,
    YearPlan,
)


class YearEndError(ValueError):
    """A verification or a ballot that cannot be accepted; the message says why, in Vietnamese."""


def unit_scores(
    session: Session, *, plan: YearPlan, view: SheetView | None = None
) -> list[UnitScore]:
    """Every member unit's score: self points, verified points and reasons as stored."""
    view = view or sheet_view(session, plan=plan)
    units = queries.plan_units(session=session, plan=plan)
    code_of = {item_id: code for code, item_id in view.ids.items()}
    rows = session.exec(
        select(Score).where(
            Score.item_id.in_(view.ids.values()), Score.unit_id.in_([u.id for u in units])
        )
    ).all()
    own: dict[int, dict] = {u.id: {} for u in units}
    checked: dict[int, dict] = {u.id: {} for u in units}
    reasons: dict[int, dict] = {u.id: {} for u in units}
    for row in rows:
        code = code_of[row.item_id]
        if row.self_points is not None:
            own[row.unit_id][code] = row.self_points
        if row.verified_points is not None:
            checked[row.unit_id][code] = row.verified_points
        if row.reason:
            reasons[row.unit_id][code] = row.reason
    return [score_unit(view.rules, u.code, own[u.id], checked[u.id], reasons[u.id]) for u in units]


def verify_score(
    session: Session,
    *,
    plan: YearPlan,
    unit: Unit,
    code: str,
    value: object,
    reason: str | None,
    actor: str,
    at: datetime,
    view: SheetView | None = None,
    where: str | None = None,
    rows: dict[int, Score] | None = None,
) -> Score:
    """Record the bloc's verified score (thẩm định) of one item: points for a criterion or a
    bonus item, a number of occurrences for a penalty item. A score that differs from the
    unit's own needs a reason, which is shown to the unit and in the documents. Recording the
    same score and reason again changes nothing. `where` names the cell or field in errors;
    `rows`: the unit's scores by item id, when the caller has read them already."""
    if plan.state == "closed":
        raise YearEndError(f"kế hoạch năm {plan.year} đã kết thúc; không sửa điểm được nữa")
    view = view or sheet_view(session, plan=plan)
    item = next((i for i in view.items if i.code == code), None)
    if item is None:
        raise YearEndError(f"mã “{code}” không có trong bảng điểm năm {plan.year}")
    where = where or f"Điểm thẩm định {unit.name}"
    checked, errors = check_self_score([item], {code: Entry(value, where)}, view.sheet.step)
    if errors:
        raise YearEndError(errors[0])
    points = checked["scores"].get(code, checked["occurrences"].get(code, 0) * (item.points or 0))
    if rows is None:
        query = select(Score).where(Score.unit_id == unit.id, Score.item_id == view.ids[code])
        rows = {view.ids[code]: session.exec(query).first()}
    row = rows.get(view.ids[code]) or Score(unit_id=unit.id, item_id=view.ids[code])
    reason = (reason or "").strip() or None
    if points != (row.self_points or 0.0) and reason is None:
        raise YearEndError(
            f"{where} ({unit.name}, {code}): điểm thẩm định khác điểm tự chấm — cần ghi lý do"
        )
    before = row.verified_points
    if (before, row.reason) == (points, reason):
        return row
    row.verified_points, row.reason, row.verified_by, row.updated_at = points, reason, actor, at
    session.add(row)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="verify_score",
            entity="score",
            key=f"{unit.code}:{code}",
            plan_id=plan.id,
            details={"before": before, "after": points, "reason": reason},
        )
    )
    return row


def accept_self_scores(
    session: Session, *, plan: YearPlan, unit: Unit, actor: str, at: datetime
) -> int:
    """Verify every item not yet verified at the unit's own score; returns how many."""
    view = sheet_view(session, plan=plan)
    rows = {r.item_id: r for r in session.exec(select(Score).where(Score.unit_id == unit.id)).all()}
    count = 0
    for item in view.items:
        row = rows.get(view.ids[item.code])
        if row is not None and row.verified_points is not None:
            continue
        own = row.self_points if row is not None and row.self_points is not None else 0.0
        value = own / item.points if item.kind == "penalty" else own
        verify_score(
            session,
            plan=plan,
            unit=unit,
            code=item.code,
            value=value,
            reason=None,
            actor=actor,
            at=at,
            view=view,
            rows=rows,
        )
        count += 1
    return count


def import_verification(
    session: Session, *, plan: YearPlan, lines: list[Verified], actor: str, at: datetime
) -> tuple[int, list[str]]:
    """Record a filled-in verification sheet, all or nothing: the number of scores changed, or
    nothing recorded and every problem found (file, sheet, cell)."""
    view = sheet_view(session, plan=plan)
    units = {u.code: u for u in queries.plan_units(session=session, plan=plan)}
    before = {
        (row.unit_id, row.item_id): (row.verified_points, row.reason)
        for row in session.exec(select(Score).where(Score.item_id.in_(view.ids.values()))).all()
    }
    errors, changed = [], 0
    savepoint = session.begin_nested()
    for line in lines:
        unit = units.get(line.unit)
        if line.formula:
            errors.append(f"{line.where}: có công thức; hãy nhập trực tiếp một con số.")
            continue
        if unit is None:
            errors.append(
                f"{line.where}: đơn vị “{line.unit}” không có trong kế hoạch năm {plan.year}."
            )
            continue
        try:
            row = verify_score(
                session,
                plan=plan,
                unit=unit,
                code=line.code,
                value=line.value,
                reason=line.reason,
                actor=actor,
                at=at,
                view=view,
                where=line.where,
            )
        except YearEndError as error:
            errors.append(str(error))
            continue
        changed += before.get((row.unit_id, row.item_id)) != (row.verified_points, row.reason)
    if errors:
        savepoint.rollback()
        return 0, list(dict.fromkeys(errors))  # a closed plan says so once, not per line
    savepoint.commit()
    return changed, []


# --- Polls and ballots ------------------------------------------------------------------------


def open_poll(
    session: Session,
    *,
    plan: YearPlan,
    code: str,
    kind: str,
    title: str,
    seats: int,
    candidates: list[int],
    closes_at: datetime,
) -> Poll:
    """The poll `code` of the plan, created with its candidates if it does not exist yet."""
    poll = session.exec(select(Poll).where(Poll.plan_id == plan.id, Poll.code == code)).first()
    if poll is not None:
        return poll
    poll = Poll(
        plan_id=plan.id, code=code, kind=kind, title=title, seats=seats, closes_at=closes_at
    )
    session.add(poll)
    session.flush()
    session.add_all(Candidate(poll_id=poll.id, unit_id=unit_id) for unit_id in candidates)
    session.add(BallotBox(poll_id=poll.id))
    return poll


def plan_polls(session: Session, *, plan: YearPlan) -> list[Poll]:
    return list(session.exec(select(Poll).where(Poll.plan_id == plan.id).order_by(Poll.id)).all())


def candidate_ids(session: Session, *, poll: Poll) -> list[int]:
    rows = session.exec(select(Candidate.unit_id).where(Candidate.poll_id == poll.id)).all()
    return sorted(rows)


def voted(session: Session, *, poll: Poll) -> set[int]:
    query = select(BallotReceipt.voter_unit_id).where(BallotReceipt.poll_id == poll.id)
    return set(session.exec(query).all())


def cast_ballot(
    session: Session,
    *,
    poll: Poll,
    voter: Unit,
    members: set[int],
    choices: list[int],
    at: datetime,
) -> None:
    """One secret ballot of `voter`: a receipt that it voted, and its choices added to the
    poll's ballot box, which stays sorted so that it keeps no trace of who voted in what order.
    A second ballot of the same unit, a late ballot or a wrong choice is refused."""
    if voter.id not in members:
        raise YearEndError("đơn vị không phải thành viên của Khối năm nay")
    if poll.state != "open" or (poll.closes_at and at >= poll.closes_at):
        raise YearEndError(f"{poll.title}: đã hết hạn bỏ phiếu")
    if poll.result.get("paper"):
        raise YearEndError(f"{poll.title}: đã bỏ phiếu giấy tại hội nghị")
    allowed = set(candidate_ids(session, poll=poll))
    if len(set(choices)) > poll.seats or not set(choices) <= allowed:
        raise YearEndError(f"{poll.title}: chọn nhiều nhất {poll.seats} trong danh sách ứng viên")
    # Voters of one poll queue here (a row lock on PostgreSQL, the write lock on SQLite), so
    # each rewrites the box as the last one left it.
    box = session.exec(
        select(BallotBox).where(BallotBox.poll_id == poll.id).with_for_update()
    ).one()
    try:
        with session.begin_nested():
            session.add(BallotReceipt(poll_id=poll.id, voter_unit_id=voter.id))
            session.flush()
    except IntegrityError:
        raise YearEndError(f"{poll.title}: đơn vị đã bỏ phiếu; mỗi đơn vị chỉ một phiếu") from None
    box.ballots = sorted([*box.ballots, sorted(set(choices))])
    session.add(box)


def record_paper_tally(
    session: Session,
    *,
    poll: Poll,
    members: int,
    returned: int,
    invalid: int,
    votes: dict[int, int],
    actor: str,
    at: datetime,
) -> None:
    """The count of paper ballots from the meeting (biên bản kiểm phiếu), entered by hand."""
    allowed = set(candidate_ids(session, poll=poll))
    problems = []
    if session.exec(select(BallotReceipt).where(BallotReceipt.poll_id == poll.id)).first():
        problems.append("đã có phiếu bầu qua cổng thông tin; không nhập thêm phiếu giấy")
    if not 0 <= invalid <= returned <= members:
        problems.append(
            f"số phiếu không hợp lệ: thu về {returned}, không hợp lệ {invalid}, {members} thành viên"
        )
    if not set(votes) <= allowed:
        problems.append("có đơn vị không nằm trong danh sách ứng viên")
    valid = returned - invalid
    if any(n < 0 or n > valid for n in votes.values()) or sum(votes.values()) > valid * poll.seats:
        problems.append(f"số phiếu của ứng viên vượt số phiếu hợp lệ ({valid})")
    if poll.state != "open":
        problems.append("cuộc bỏ phiếu đã kết thúc")
    if problems:
        raise YearEndError(f"{poll.title}: " + "; ".join(problems))
    poll.result = {
        **poll.result,
        "paper": {
            "returned": returned,
            "invalid": invalid,
            "votes": {str(k): v for k, v in votes.items()},
        },
    }
    session.add(poll)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="paper_tally",
            entity="poll",
            key=poll.code,
            plan_id=poll.plan_id,
            details=poll.result["paper"],
        )
    )


def poll_tally(
    session: Session, *, poll: Poll, members: int, quorum: Fraction, codes: dict[int, str]
) -> Tally:
    """The count of a poll, candidates by unit code: the portal ballots, or the paper tally."""
    candidates = [codes[u] for u in candidate_ids(session, poll=poll)]
    paper = poll.result.get("paper")
    if paper:
        counts = dict.fromkeys(candidates, 0)
        counts.update({codes[int(k)]: v for k, v in paper["votes"].items()})
        return Tally(members, paper["returned"], paper["invalid"], counts, quorum)
    ballots = session.get(BallotBox, poll.id).ballots
    return tally(
        (frozenset(codes[u] for u in choices) for choices in ballots),
        candidates=candidates,
        members=members,
        seats=poll.seats,
        quorum=quorum,
    )
