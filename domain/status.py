"""Where a unit stands on a deadline at a given instant."""

from datetime import datetime
from enum import StrEnum


class SubmissionState(StrEnum):
    """The labels used in the CLI, the calendars and the emails."""

    SUBMITTED = "Đã nộp"
    LATE = "Nộp muộn"
    PENDING = "Chưa nộp"
    OVERDUE = "Quá hạn"


def submission_state(
    due_at: datetime, received: list[datetime], as_of: datetime
) -> SubmissionState:
    """State of one unit on one deadline, from the times its accepted submissions arrived.

    Submissions received after `as_of` are not yet known, so a rehearsal sees the past as it was.
    """
    known = [at for at in received if at <= as_of]
    if any(at < due_at for at in known):
        return SubmissionState.SUBMITTED
    if known:
        return SubmissionState.LATE
    return SubmissionState.PENDING if as_of < due_at else SubmissionState.OVERDUE
