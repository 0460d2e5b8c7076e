"""One unit cannot break the year-end for everyone: every number typed is read in one place
within a sane range, and values already stored out of range are held, never raise."""

import logging
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from documents.text import points
from domain.registration import INDIVIDUAL_TITLES, check_registration
from domain.scoring import rank
from domain.self_score import Entry, SheetItem, check_self_score
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import sheet_view
from models.tables import Score, ScoreItem, Unit, YearPlan
from models.year_end import YearEndError, unit_scores, verify_score
from tests.conftest import EXAMPLE_PLAN
from tests.test_year_end_cli import loaded, open_head_poll  # noqa: F401 (a fixture)

CRITERION = SheetItem("I.1", "Nhiệm vụ", "criterion", 30, None)
BONUS = SheetItem("T.1", "Mô hình mới", "bonus", 4, None)
PENALTY = SheetItem("P.1", "Báo cáo muộn", "penalty", None, 1)
LONGEST_ERROR = 160


@pytest.mark.parametrize(
    ("item", "raw", "message"),
    [
        pytest.param(PENALTY, "1e50", "vượt mức tối đa 100 lần của bảng điểm (đang là 1e+50)", id="penalty-1e50"),
        pytest.param(PENALTY, 10**26, "vượt mức tối đa 100 lần của bảng điểm (đang là 1e+26)", id="penalty-27-digit-int"),
        pytest.param(PENALTY, "1" * 27, "vượt mức tối đa 100 lần", id="penalty-27-digit-text"),
        pytest.param(PENALTY, "101", "vượt mức tối đa 100 lần", id="penalty-over-the-plan-maximum"),
        pytest.param(PENALTY, "1e1000000", "(đang là 1e+1000000)", id="penalty-1e1000000"),
        pytest.param(PENALTY, "1e-1000000", "số lần phải là số nguyên không âm (đang là 1e-1000000)", id="penalty-1e-1000000"),
        pytest.param(PENALTY, float("inf"), "“inf” không phải là số", id="penalty-float-inf"),
        pytest.param(PENALTY, float("nan"), "“nan” không phải là số", id="penalty-float-nan"),
        pytest.param(PENALTY, 10**5000, "số quá lớn", id="penalty-int-beyond-str-limit"),
        pytest.param(PENALTY, "١٢", "“١٢” không phải là số", id="penalty-arabic-digits"),
        pytest.param(CRITERION, "1e1000000", "1e+1000000 điểm vượt điểm tối đa 30", id="criterion-1e1000000"),
        pytest.param(CRITERION, "-1e1000000", "điểm không được âm (đang là -1e+1000000)", id="criterion-minus-1e1000000"),
        pytest.param(CRITERION, "1e-1000000", "bước 0,5 (đang là 1e-1000000)", id="criterion-1e-1000000"),
        pytest.param(CRITERION, "9" * 1_000_000, "không phải là số (quá dài)", id="criterion-huge-text"),
    ],
)  # fmt: skip
def test_a_hostile_number_is_refused_with_a_short_vietnamese_error(item, raw, message):
    data, errors = check_self_score([item], {item.code: Entry(raw, "Ô D7")}, 0.5)
    assert data == {"scores": {}, "occurrences": {}}
    (error,) = errors
    assert error.startswith("Ô D7 (") and message in error and len(error) < LONGEST_ERROR, error


@pytest.mark.parametrize("raw", ["-0", "-0,0", -0.0], ids=["text", "comma", "float"])
def test_minus_zero_is_zero_not_negative_zero(raw):
    entries = {"I.1": Entry(raw, "Ô D7"), "P.1": Entry(raw, "Ô D9")}
    data, errors = check_self_score([CRITERION, PENALTY], entries, 0.5)
    assert errors == [] and data["occurrences"] == {"P.1": 0}
    assert math.copysign(1, data["scores"]["I.1"]) == 1  # 0.0, not -0.0


def test_an_unknown_code_from_a_workbook_is_quoted_short():
    _, errors = check_self_score([], {"X" * 100_000: Entry(1, "Ô A7")}, 0.5)
    assert errors == ["Ô A7: mã “XXXXXXXXXXXXXXXXXXX…” không có trong bảng điểm năm nay."]


@pytest.mark.parametrize("raw", ["²", "9" * 5000], ids=["superscript", "huge"])
def test_a_registration_count_that_is_not_a_plain_number_is_refused(raw):
    title = INDIVIDUAL_TITLES[0]
    _, errors = check_registration("Tập thể Lao động tiên tiến", {title: raw})
    assert errors == [
        f"Số cá nhân đăng ký “{title}”: phải là số nguyên từ 0 (đang là “{raw[:20]}”)."
    ]


# --- Fuzz: any cell value -------------------------------------------------------------------

CELLS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text()
    | st.dates()
    | st.datetimes()
    | st.from_regex(r"\s*[-+]?\d{0,30}([.,]\d{0,30})?([eE][-+]?\d{1,9})?\s*", fullmatch=True)
    | st.sampled_from(["nan", "-inf", "Infinity", "sNaN", "-0", "1_0", "²", "1e1000000"])
)
ITEMS = [CRITERION, BONUS, PENALTY, SheetItem("P.2", "Vắng họp", "penalty", None, 2, 5)]


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(values=st.fixed_dictionaries({item.code: CELLS for item in ITEMS}))
def test_fuzz_any_cell_value_is_refused_or_accepted_within_range(values):
    entries = {code: Entry(raw, f"Ô {code}") for code, raw in values.items()}
    data, errors = check_self_score(ITEMS, entries, 0.5)
    for item in ITEMS[:2]:
        if item.code in data["scores"]:
            accepted = data["scores"][item.code]
            assert 0 <= accepted <= item.max_points and (accepted / 0.5).is_integer()
            assert math.copysign(1, accepted) == 1
    for item in ITEMS[2:]:
        count = data["occurrences"].get(item.code, 0)
        assert type(count) is int and 0 <= count <= item.max_occurrences
    assert all(len(error) < LONGEST_ERROR for error in errors), errors


# --- The plan's maximum of occurrences, and values stored out of range (both backends) --------


def test_the_plan_sets_the_most_occurrences_a_penalty_item_takes(db, write_plan):
    text = EXAMPLE_PLAN.read_text(encoding="utf-8")
    path = write_plan(text.replace("  total: 100\n", "  total: 100\n  max_occurrences: 5\n"))
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(path), actor="test")
        plan = session.exec(select(YearPlan)).one()
        unit = session.exec(select(Unit).where(Unit.code == "syt")).one()
        at = datetime.now(UTC)
        with pytest.raises(YearEndError, match="vượt mức tối đa 5 lần"):
            verify_score(
                session, plan=plan, unit=unit, code="P.1", value="6", reason="x", actor="t", at=at
            )
        row = verify_score(
            session, plan=plan, unit=unit, code="P.1", value="5", reason="x", actor="t", at=at
        )
        assert row.verified_points == 5


def _store_out_of_range(db) -> None:
    """What a unit could store before the range checks: 1e50 occurrences of P.1 (self score),
    a verified 1e300 on I.1, an infinite bonus and, where the database keeps it, a NaN."""
    with session_scope(db.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == "syt")).one()
        ids = {i.code: i.id for i in session.exec(select(ScoreItem)).all()}
        nan = float("nan") if db.url.startswith("postgresql") else None  # SQLite stores NULL
        for code, own, checked in [
            ("P.1", 1e50, None),
            ("I.1", 27.0, 1e300),
            ("T.1", float("inf"), None),
            ("I.2", nan, -1e300),
        ]:
            session.add(
                Score(unit_id=unit.id, item_id=ids[code], self_points=own, verified_points=checked)
            )


def test_values_stored_out_of_range_are_held_and_the_year_end_still_works(portal, admin_portal, db):
    from flows.scores import scores_run

    _store_out_of_range(db)
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        scores = {s.unit: s for s in unit_scores(session, plan=plan)}
        maximum = sheet_view(session, plan=plan).rules.maximum
    syt = scores["syt"]
    lines = {line.item.code: line for line in syt.lines}
    assert (lines["P.1"].final, lines["I.1"].final, lines["T.1"].final, lines["I.2"].final) == (
        100.0, 30.0, 4.0, 0.0,
    )  # fmt: skip
    assert "điểm tự chấm đã lưu (1e+50) ngoài khoảng 0–100 của mục, tính là 100" in (
        lines["P.1"].reason
    )
    assert "ngoài khoảng" in lines["I.2"].reason
    assert all(math.isfinite(s.total) and s.total <= maximum for s in scores.values())
    assert [r.score.unit for r in rank(list(scores.values()))][-1] == "syt"
    for line in syt.lines:
        for value in (line.self_points, line.verified_points, line.final):
            assert value is None or len(points(value)) < 10

    page = admin_portal.get("/quan-tri")
    assert page.status_code == 200 and "Sở Y tế" in page.text
    shown = db.cli("score", "show")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr[-2000:]
    assert "Sở Y tế" in shown.stdout.splitlines()[-1]
    rows = scores_run(
        engine=db.engine,
        settings=portal.settings,
        instant=datetime.now(UTC),
        log=logging.getLogger("test"),
        dry_run=True,
    )
    assert {row["Đơn vị"]: row["Điểm trừ"] for row in rows}["Sở Y tế"] == "100"


def test_a_paper_tally_with_a_superscript_count_is_refused_in_one_line(loaded):  # noqa: F811
    open_head_poll(loaded.engine)
    result = loaded.cli("vote", "record", "truong-khoi", "--returned", "9", "--votes", "svhttdl=²")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Lỗi: --votes svhttdl=²: viết MÃ_ĐƠN_VỊ=SỐ_PHIẾU, ví dụ syt=7"
