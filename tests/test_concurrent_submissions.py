"""Submissions racing for one unit and deadline, and transactions that fail or die after files
were kept: each submission is its own version, and the file store holds exactly what rows name."""

import hashlib
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.settings import Settings
from models import filestore
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Contact, Deadline, Submission, SubmissionFile, Unit, YearPlan
from operations.intake import Upload, take_submission
from tests.conftest import PDF, ROOT

RACERS = 20
RECEIVED = datetime(2020, 6, 15, 3, 0, tzinfo=UTC)


@pytest.fixture
def settings(db, plan_text, write_plan) -> Settings:
    """The example plan in force on `db`; settings whose data folder is the database's."""
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(plan_text)), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    return Settings(data_dir=db.data_dir, database_url=db.url)


def _store_state(db, files_dir: Path) -> tuple[list[Path], list[str]]:
    """(files under the store that no row names, named digests with no file in the store)."""
    with Session(db.engine) as session:
        named = set(session.exec(select(SubmissionFile.sha256)).all())
    present = [p for p in files_dir.rglob("*") if p.is_file()] if files_dir.exists() else []
    orphans = [
        p for p in present if p.name not in named or p != filestore.path_of(files_dir, p.name)
    ]
    missing = [d for d in named if not filestore.path_of(files_dir, d).is_file()]
    return orphans, missing


def _so_ket(session: Session, unit: str) -> tuple[Deadline, Unit]:
    return (
        session.exec(select(Deadline).where(Deadline.code == "so-ket")).one(),
        session.exec(select(Unit).where(Unit.code == unit)).one(),
    )


def _submit_paper(session: Session, settings: Settings, *contents: bytes) -> Submission:
    deadline, unit = _so_ket(session, "syt")
    uploads = [Upload(f"tep-{n}.pdf", content) for n, content in enumerate(contents)]
    return take_submission(
        session,
        settings,
        deadline=deadline,
        unit=unit,
        received_at=RECEIVED,
        channel="paper",
        uploads=uploads,
    )


def _without_receipts(db, unit: str) -> None:
    """Leave the unit's focal point without an address: twenty background mail runs would wait
    out each other's leases (up to a minute) and hold the server past the test."""
    with session_scope(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == unit)).one()
        for contact in session.exec(select(Contact).where(Contact.unit_id == unit_id)).all():
            contact.emails = []


def _post_at_once(portal, path: str, contents: list[bytes]) -> list[int]:
    """POST every content as its own submission, all released at the same instant."""
    start = threading.Barrier(len(contents))

    def post(content: bytes) -> int:
        start.wait()
        files = [("files", ("bao-cao.pdf", content, "application/pdf"))]
        return portal.post(path, files=files).status_code

    with ThreadPoolExecutor(len(contents)) as pool:
        return list(pool.map(post, contents))


def test_concurrent_submissions_each_get_their_own_version_and_leave_no_orphan_file(portal, db):
    _without_receipts(db, "syt")
    contents = [PDF + f"% bản {n}\n".encode() for n in range(RACERS)]
    statuses = _post_at_once(portal, f"{portal.paths['syt']}/nop/2020/so-ket", contents)
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == "syt")).one()
        stored = session.exec(
            select(Submission.version, SubmissionFile.sha256)
            .join(SubmissionFile, SubmissionFile.submission_id == Submission.id)
            .where(Submission.unit_id == unit_id)
        ).all()
    orphans, missing = _store_state(db, portal.settings.files_dir)
    assert statuses == [200] * RACERS
    assert sorted(version for version, _ in stored) == list(range(1, RACERS + 1))
    assert sorted(digest for _, digest in stored) == sorted(
        hashlib.sha256(content).hexdigest() for content in contents
    )
    assert orphans == [] and missing == []


def test_a_failed_transaction_leaves_none_of_its_files_and_keeps_those_others_name(db, settings):
    shared, own = PDF + b"% chung\n", PDF + b"% rieng\n"
    with session_scope(db.engine) as session:
        _submit_paper(session, settings, shared)
    with pytest.raises(IntegrityError), session_scope(db.engine) as session:
        _submit_paper(session, settings, own, shared)
        deadline, unit = _so_ket(session, "syt")
        session.add(  # version 1 is taken: the unit of work fails after its files were kept
            Submission(
                deadline_id=deadline.id,
                unit_id=unit.id,
                version=1,
                channel="paper",
                received_at=RECEIVED,
            )
        )
        session.flush()
    orphans, missing = _store_state(db, settings.files_dir)
    assert orphans == [] and missing == []
    digest = hashlib.sha256(shared).hexdigest()
    assert filestore.path_of(settings.files_dir, digest).read_bytes() == shared


DIES_AROUND_A_COMMIT = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, orm
from sqlmodel import Session, select

from models import filestore
from models.db import make_engine
from models.submissions import StoredFile, record_submission
from models.tables import Deadline, Unit

engine, files = make_engine(sys.argv[1]), Path(sys.argv[2])
never_committed = Session(engine)
filestore.store_on_commit(never_committed, files, b"%PDF-1.4 never committed")
with Session(engine) as session:
    digest = filestore.store_on_commit(session, files, b"%PDF-1.4 committed")
    record_submission(
        session,
        deadline=session.exec(select(Deadline).where(Deadline.code == "so-ket")).one(),
        unit=session.exec(select(Unit).where(Unit.code == "syt")).one(),
        received_at=datetime.now(UTC),
        channel="paper",
        files=[StoredFile(digest, "a.pdf", "application/pdf", 24)],
    )
    event.listen(orm.Session, "after_commit", lambda _: os._exit(9), insert=True)  # before the move
    session.commit()
"""


def test_files_a_dead_process_left_incoming_are_settled_by_a_later_submission(db, settings):
    died = subprocess.run(
        [sys.executable, "-c", DIES_AROUND_A_COMMIT, db.url, str(settings.files_dir)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert died.returncode == 9, died.stderr
    committed = hashlib.sha256(b"%PDF-1.4 committed").hexdigest()
    assert _store_state(db, settings.files_dir)[1] == [committed]  # named, not yet in the store
    incoming = settings.files_dir / filestore.INCOMING
    long_ago = time.time() - filestore.ABANDONED_AFTER_SECONDS - 60
    for folder in incoming.iterdir():
        os.utime(folder, (long_ago, long_ago))
    with Session(db.engine) as in_flight:  # a submission still running is left alone
        filestore.store_on_commit(in_flight, settings.files_dir, PDF + b"% dang nop\n")
        with session_scope(db.engine) as session:
            _submit_paper(session, settings, PDF + b"% sau\n")
        assert len(list(incoming.iterdir())) == 1
    orphans, missing = _store_state(db, settings.files_dir)
    assert orphans == [] and missing == []
    assert list(incoming.iterdir()) == []
