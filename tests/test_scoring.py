"""Scores and the ranking: caps, verified over self, line-by-line reasons, ties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.scoring import Sheet, UnitScore, rank, score_unit
from domain.self_score import SheetItem
from models.plan_file import read_plan
from tests.conftest import EXAMPLE_PLAN


def criterion(code: str, maximum: float) -> SheetItem:
    return SheetItem(code, f"Tiêu chí {code}", "criterion", maximum, None)


SMALL = Sheet(
    groups=[
        ("I", "Nhiệm vụ chuyên môn", 60, [criterion("I.1", 40), criterion("I.2", 30)]),
        ("II", "Công tác thi đua", 40, [criterion("II.1", 20), criterion("II.2", 20)]),
    ],
    bonus=[
        SheetItem("T.1", "Mô hình mới", "bonus", 6, None),
        SheetItem("T.2", "", "bonus", 6, None),
    ],
    penalties=[SheetItem("P.1", "Nộp muộn", "penalty", None, 1)],
    bonus_cap=10,
)


def example_sheet() -> Sheet:
    doc = read_plan(EXAMPLE_PLAN).document.score_sheet
    return Sheet(
        groups=[
            (g.code, g.name, g.max, [criterion(c.code, c.max) for c in g.criteria])
            for g in doc.groups
        ],
        bonus=[SheetItem(b.code, b.name, "bonus", b.max, None) for b in doc.bonus],
        penalties=[SheetItem(p.code, p.name, "penalty", None, p.points) for p in doc.penalties],
        bonus_cap=doc.bonus_cap,
    )


def test_the_verified_score_counts_and_the_reason_is_kept_per_line():
    own = {"I.1": 35, "I.2": 25, "II.1": 20, "II.2": 18, "T.1": 4}
    result = score_unit(SMALL, "a", own, {"I.1": 30}, {"I.1": "Chỉ tiêu 3 chưa đạt"})
    line = next(x for x in result.lines if x.item.code == "I.1")
    assert (line.self_points, line.verified_points, line.final) == (35, 30, 30)
    assert line.changed and line.reason == "Chỉ tiêu 3 chưa đạt"
    assert result.self_total == 102 and result.total == 97
    assert result.groups == {"I": 55, "II": 38} and not result.verified


def test_a_verified_score_lower_than_claimed_is_never_replaced_by_the_claim():
    result = score_unit(SMALL, "a", {"I.1": 40}, {"I.1": 10})
    assert result.total == 10


def test_groups_are_capped_at_their_maximum_and_the_bonus_at_the_sheet_cap():
    sheet = Sheet([("I", "", 50, [criterion("a", 30), criterion("b", 30)])], SMALL.bonus, [], 10)
    result = score_unit(sheet, "u", {"a": 30, "b": 30, "T.1": 6, "T.2": 6}, {})
    assert result.groups == {"I": 50} and result.bonus == 10 and result.total == 60


def test_penalties_are_uncapped_and_can_take_a_total_below_zero():
    result = score_unit(SMALL, "u", {"I.1": 2}, {"P.1": 7})
    assert result.penalty == 7 and result.total == -5


def test_points_out_of_range_are_held_within_the_item():
    result = score_unit(SMALL, "u", {"I.1": 55, "I.2": -3}, {})
    assert [line.final for line in result.lines[:2]] == [40, 0]


def test_an_item_nobody_scored_counts_zero_and_every_line_verified_marks_the_unit_verified():
    codes = [item.code for item in SMALL.items]
    assert score_unit(SMALL, "u", {}, {}).total == 0
    assert score_unit(SMALL, "u", {}, dict.fromkeys(codes, 0.0)).verified


def scored(unit: str, total: float, penalty: float = 0) -> UnitScore:
    return UnitScore(unit, [], {}, 0, penalty, total, total, True)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        pytest.param(
            [scored("a", 90), scored("b", 95), scored("c", 80)],
            [("b", 1), ("a", 2), ("c", 3)],
            id="by-total",
        ),
        pytest.param(
            [scored("a", 90, penalty=2), scored("b", 90, penalty=1), scored("c", 99)],
            [("c", 1), ("b", 2), ("a", 3)],
            id="equal-totals-fewer-penalties-first",
        ),
        pytest.param(
            [scored("b", 90, 1), scored("a", 90, 1), scored("c", 80), scored("d", 95)],
            [("d", 1), ("a", 2), ("b", 2), ("c", 4)],
            id="equal-on-both-share-the-rank",
        ),
    ],
)
def test_ranking_orders_by_total_then_penalties(scores, expected):
    assert [(r.score.unit, r.rank) for r in rank(scores)] == expected


def test_a_shared_rank_names_the_units_sharing_it_and_a_penalty_split_is_recorded():
    ranking = rank([scored("a", 90, 1), scored("b", 90, 1), scored("c", 90, 3)])
    assert ranking[0].tied_with == ("a", "b")
    assert ranking[2].tied_with == () and ranking[2].split_by_penalty == ("a", "b", "c")


# --- Properties --------------------------------------------------------------------------------

SHEET = example_sheet()
STEP = 0.5


def points_for(item: SheetItem):
    if item.kind == "penalty":
        return st.integers(0, 6).map(lambda n: n * item.points)
    # Beyond the maximum and below zero too: a bad import must still not break the caps.
    return st.integers(-4, int(item.max_points / STEP) + 6).map(lambda n: n * STEP)


def partial_points():
    return st.fixed_dictionaries({}, optional={item.code: points_for(item) for item in SHEET.items})


@given(own=partial_points(), verified=partial_points())
def test_no_total_exceeds_the_sheet_and_no_group_its_maximum(own, verified):
    result = score_unit(SHEET, "u", own, verified)
    assert result.total <= SHEET.maximum and result.self_total <= SHEET.maximum
    for code, _, maximum, _ in SHEET.groups:
        assert 0 <= result.groups[code] <= maximum
    assert 0 <= result.bonus <= SHEET.bonus_cap
    assert result.total == pytest.approx(
        sum(result.groups.values()) + result.bonus - result.penalty
    )


@given(own=partial_points(), verified=partial_points())
def test_lowering_a_verified_criterion_never_raises_the_total(own, verified):
    result = score_unit(SHEET, "u", own, verified)
    lowered = {**verified, "I.1": 0.0}
    assert score_unit(SHEET, "u", own, lowered).total <= result.total


units = st.lists(
    st.tuples(st.integers(0, 220).map(lambda n: n / 2), st.integers(0, 4)),
    min_size=1,
    max_size=15,
)


@given(units)
def test_ranking_is_a_total_order_consistent_with_totals_and_penalties(rows):
    scores = [scored(f"u{i:02}", total, penalty) for i, (total, penalty) in enumerate(rows)]
    ranking = rank(scores)
    assert sorted(r.score.unit for r in ranking) == sorted(s.unit for s in scores)
    for upper, lower in zip(ranking, ranking[1:], strict=False):
        a, b = upper.score, lower.score
        assert (a.total, -a.penalty) >= (b.total, -b.penalty)
        assert upper.rank <= lower.rank
        assert (upper.rank == lower.rank) == ((a.total, a.penalty) == (b.total, b.penalty))
    for position, r in enumerate(ranking, start=1):
        assert r.rank == 1 + sum(
            (s.total, -s.penalty) > (r.score.total, -r.score.penalty) for s in scores
        )
        assert r.rank <= position
