"""The secretariat's commands: verifying scores with reasons, and paper ballots."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlmodel import Session, SQLModel, select

from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import save_self_scores, sheet_view
from models.tables import Poll, Unit, YearPlan
from models.year_end import YearEndError, cast_ballot, open_poll, poll_tally
from tests.conftest import EXAMPLE_PLAN


@pytest.fixture
def loaded(db):
    """The example plan with Sở Y tế's self score: I.1 = 27, every other criterion full."""
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        plan = session.exec(select(YearPlan)).one()
        view = sheet_view(session, plan=plan)
        syt = session.exec(select(Unit).where(Unit.code == "syt")).one()
        scores = {i.code: i.max_points for i in view.items if i.kind == "criterion"} | {"I.1": 27}
        data = {"scores": scores, "occurrences": {"P.1": 2}}
        save_self_scores(session, view=view, unit_id=syt.id, data=data, at=datetime.now(UTC))
    return db


def stored(engine) -> dict[str, list]:
    """Every row of every table, read directly: a refusal must leave all of it as it was."""
    with engine.connect() as connection:
        return {
            table.name: sorted(connection.execute(table.select()).all(), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def test_a_verified_score_below_the_claim_needs_a_reason_shown_line_by_line(loaded):
    before = stored(loaded.engine)
    refused = loaded.cli("score", "verify", "syt", "I.1", "25")
    assert refused.returncode == 1 and "cần ghi lý do" in refused.stderr
    assert stored(loaded.engine) == before
    reason = "Chỉ tiêu tiêm chủng đạt 92%, dưới kế hoạch"
    loaded.cli("score", "verify", "syt", "I.1", "25", "--reason", reason, check=True)
    loaded.cli("score", "accept", "syt", check=True)
    shown = loaded.cli("score", "show", "--unit", "syt", check=True).stdout
    assert "Sở Y tế: 93 điểm (tự chấm 95)" in shown
    assert f"I.1    tự chấm    27  thẩm định    25  → 25  Lý do: {reason}" in shown
    assert "P.1    tự chấm     2  thẩm định     2  → 2" in shown
    ranking = loaded.cli("score", "show", check=True).stdout.splitlines()
    assert ranking[0].startswith(" 1. Sở Y tế") and "chưa thẩm định" in ranking[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["I.1", "35"], "vượt điểm tối đa 30"),
        (["I.1", "24,3", "--reason", "x"], "bước 0,5"),
        (["X.9", "1"], "mã “X.9” không có trong bảng điểm năm 2020"),
        (["P.1", "1,5", "--reason", "x"], "số lần phải là số nguyên"),
    ],
    ids=["above-maximum", "off-step", "unknown-code", "fractional-occurrences"],
)
def test_a_wrong_verified_score_is_refused_with_the_reason_and_nothing_is_stored(
    loaded, args, message
):
    before = stored(loaded.engine)
    result = loaded.cli("score", "verify", "syt", *args)
    assert result.returncode == 1 and message in result.stderr
    assert stored(loaded.engine) == before


def open_head_poll(engine) -> None:
    with session_scope(engine) as session:
        plan = session.exec(select(YearPlan)).one()
        deputy = session.exec(select(Unit).where(Unit.code == "svhttdl")).one()
        open_poll(
            session,
            plan=plan,
            code="truong-khoi",
            kind="election",
            title="Bầu Trưởng khối năm 2021",
            seats=1,
            candidates=[deputy.id],
            closes_at=datetime.now(UTC) + timedelta(days=3),
        )


def test_a_paper_tally_is_recorded_counted_and_then_closes_the_portal_ballot(loaded):
    open_head_poll(loaded.engine)
    args = ("vote", "record", "truong-khoi", "--returned", "9", "--invalid", "1")
    loaded.cli(*args, "--votes", "svhttdl=7", check=True)
    status = loaded.cli("vote", "status", check=True).stdout
    assert "truong-khoi" in status and "9/9 phiếu" in status
    with session_scope(loaded.engine) as session:
        poll = session.exec(select(Poll)).one()
        codes = {u.id: u.code for u in session.exec(select(Unit)).all()}
        result = poll_tally(session, poll=poll, members=9, quorum=Fraction(2, 3), codes=codes)
        assert (result.returned, result.valid, result.counts) == (9, 8, {"svhttdl": 7})
        voter = session.exec(select(Unit).where(Unit.code == "syt")).one()
        with pytest.raises(YearEndError, match="phiếu giấy"):
            cast_ballot(
                session,
                poll=poll,
                voter=voter,
                members=set(codes),
                choices=[],
                at=datetime.now(UTC),
            )


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        (["svhttdl=10"], "vượt số phiếu hợp lệ"),
        (["syt=3"], "không nằm trong danh sách ứng viên"),
        (["svhttdl=bảy"], "MÃ_ĐƠN_VỊ=SỐ_PHIẾU"),
    ],
    ids=["more-votes-than-ballots", "not-a-candidate", "not-a-number"],
)
def test_a_wrong_paper_tally_is_refused_and_nothing_is_stored(loaded, votes, message):
    open_head_poll(loaded.engine)
    before = stored(loaded.engine)
    extra = [arg for vote in votes for arg in ("--votes", vote)]
    result = loaded.cli("vote", "record", "truong-khoi", "--returned", "9", *extra)
    assert result.returncode == 1 and message in result.stderr
    with Session(loaded.engine) as session:
        assert "paper" not in session.exec(select(Poll)).one().result
    assert stored(loaded.engine) == before
