"""The secretariat's overview of an active plan: every unit × every deadline, as of an instant,
with each deadline's title and last day, the state and the newest version each unit sent."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain.dates import fmt_date, fmt_instant, last_day
from domain.extensions import unit_due_at
from domain.status import SubmissionState, submission_state
from models import queries
from models.tables import YearPlan

# ?loc= of the overview: which units it keeps, and what the filter is called on the page.
FILTERS = {"tre": "Nộp muộn hoặc quá hạn", "thieu": "Còn thiếu hồ sơ (chưa nộp hoặc quá hạn)"}
_KEEPS = {
    "tre": {SubmissionState.LATE, SubmissionState.OVERDUE},
    "thieu": {SubmissionState.PENDING, SubmissionState.OVERDUE},
}
STATE_CLASS = {
    SubmissionState.SUBMITTED: "s-done",
    SubmissionState.LATE: "s-late",
    SubmissionState.PENDING: "s-pending",
    SubmissionState.OVERDUE: "s-overdue",
}


@dataclass(frozen=True)
class Cell:
    """Where one unit stands on one deadline it owes."""

    state: SubmissionState
    version: int | None = None
    received: str | None = None  # "HH:MM dd/mm/yyyy", local time
    extended_until: str | None = None  # dd/mm/yyyy: the unit's new last day (gia hạn)

    @property
    def css(self) -> str:
        return STATE_CLASS[self.state]

    @property
    def text(self) -> str:
        """The cell as one line: "Nộp muộn – lần 2, 10:00 03/03/2020"."""
        text = self.state.value
        if self.version is not None:
            text += f" – lần {self.version}, {self.received}"
        if self.extended_until:
            text += f" (gia hạn đến {self.extended_until})"
        return text


@dataclass(frozen=True)
class Column:
    code: str
    title: str
    last_day: str  # dd/mm/yyyy


@dataclass(frozen=True)
class Row:
    unit: str
    code: str
    cells: list[Cell | None]  # None: the unit does not owe this deadline


@dataclass(frozen=True)
class Overview:
    year: int
    title: str
    columns: list[Column]
    rows: list[Row]

    def only(self, which: str | None) -> list[Row]:
        """The rows the filter `which` keeps (every row for an unknown or no filter)."""
        states = _KEEPS.get(which or "")
        if states is None:
            return self.rows
        return [r for r in self.rows if any(c and c.state in states for c in r.cells)]


def overview(session: Session, *, plan: YearPlan, as_of: datetime) -> Overview:
    """The overview of `plan` as of `as_of`, in a fixed number of queries whatever the units."""
    deadlines = [d for d in queries.plan_events(session=session, plan=plan)[2] if not d.cancelled]
    owed = queries.obligations(session=session, plan=plan)
    receipts = queries.accepted_receipts(session=session, plan=plan)
    latest = queries.latest_versions(session=session, plan=plan, as_of=as_of)
    extensions = queries.extensions(session=session, plan=plan)

    def cell(deadline, unit) -> Cell | None:
        key = deadline.id, unit.id
        if key not in owed:
            return None
        due_at = unit_due_at(deadline.due_at, extensions.get(key))
        state = submission_state(due_at, receipts.get(key, []), as_of)
        until = fmt_date(last_day(due_at)) if due_at != deadline.due_at else None
        version, received = latest.get(key, (None, None))
        return Cell(state, version, received and fmt_instant(received), until)

    columns = [Column(d.code, d.title, fmt_date(last_day(d.due_at))) for d in deadlines]
    rows = [
        Row(unit.name, unit.code, [cell(d, unit) for d in deadlines])
        for unit in queries.plan_units(session=session, plan=plan)
    ]
    return Overview(plan.year, plan.title, columns, rows)
