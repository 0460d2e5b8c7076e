"""The year's score sheet as the self-score needs it, and the self scores a unit handed in."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from domain.scoring import Sheet, score_unit
from domain.self_score import MAX_OCCURRENCES, SheetItem
from models.tables import Score, ScoreGroup, ScoreItem, ScoreSheet, YearPlan


@dataclass(frozen=True)
class SheetView:
    sheet: ScoreSheet
    groups: list[tuple[str, str, float, list[SheetItem]]]
    bonus: list[SheetItem]
    penalties: list[SheetItem]
    ids: dict[str, int]  # item code -> ScoreItem id

    @property
    def items(self) -> list[SheetItem]:
        return self.rules.items

    @property
    def rules(self) -> Sheet:
        return Sheet(self.groups, self.bonus, self.penalties, self.sheet.bonus_cap)


def sheet_view(session: Session, *, plan: YearPlan) -> SheetView:
    sheet = session.exec(select(ScoreSheet).where(ScoreSheet.plan_id == plan.id)).one()
    groups = session.exec(
        select(ScoreGroup).where(ScoreGroup.sheet_id == sheet.id).order_by(ScoreGroup.position)
    ).all()
    rows = session.exec(
        select(ScoreItem).where(ScoreItem.sheet_id == sheet.id).order_by(ScoreItem.position)
    ).all()

    most = plan.document.get("score_sheet", {}).get("max_occurrences", MAX_OCCURRENCES)

    def item(row: ScoreItem) -> SheetItem:
        return SheetItem(row.code, row.name, row.kind, row.max_points, row.points, most)

    return SheetView(
        sheet=sheet,
        groups=[
            (g.code, g.name, g.max_points, [item(r) for r in rows if r.group_id == g.id])
            for g in groups
        ],
        bonus=[item(r) for r in rows if r.kind == "bonus"],
        penalties=[item(r) for r in rows if r.kind == "penalty"],
        ids={r.code: r.id for r in rows},
    )


def save_self_scores(
    session: Session, *, view: SheetView, unit_id: int, data: dict, at: datetime
) -> None:
    """The unit's latest accepted self-score replaces its earlier one, item by item."""
    points = {**data["scores"]}
    for item in view.penalties:
        points[item.code] = data["occurrences"].get(item.code, 0) * item.points
    existing = {
        s.item_id: s
        for s in session.exec(
            select(Score).where(Score.unit_id == unit_id, Score.item_id.in_(view.ids.values()))
        ).all()
    }
    for code, item_id in view.ids.items():
        row = existing.get(item_id) or Score(unit_id=unit_id, item_id=item_id)
        row.self_points = points.get(code, 0.0)
        row.updated_at = at
        session.add(row)


def self_total(data: dict, view: SheetView) -> float:
    """The total of the self score a version carries, by the sheet's rules (caps, penalties)."""
    entered = {**data.get("scores", {})}
    for item in view.penalties:
        entered[item.code] = data.get("occurrences", {}).get(item.code, 0) * item.points
    return score_unit(view.rules, "", entered, {}).self_total
