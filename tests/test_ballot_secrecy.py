"""The secret ballot against someone who reads every table, every hidden column and the raw
database files after the units voted: nothing pairs a unit with its choices."""

import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from models.db import make_engine, session_scope, upgrade
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import BallotBox, Poll, Unit, YearPlan
from models.year_end import cast_ballot, open_poll
from tests.conftest import BACKENDS, EXAMPLE_PLAN, _pg_execute, _pg_url

CLOSES = datetime.now(UTC) + timedelta(days=5)
FORM = {"gui": "phieu-bau"}


def open_polls(engine, codes: list[str]) -> dict[str, int]:
    """Polls over every unit of the example plan, three seats each; the units' ids by code."""
    with session_scope(engine) as session:
        plan = session.exec(select(YearPlan)).one()
        ids = {u.code: u.id for u in session.exec(select(Unit)).all()}
        for code in codes:
            open_poll(
                session,
                plan=plan,
                code=code,
                kind="commendation",
                title=f"Bình xét {code}",
                seats=3,
                candidates=sorted(ids.values()),
                closes_at=CLOSES,
            )
    return ids


def distinct_ballots(ids: dict[str, int], seed: int) -> dict[str, list[int]]:
    """A different three-candidate ballot for every unit, so any leak would show whose it is."""
    choices = random.Random(seed).sample(list(combinations(sorted(ids.values()), 3)), len(ids))
    return {code: sorted(choice) for code, choice in zip(sorted(ids), choices, strict=True)}


def vote_on_the_page(portal, ballots: dict[str, list[int]], seed: int) -> list[str]:
    """Every unit casts its ballot in the poll `bang-khen` through its page, in a random order;
    returns that order."""
    voters = random.Random(seed).sample(sorted(ballots), len(ballots))
    for code in voters:
        form = {**FORM, "phieu": "bang-khen", "poll_bang-khen": [str(c) for c in ballots[code]]}
        assert portal.post(portal.paths[code] + "/bo-phieu/2020", data=form).status_code == 200
    return voters


def every_row(engine) -> dict[str, list[dict]]:
    """What an attacker with read access sees: every row of every table, with the hidden
    columns that follow insertion (SQLite rowid; PostgreSQL ctid and xmin), in physical order."""
    hidden = (
        "rowid AS _position"
        if engine.dialect.name == "sqlite"
        else "ctid::text AS _position, xmin::text AS _xmin"
    )
    order = "rowid" if engine.dialect.name == "sqlite" else "ctid"
    rows = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            query = text(f'SELECT {hidden}, * FROM "{table}" ORDER BY {order}')
            rows[table] = [dict(row._mapping) for row in connection.execute(query)]
    return rows


def voters_in(row: dict, ballots: dict[str, list[int]]) -> list[str]:
    """The units whose ballot appears in `row`."""
    content = " ".join(
        v if isinstance(v, str) else json.dumps(v, default=str) for v in row.values()
    )
    return [code for code, ballot in ballots.items() if json.dumps(ballot) in content]


def position(row: dict) -> tuple:
    value = row["_position"]
    return tuple(map(int, value.strip("()").split(","))) if isinstance(value, str) else (value,)


def pairing_attack(rows: dict[str, list[dict]], ballots: dict, ids: dict) -> dict[str, int]:
    """Pair the n-th row holding a single ballot with the n-th receipt, ordered by physical
    position, by id and by writing transaction; how many pairs come out right, per ordering."""
    single = [
        (row, found[0])
        for table_rows in rows.values()
        for row in table_rows
        if len(found := voters_in(row, ballots)) == 1
    ]
    receipts = rows["ballotreceipt"]
    orderings = {"position": position, "id": lambda row: (len(str(row["id"])), str(row["id"]))}
    if "_xmin" in receipts[0]:
        orderings["transaction"] = lambda row: int(row["_xmin"])
    right = {}
    for name, key in orderings.items():
        paired = zip(
            sorted(single, key=lambda s: key(s[0])), sorted(receipts, key=key), strict=False
        )
        right[name] = sum(ids[code] == receipt["voter_unit_id"] for (_, code), receipt in paired)
    return right


def test_no_row_position_id_or_transaction_pairs_a_ballot_with_its_voter(portal, db):
    ids = open_polls(db.engine, ["bang-khen"])
    ballots = distinct_ballots(ids, seed=1)
    voters = vote_on_the_page(portal, ballots, seed=2)

    rows = every_row(db.engine)
    assert len(rows["ballotreceipt"]) == len(voters)
    assert set(pairing_attack(rows, ballots, ids).values()) == {0}
    holders = [
        (t, row) for t, table_rows in rows.items() for row in table_rows if voters_in(row, ballots)
    ]
    assert [(t, sorted(voters_in(row, ballots))) for t, row in holders] == [
        ("ballotbox", sorted(ids))
    ]  # one row holds every ballot
    box = holders[0][1]
    stored = json.loads(box["ballots"]) if isinstance(box["ballots"], str) else box["ballots"]
    assert stored == sorted(ballots.values())  # sorted: no voter's turn can be read from it
    assert set(box) - {"_position", "_xmin"} == {"poll_id", "ballots"}  # no id, no time


def test_the_stored_ballot_box_is_the_same_whatever_order_the_units_vote_in(db):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
    ids = open_polls(db.engine, ["thu-tu-1", "thu-tu-2"])
    ballots = distinct_ballots(ids, seed=3)
    order = random.Random(4).sample(sorted(ids), len(ids))
    with session_scope(db.engine) as session:
        members = set(ids.values())
        polls = {p.code: p for p in session.exec(select(Poll)).all()}
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        for poll, voters in (("thu-tu-1", order), ("thu-tu-2", order[::-1])):
            for code in voters:
                cast_ballot(
                    session,
                    poll=polls[poll],
                    voter=units[code],
                    members=members,
                    choices=ballots[code],
                    at=datetime.now(UTC),
                )
    cast = "ballots" if db.engine.dialect.name == "sqlite" else "ballots::text"
    with db.engine.connect() as connection:
        stored = connection.execute(text(f"SELECT {cast} FROM ballotbox ORDER BY poll_id")).all()
    assert len(stored) == 2 and stored[0] == stored[1]
    with Session(db.engine) as session:
        assert session.get(BallotBox, polls["thu-tu-1"].id).ballots == sorted(ballots.values())


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_sqlite_files_keep_no_earlier_state_of_the_ballot_box(portal, db):
    """Each ballot rewrites the box; the page the old box lived on is zeroed (secure_delete) and
    the write-ahead log that held each intermediate state is emptied after the ballot."""
    ids = open_polls(db.engine, ["bang-khen"])
    ballots = distinct_ballots(ids, seed=5)
    voters = vote_on_the_page(portal, ballots, seed=6)
    database = Path(db.url.removeprefix("sqlite:///"))
    on_disk = b"".join(
        path.read_bytes() for path in database.parent.glob(database.name + "*") if path.is_file()
    )
    boxes = [sorted(ballots[code] for code in voters[:n]) for n in range(1, len(voters) + 1)]
    # "[[" opens a box and "]]" closes it, so an earlier box is never part of a later one.
    assert on_disk.count(json.dumps(boxes[-1]).encode()) == 1
    assert [n for n, box in enumerate(boxes[:-1], 1) if json.dumps(box).encode() in on_disk] == []


def test_units_voting_at_the_same_moment_are_all_counted(portal, db):
    """Concurrent ballots queue on the box: none is lost, none fails with a locked database."""
    ids = open_polls(db.engine, ["bang-khen"])
    ballots = distinct_ballots(ids, seed=7)

    def vote(code: str) -> int:
        form = {**FORM, "phieu": "bang-khen", "poll_bang-khen": [str(c) for c in ballots[code]]}
        with httpx.Client(base_url=str(portal.base_url), timeout=60) as client:
            return client.post(portal.paths[code] + "/bo-phieu/2020", data=form).status_code

    with ThreadPoolExecutor(len(ids)) as pool:
        assert list(pool.map(vote, sorted(ids))) == [200] * len(ids)
    with Session(db.engine) as session:
        (box,) = session.exec(select(BallotBox)).all()
        assert box.ballots == sorted(ballots.values())


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'thidua.db'}"
        return
    name = f"thidua_mig_{uuid.uuid4().hex[:10]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plan_at_0005(connection) -> int:
    """A bloc, a unit and a plan, in the columns the 0005 schema has; the plan's id."""
    connection.execute(text("INSERT INTO bloc (code, name, province) VALUES ('k', 'Khối', 'Tỉnh')"))
    bloc = connection.execute(text("SELECT id FROM bloc")).scalar_one()
    connection.execute(
        text("INSERT INTO unit (bloc_id, code, name) VALUES (:b, 'u', 'Đơn vị')"), {"b": bloc}
    )
    unit = connection.execute(text("SELECT id FROM unit")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO yearplan (bloc_id, year, state, title, head_unit_id, deputy_unit_id, "
            "deadline_rule, rules, content_sha256, loaded_at) VALUES (:b, 2020, 'active', "
            "'Kế hoạch', :u, :u, 'exclusive', '{}', '0', '2020-01-01 00:00:00+00')"
        ),
        {"b": bloc, "u": unit},
    )
    return connection.execute(text("SELECT id FROM yearplan")).scalar_one()


def test_upgrading_moves_each_polls_ballots_into_its_box_and_drops_the_ballot_rows(
    empty_database_url,
):
    upgrade(empty_database_url, "0005")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:  # the 0005 schema: rows written as it was, not the ORM
            plan_id = _plan_at_0005(connection)
            connection.execute(
                text(
                    "INSERT INTO poll (plan_id, code, kind, title, seats, state, result) "
                    "VALUES (:plan, 'bang-khen', 'commendation', 'Bằng khen', 2, 'open', '{}'),"
                    " (:plan, 'truong-khoi', 'election', 'Trưởng khối', 1, 'open', '{}')"
                ),
                {"plan": plan_id},
            )
            polls = dict(connection.execute(text("SELECT code, id FROM poll")).all())
            for n, choices in enumerate(["[5, 2]", "[]", "[3]"]):
                connection.execute(
                    text("INSERT INTO ballot (id, poll_id, choices) VALUES (:id, :poll, :c)"),
                    {"id": f"b{n}", "poll": polls["bang-khen"], "c": choices},
                )
        upgrade(empty_database_url)
        with Session(engine) as session:
            assert session.get(BallotBox, polls["bang-khen"]).ballots == [[], [2, 5], [3]]
            assert session.get(BallotBox, polls["truong-khoi"]).ballots == []
        assert "ballot" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
