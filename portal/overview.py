"""The secretariat's overview of an active plan: every unit × every deadline, as of an instant,
with each deadline's title and last day, the state and the newest version each unit sent."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain.dates import fmt_date, fmt_instant, last_day
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

    @property
    def css(self) -> str:
        return STATE_CLASS[self.state]

    @property
    def text(self) -> str:
        """The cell as one line: "Nộp muộn – lần 2, 10:00 03/03/2020"."""
        if self.version is None:
            return self.state.value
        return f"{self.state.value} – lần {self.version}, {self.received}"


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

    def cell(deadline, unit) -> Cell | None:
        if (deadline.id, unit.id) not in owed:
            return None
        key = deadline.id, unit.id
        state = submission_state(deadline.due_at, receipts.get(key, []), as_of)
        if key not in latest:
            return Cell(state)
        version, received = latest[key]
        return Cell(state, version, fmt_instant(received))

    columns = [Column(d.code, d.title, fmt_date(last_day(d.due_at))) for d in deadlines]
    rows = [
        Row(unit.name, unit.code, [cell(d, unit) for d in deadlines])
        for unit in queries.plan_units(session=session, plan=plan)
    ]
    return Overview(plan.year, plan.title, columns, rows)
