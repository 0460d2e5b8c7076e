"""The year-end ballot on a unit's page, over real HTTP: one secret ballot per unit."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from models.db import session_scope
from models.tables import Ballot, BallotReceipt, Poll, Unit, YearPlan
from models.year_end import open_poll

CLOSES = datetime.now(UTC) + timedelta(days=5)


def open_ballot(engine) -> dict[str, int]:
    with session_scope(engine) as session:
        plan = session.exec(select(YearPlan)).one()
        ids = {u.code: u.id for u in session.exec(select(Unit)).all()}
        common = {"session": session, "plan": plan, "closes_at": CLOSES, "kind": "election"}
        open_poll(
            **common,
            code="truong-khoi",
            title="Bầu Trưởng khối năm 2021",
            seats=1,
            candidates=[ids["svhttdl"]],
        )
        open_poll(
            **common,
            code="bang-khen",
            title="Bình xét đề nghị tặng Bằng khen",
            seats=2,
            candidates=[ids["syt"], ids["bdt"], ids["baobg"]],
        )
    return ids


def test_the_unit_page_shows_the_ballot_and_records_one_secret_ballot(portal, db):
    ids = open_ballot(db.engine)
    page = portal.get(portal.paths["syt"])
    assert 'id="bo-phieu"' in page.text and "Bầu Trưởng khối năm 2021" in page.text
    assert 'type="checkbox" name="poll_bang-khen"' in page.text
    form = {"poll_truong-khoi": str(ids["svhttdl"]), "poll_bang-khen": [str(ids["bdt"])]}
    voted = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=form)
    assert voted.status_code == 200 and "Đã ghi nhận phiếu bầu năm 2020" in voted.text
    assert "Đã bỏ phiếu" in voted.text and 'name="poll_' not in voted.text
    again = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=form)
    assert again.status_code == 422 and "Đơn vị đã bỏ phiếu năm 2020" in again.text
    with Session(db.engine) as session:
        assert len(session.exec(select(BallotReceipt)).all()) == 2
        ballots = sorted(b.choices for b in session.exec(select(Ballot)).all())
        assert ballots == sorted([[ids["svhttdl"]], [ids["bdt"]]])


def test_too_many_choices_are_refused_and_nothing_is_recorded(portal, db):
    ids = open_ballot(db.engine)
    form = {"poll_bang-khen": [str(ids["syt"]), str(ids["bdt"]), str(ids["baobg"])]}
    response = portal.post(portal.paths["bdt"] + "/bo-phieu/2020", data=form)
    assert response.status_code == 422 and "chọn nhiều nhất 2" in response.text
    with Session(db.engine) as session:
        assert session.exec(select(BallotReceipt)).all() == []
        assert session.exec(select(Ballot)).all() == []


def test_a_closed_ballot_and_a_wrong_token_are_refused(portal, db):
    open_ballot(db.engine)
    with session_scope(db.engine) as session:
        for poll in session.exec(select(Poll)).all():
            poll.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    late = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data={})
    assert late.status_code == 422 and "đã hết hạn bỏ phiếu" in late.text
    assert portal.post("/don-vi/khong-dung/bo-phieu/2020", data={}).status_code == 404
