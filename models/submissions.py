"""Recording what a unit handed in: a new version each time, accepted or rejected, never lost."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, cast, func
from sqlmodel import Session, select

from models.tables import AuditEvent, Deadline, Submission, SubmissionFile, Unit


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    filename: str
    content_type: str
    size: int
    criterion_code: str | None = None


def record_submission(
    session: Session,
    *,
    deadline: Deadline,
    unit: Unit,
    received_at: datetime,
    channel: str,
    data: dict | None = None,
    files: list[StoredFile] = (),
    errors: list[str] = (),
    note: str | None = None,
    recorded_by: str | None = None,
) -> Submission:
    """Store the next version for (deadline, unit); with `errors` it is kept as rejected.
    Racing submissions for the same pair wait for each other and get consecutive versions."""
    _lock_versions(session, deadline_id=deadline.id, unit_id=unit.id)
    version = 1 + (
        session.exec(
            select(func.max(Submission.version)).where(
                Submission.deadline_id == deadline.id, Submission.unit_id == unit.id
            )
        ).one()
        or 0
    )
    submission = Submission(
        deadline_id=deadline.id,
        unit_id=unit.id,
        version=version,
        channel=channel,
        status="rejected" if errors else "accepted",
        received_at=received_at,
        data=data or {},
        errors=list(errors),
        note=note,
        recorded_by=recorded_by,
    )
    session.add(submission)
    session.flush()
    for file in files:
        session.add(
            SubmissionFile(
                submission_id=submission.id,
                sha256=file.sha256,
                filename=file.filename,
                content_type=file.content_type,
                size=file.size,
                criterion_code=file.criterion_code,
            )
        )
    session.add(
        AuditEvent(
            at=received_at,
            actor=recorded_by or f"unit:{unit.code}",
            action="submission.rejected" if errors else "submission.accepted",
            entity="Submission",
            key=f"{deadline.code}/{unit.code}/v{version}",
            plan_id=deadline.plan_id,
            details={
                "channel": channel,
                "files": [f.filename for f in files],
                "errors": list(errors),
            },
        )
    )
    session.flush()
    return submission


def _lock_versions(session: Session, *, deadline_id: int, unit_id: int) -> None:
    """Hold the numbering of (deadline, unit)'s versions until the transaction ends, so that the
    version `record_submission` reads as the next one is still free when it inserts it."""
    if session.get_bind().dialect.name == "postgresql":
        # Released at commit or rollback. Nothing else in thidua takes a two-integer advisory
        # lock, so the key (deadline, unit) names this pair alone.
        key = cast(deadline_id, Integer), cast(unit_id, Integer)
        session.exec(select(func.pg_advisory_xact_lock(*key))).one()
    # SQLite: every write transaction holds the database's write lock from its BEGIN IMMEDIATE
    # (models.db), so no other writer can number a version meanwhile.


def history(
    session: Session, *, unit_id: int, deadline_ids: list[int]
) -> dict[int, list[tuple[Submission, list[SubmissionFile]]]]:
    """A unit's submissions per deadline, newest first, with their files."""
    submissions = session.exec(
        select(Submission)
        .where(Submission.unit_id == unit_id, Submission.deadline_id.in_(deadline_ids))
        .order_by(Submission.version.desc())
    ).all()
    files = session.exec(
        select(SubmissionFile).where(SubmissionFile.submission_id.in_([s.id for s in submissions]))
    ).all()
    by_submission: dict[int, list[SubmissionFile]] = {}
    for file in files:
        by_submission.setdefault(file.submission_id, []).append(file)
    result: dict[int, list] = {}
    for submission in submissions:
        result.setdefault(submission.deadline_id, []).append(
            (submission, by_submission.get(submission.id, []))
        )
    return result
