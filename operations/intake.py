"""Taking in a submission from any channel (portal, API, paper): check the files, keep them,
record the version, acknowledge by email and refresh the unit's calendar, in one transaction."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from calendars.publish import publish_bloc
from config.settings import Settings
from documents.text import points
from domain.registration import registration_lines
from domain.uploads import KINDS, LABEL, UnsafeFile, detect_kind, safe_filename
from models import filestore
from models.links import Links
from models.scores import save_self_scores, self_total, sheet_view
from models.submissions import StoredFile, record_submission
from models.tables import Bloc, Deadline, Submission, Unit, YearPlan
from notifications.drafts import receipt_drafts
from notifications.outbox import enqueue
from notifications.state import plan_state


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes  # at most max_upload_bytes + 1 bytes were read
    criterion_code: str | None = None


def check_uploads(
    uploads: list[Upload], max_bytes: int
) -> tuple[list[tuple[Upload, str]], list[str]]:
    """(upload, kind) of the acceptable files, and one Vietnamese error per refused file."""
    kept, errors = [], []
    for upload in uploads:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if len(upload.content) > max_bytes:
            errors.append(f"Tệp “{name}”: lớn hơn giới hạn {max_bytes // 1_000_000} MB.")
            continue
        if not upload.content:
            errors.append(f"Tệp “{name}”: tệp rỗng.")
            continue
        try:
            kind = detect_kind(upload.content)
        except UnsafeFile as error:
            errors.append(f"Tệp “{name}”: {error}.")
            continue
        if kind is None:
            errors.append(f"Tệp “{name}”: nội dung không phải {LABEL}.")
            continue
        kept.append((upload, kind))
    return kept, errors


def take_submission(
    session: Session,
    settings: Settings,
    *,
    deadline: Deadline,
    unit: Unit,
    received_at: datetime,
    channel: str,
    data: dict | None = None,
    uploads: list[Upload] = (),
    errors: list[str] = (),
    note: str | None = None,
    recorded_by: str | None = None,
) -> Submission:
    """Record a submission (rejected when `errors` or a file is refused; its good files are kept
    anyway), and for an accepted one queue the receipt and refresh the unit's feed. The files
    enter the store when the session's transaction commits, and only then."""
    kept, file_errors = check_uploads(list(uploads), settings.max_upload_bytes)
    if kept:
        filestore.recover_abandoned(session, settings.files_dir)
    files = [
        StoredFile(
            sha256=filestore.store_on_commit(session, settings.files_dir, upload.content),
            filename=safe_filename(upload.filename, kind),
            content_type=KINDS[kind],
            size=len(upload.content),
            criterion_code=upload.criterion_code,
        )
        for upload, kind in kept
    ]
    submission = record_submission(
        session,
        deadline=deadline,
        unit=unit,
        received_at=received_at,
        channel=channel,
        data=data,
        files=files,
        errors=[*errors, *file_errors],
        note=note,
        recorded_by=recorded_by,
    )
    if submission.status == "accepted":
        links = Links(settings.base_url, settings.signing_key())
        plan = session.get(YearPlan, deadline.plan_id)
        details = registration_lines(data) if deadline.kind == "registration" and data else []
        if deadline.kind == "self_score" and data and "scores" in data:
            view = sheet_view(session, plan=plan)
            save_self_scores(session, view=view, unit_id=unit.id, data=data, at=received_at)
            details.append(f"Tổng điểm tự chấm: {points(self_total(data, view))} điểm")
        state = plan_state(session, plan=plan, links=links, only_units={unit.id})
        names = [f.filename for f in files]
        drafts = receipt_drafts(state, unit, deadline, submission, names, details)
        enqueue(session, drafts, domain=settings.mail_domain, as_of=received_at)
        bloc = session.get(Bloc, plan.bloc_id)
        publish_bloc(session, bloc=bloc, as_of=received_at, only_units={unit.id})
    return submission
