"""Scores and the ranking: a unit's final score from its self score and the bloc's verified
score, item by item, and the order of the bloc. Pure: no database, no clock.

Rules (docs/scoring.md):
- an item's final points are the verified points when the bloc verified it, else the self
  points (provisional), else 0; every stored value is held within the item's range: [0, its
  maximum], or [0, points × most occurrences] for a penalty item (a value that is not a
  number counts as not entered), and the line's reason says so;
- a group counts at most its maximum, the bonus at most the sheet's cap, penalties uncapped;
- total = groups + bonus - penalties;
- ranking: higher total first, then fewer penalty points; units equal on both share a rank
  ("đồng hạng", ranks 1, 2, 2, 4), listed by unit code, and a vote or the provincial board
  decides between them where it matters.
"""

from dataclasses import dataclass

from domain.self_score import SheetItem


@dataclass(frozen=True)
class Sheet:
    """The score sheet: groups of criteria, bonus items (capped together) and penalty items."""

    groups: list[tuple[str, str, float, list[SheetItem]]]  # (code, name, max, criteria)
    bonus: list[SheetItem]
    penalties: list[SheetItem]
    bonus_cap: float

    @property
    def items(self) -> list[SheetItem]:
        return [i for *_, items in self.groups for i in items] + self.bonus + self.penalties

    @property
    def maximum(self) -> float:
        return sum(g[2] for g in self.groups) + self.bonus_cap


@dataclass(frozen=True)
class Line:
    """One item of a unit's sheet: what it claimed, what the bloc verified, what counts."""

    item: SheetItem
    self_points: float | None
    verified_points: float | None
    final: float
    reason: str | None

    @property
    def changed(self) -> bool:
        return self.verified_points is not None and self.verified_points != self.self_points


@dataclass(frozen=True)
class UnitScore:
    unit: str  # unit code
    lines: list[Line]
    groups: dict[str, float]  # group code -> points counted (after the group's cap)
    bonus: float  # after the cap
    penalty: float  # points off, >= 0
    self_total: float  # the same rules applied to the self scores alone
    total: float
    verified: bool  # every item has a verified score


@dataclass(frozen=True)
class Verified:
    """A verified value as the secretariat typed it (points; occurrences for a penalty item),
    with where it was typed ("phieu.xlsx, trang STTTT, ô E12") for the error messages."""

    unit: str  # unit code
    code: str  # item code
    value: object
    where: str
    reason: str | None
    formula: bool = False  # the cell holds a formula, not a number typed in


@dataclass(frozen=True)
class Ranked:
    rank: int
    score: UnitScore
    tied_with: tuple[str, ...] = ()  # units sharing this rank
    split_by_penalty: tuple[str, ...] = ()  # units with the same total, placed by penalties


def _held(value: float | None, item: SheetItem, what: str) -> tuple[float | None, str | None]:
    """A stored value within the item's range, and a note when it had to be changed: values
    written before the checks of `domain.self_score`, or by hand, must not break the year-end."""
    if value is None:
        return None, None
    if value != value:  # NaN
        return None, f"{what} đã lưu không phải là số, không tính"
    upper = item.points * item.max_occurrences if item.kind == "penalty" else item.max_points
    held = min(max(value, 0.0), upper)
    if held == value:
        return value, None
    return held, (
        f"{what} đã lưu ({_shown(value)}) ngoài khoảng 0–{_shown(upper)} của mục, "
        f"tính là {_shown(held)}"
    )


def _shown(value: float) -> str:
    if abs(value) == float("inf"):
        return "vô hạn" if value > 0 else "âm vô hạn"
    return f"{value:.6g}".replace(".", ",")


def _sum(sheet: Sheet, points: dict[str, float]) -> tuple[dict[str, float], float, float]:
    groups = {
        code: min(sum(points[i.code] for i in items), maximum)
        for code, _, maximum, items in sheet.groups
    }
    bonus = min(sum(points[i.code] for i in sheet.bonus), sheet.bonus_cap)
    penalty = sum(points[i.code] for i in sheet.penalties)
    return groups, bonus, penalty


def score_unit(
    sheet: Sheet,
    unit: str,
    self_points: dict[str, float],
    verified_points: dict[str, float],
    reasons: dict[str, str] | None = None,
) -> UnitScore:
    """A unit's score. Points are per item code; penalty items hold points off (not counts).
    Never raises on stored values: each is held within its item's range (see `_held`)."""
    reasons = reasons or {}
    lines = []
    for item in sheet.items:
        own, own_note = _held(self_points.get(item.code), item, "điểm tự chấm")
        checked, checked_note = _held(verified_points.get(item.code), item, "điểm thẩm định")
        chosen = checked if checked is not None else own if own is not None else 0.0
        notes = [n for n in (reasons.get(item.code), own_note, checked_note) if n]
        lines.append(Line(item, own, checked, chosen, "; ".join(notes) or None))
    groups, bonus, penalty = _sum(sheet, {line.item.code: line.final for line in lines})
    own_groups, own_bonus, own_penalty = _sum(
        sheet, {line.item.code: line.self_points or 0.0 for line in lines}
    )
    return UnitScore(
        unit=unit,
        lines=lines,
        groups=groups,
        bonus=bonus,
        penalty=penalty,
        self_total=sum(own_groups.values()) + own_bonus - own_penalty,
        total=sum(groups.values()) + bonus - penalty,
        verified=all(line.verified_points is not None for line in lines),
    )


def rank(scores: list[UnitScore]) -> list[Ranked]:
    """The bloc's order: total, then fewer penalties; equal on both share the rank."""
    ordered = sorted(scores, key=lambda s: (-s.total, s.penalty, s.unit))
    ranked: list[Ranked] = []
    for score in ordered:
        tied = tuple(s.unit for s in ordered if _key(s) == _key(score))
        same_total = tuple(s.unit for s in ordered if s.total == score.total)
        ranked.append(
            Ranked(
                rank=1 + sum(_key(s) > _key(score) for s in ordered),
                score=score,
                tied_with=tied if len(tied) > 1 else (),
                split_by_penalty=same_total if len(same_total) > len(tied) else (),
            )
        )
    return ranked


def _key(score: UnitScore) -> tuple[float, float]:
    """Larger is better: more points, then fewer points off."""
    return (score.total, -score.penalty)
