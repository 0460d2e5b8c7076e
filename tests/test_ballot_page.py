"""The year-end ballot on a unit's page, over real HTTP: one secret ballot per unit."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models.db import session_scope
from models.tables import BallotBox, BallotReceipt, Poll, Unit, YearPlan
from models.year_end import open_poll

CLOSES = datetime.now(UTC) + timedelta(days=5)
SHOWN = {"phieu": ["truong-khoi", "bang-khen"], "gui": "phieu-bau"}  # what the page's form adds


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
    assert (
        'name="phieu" value="truong-khoi"' in page.text
        and 'name="gui" value="phieu-bau"' in page.text
    )
    form = {**SHOWN, "poll_truong-khoi": str(ids["svhttdl"]), "poll_bang-khen": [str(ids["bdt"])]}
    voted = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=form)
    assert voted.status_code == 200 and "Đã ghi nhận phiếu bầu năm 2020" in voted.text
    assert "Đã bỏ phiếu" in voted.text and 'name="poll_' not in voted.text
    again = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=form)
    assert again.status_code == 422 and "Đơn vị đã bỏ phiếu năm 2020" in again.text
    with Session(db.engine) as session:
        assert len(session.exec(select(BallotReceipt)).all()) == 2
        ballots = [box.ballots for box in session.exec(select(BallotBox)).all()]
        assert sorted(ballots) == sorted([[[ids["svhttdl"]]], [[ids["bdt"]]]])


def assert_nothing_stored(session) -> None:
    assert session.exec(select(BallotReceipt)).all() == []
    assert all(box.ballots == [] for box in session.exec(select(BallotBox)).all())


def test_too_many_choices_are_refused_and_nothing_is_recorded(portal, db):
    ids = open_ballot(db.engine)
    form = {**SHOWN, "poll_bang-khen": [str(ids["syt"]), str(ids["bdt"]), str(ids["baobg"])]}
    response = portal.post(portal.paths["bdt"] + "/bo-phieu/2020", data=form)
    assert response.status_code == 422 and "chọn nhiều nhất 2" in response.text
    with Session(db.engine) as session:
        assert_nothing_stored(session)


def test_a_closed_ballot_and_a_wrong_token_are_refused(portal, db):
    open_ballot(db.engine)
    with session_scope(db.engine) as session:
        for poll in session.exec(select(Poll)).all():
            poll.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    late = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=SHOWN)
    assert late.status_code == 422 and "đã hết hạn bỏ phiếu" in late.text
    assert portal.post("/don-vi/khong-dung/bo-phieu/2020", data=SHOWN).status_code == 404


NOT_THE_FORM = {
    "empty body": {"content": b""},
    "empty form": {"data": {}},
    "json": {"json": {"poll_truong-khoi": 1, "gui": "phieu-bau"}},
    "plain text": {
        "content": b"gui=phieu-bau&phieu=truong-khoi&phieu=bang-khen",
        "headers": {"content-type": "text/plain"},
    },
    "choices without the submit marker": {
        "data": {"phieu": ["truong-khoi", "bang-khen"], "poll_truong-khoi": "1"}
    },
    "marker without the polls shown": {"data": {"gui": "phieu-bau"}},
    "a file part": {"data": SHOWN, "files": {"poll_truong-khoi": ("a.pdf", b"%PDF-")}},
}


@pytest.mark.parametrize("request_kwargs", NOT_THE_FORM.values(), ids=NOT_THE_FORM.keys())
def test_a_request_that_is_not_the_ballot_form_casts_nothing(portal, db, request_kwargs):
    open_ballot(db.engine)
    response = portal.post(portal.paths["syt"] + "/bo-phieu/2020", **request_kwargs)
    assert response.status_code == 422 and "không phải phiếu bầu của trang này" in response.text
    with Session(db.engine) as session:
        assert_nothing_stored(session)


def test_a_form_opened_before_a_new_poll_is_refused_whole(portal, db):
    ids = open_ballot(db.engine)
    stale = {"phieu": ["truong-khoi"], "gui": "phieu-bau", "poll_truong-khoi": str(ids["svhttdl"])}
    response = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=stale)
    assert response.status_code == 422 and "tải lại trang" in response.text
    with Session(db.engine) as session:
        assert_nothing_stored(session)


@pytest.mark.parametrize("value", ["²", "١", "-1", "1e3", "9" * 40, ""], ids=repr)
def test_a_choice_that_is_not_a_plain_number_refuses_the_ballot(portal, db, value):
    open_ballot(db.engine)
    form = {**SHOWN, "poll_bang-khen": [value]}
    response = portal.post(portal.paths["syt"] + "/bo-phieu/2020", data=form)
    assert response.status_code == 422 and "lựa chọn không hợp lệ" in response.text
    with Session(db.engine) as session:
        assert_nothing_stored(session)
