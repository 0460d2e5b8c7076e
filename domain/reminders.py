"""The reminder policy: which reminder each unit is due on each deadline, as of an instant.

A deadline's schedule is a list of stages on working days, counted from the last day to
submit: `before-N` (N working days before it), `due-today` (on it, or the working day before
if it is a day off), then `overdue-1` .. `overdue-K` (the first `after_first` working days
after it, then every `after_every` working days, at most `max_overdue`). Stages falling on the
same day keep only the more urgent one. Each stage opens at office opening time of its day.

As of an instant, a unit that has not submitted is due the latest stage already open, if that
stage was not sent: so a run after downtime sends what was missed once, and never a backlog.
Nothing is due outside office hours of a working day.
"""

from dataclasses import dataclass
from datetime import date, datetime

from domain.dates import last_day
from domain.workdays import WorkCalendar


@dataclass(frozen=True)
class Policy:
    before: tuple[int, ...] = (7, 3, 1)
    on_day: bool = True
    after_first: int = 1
    after_every: int = 3
    escalate_from: int = 2
    max_overdue: int = 5

    @classmethod
    def from_rules(cls, rules: dict) -> "Policy":
        return cls(**{**rules, "before": tuple(rules.get("before", cls.before))})

    def describe(self) -> str:
        """The policy in Vietnamese, as the secretariat's plan page shows it."""
        before = ", ".join(str(n) for n in sorted(self.before, reverse=True))
        parts = [f"nhắc trước hạn {before} ngày làm việc"] if self.before else []
        if self.on_day:
            parts.append("nhắc vào ngày hạn cuối")
        if self.max_overdue:
            parts.append(
                f"quá hạn: nhắc sau {self.after_first} ngày làm việc, rồi cứ {self.after_every} "
                f"ngày làm việc một lần, nhiều nhất {self.max_overdue} lần; từ lần thứ "
                f"{self.escalate_from} gửi cả lãnh đạo đơn vị và Văn phòng Khối"
            )
        else:
            parts.append("không nhắc sau khi quá hạn")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."


@dataclass(frozen=True, order=True)
class Stage:
    day: date
    name: str  # before-7 | due-today | overdue-2 ...
    escalate: bool = False


def schedule(due_at: datetime, policy: Policy, calendar: WorkCalendar) -> list[Stage]:
    """Every reminder stage of one deadline, in day order, at most one per day."""
    last = last_day(due_at)
    stages = [
        Stage(calendar.shift(last, -n), f"before-{n}") for n in sorted(policy.before, reverse=True)
    ]
    if policy.on_day:
        stages.append(Stage(calendar.on_or_before(last), "due-today"))
    first_overdue = calendar.shift(last, policy.after_first)
    for k in range(1, policy.max_overdue + 1):
        day = calendar.shift(first_overdue, (k - 1) * policy.after_every)
        stages.append(Stage(day, f"overdue-{k}", escalate=k >= policy.escalate_from))
    by_day: dict[date, Stage] = {}
    for stage in stages:  # later in the list = more urgent: it wins its day
        by_day[stage.day] = stage
    return sorted(by_day.values())


def latest_open(
    stages: list[Stage], calendar: WorkCalendar, as_of: datetime, policy: Policy
) -> Stage | None:
    """The most recent stage opened by `as_of`, the same for every unit of a deadline. None
    outside office time, before the first stage, and once the chase is over: the last stage
    stays current for `after_every` working days, as if another followed, then nothing is due
    (a plan activated long after a deadline never sends its overdue reminders)."""
    if not calendar.is_office_time(as_of):
        return None
    open_stages = [s for s in stages if calendar.opening(s.day) <= as_of]
    if not open_stages:
        return None
    over = calendar.shift(stages[-1].day, max(policy.after_every, 1))
    return None if calendar.opening(over) <= as_of else open_stages[-1]


def due_stage(
    stages: list[Stage],
    calendar: WorkCalendar,
    as_of: datetime,
    submitted: bool,
    sent: set[str],
    policy: Policy,
) -> Stage | None:
    """The stage to send now for one unit and deadline, or None."""
    stage = None if submitted else latest_open(stages, calendar, as_of, policy)
    return None if stage is None or stage.name in sent else stage
