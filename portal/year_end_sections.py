"""The close of the year on a unit's page: its ballot while polls are open, and the bloc's
verification of its self score (what changed and why), so the unit can respond in time."""

from datetime import UTC, datetime

from sqlmodel import Session

from documents.text import points
from domain.dates import fmt_instant
from domain.scoring import Line
from models import queries
from models.scores import SheetView
from models.tables import Unit, YearPlan
from models.year_end import candidate_ids, plan_polls, unit_scores, voted


def ballot_sections(session: Session, token: str, unit: Unit, plans: list[YearPlan]) -> list[dict]:
    """Per plan with open polls: the form's polls, each with its candidates and whether the
    unit has voted in it."""
    sections = []
    for plan in plans:
        now = datetime.now(UTC)
        polls = [
            p for p in plan_polls(session, plan=plan) if p.state == "open" and now < p.closes_at
        ]
        if not polls:
            continue
        names = {u.id: u.name for u in queries.plan_units(session=session, plan=plan)}
        listed = [
            {
                "code": p.code,
                "title": p.title,
                "seats": p.seats,
                "candidates": [(i, names[i]) for i in candidate_ids(session, poll=p)],
                "voted": unit.id in voted(session, poll=p),
            }
            for p in polls
        ]
        sections.append(
            {
                "year": plan.year,
                "action": f"/don-vi/{token}/bo-phieu/{plan.year}",
                "closes_at": fmt_instant(min(p.closes_at for p in polls)),
                "polls": listed,
                "done": all(p["voted"] for p in listed),
            }
        )
    return sections


def score_sections(
    session: Session, unit: Unit, plans: list[YearPlan], views: dict[int, SheetView]
) -> list[dict]:
    """Per plan where the bloc has verified any of the unit's items: its score as it stands
    and every item verified differently from its own score, with the reason. `views`: each
    plan's score sheet by year, as the page already loaded it."""
    sections = []
    for plan in plans:
        scores = unit_scores(session, plan=plan, view=views[plan.year])
        score = next((s for s in scores if s.unit == unit.code), None)
        if score is None or all(line.verified_points is None for line in score.lines):
            continue
        head = session.get(Unit, plan.head_unit_id)
        sections.append(
            {
                "year": plan.year,
                "total": points(score.total),
                "self_total": points(score.self_total),
                "done": score.verified,
                "changed": [line_view(line) for line in score.lines if line.changed],
                "head": head.name,
            }
        )
    return sections


def line_view(line: Line) -> dict:
    """An item as the verification shows it: the unit's points, the verified ones (a dash
    before the bloc verified it), the reason."""
    sign = "−" if line.item.kind == "penalty" else ""
    return {
        "code": line.item.code,
        "name": line.item.name,
        "self": sign + points(line.self_points or 0),
        "verified": "—" if line.verified_points is None else sign + points(line.verified_points),
        "reason": line.reason,
    }
