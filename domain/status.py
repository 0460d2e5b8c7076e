"""Where a unit stands on a deadline at a given instant."""

from datetime import date, datetime
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


class EventState(StrEnum):
    """Where an event of the timeline stands on a day, as the public page says it."""

    PAST = "Đã qua"
    CURRENT = "Đang diễn ra"
    UPCOMING = "Sắp tới"


def event_state(first: date, last: date, today: date) -> EventState:
    """State on `today` of an event held from `first` to `last` (whole days, both included)."""
    if today > last:
        return EventState.PAST
    return EventState.CURRENT if today >= first else EventState.UPCOMING
