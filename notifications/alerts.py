"""The alerts to the secretariat when a scheduled job fails or starts late (pure: a run in,
drafts out).

The key names the run, so an alert decided twice (the hook run again, a retried hook) is
stored and sent once.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from domain.dates import fmt_instant
from notifications.drafts import PlanState, common_context
from notifications.outbox import Draft
from notifications.render import render

ERROR_CHARS = 500  # one line of the error is enough to say what happened
LATE_AFTER = timedelta(hours=1)  # a run starting later than this after its time was missed


@dataclass(frozen=True)
class FailedRun:
    """A flow run that failed or crashed, as the alert tells it."""

    id: str
    name: str
    title: str  # what the flow does, in Vietnamese ("nhắc nộp hồ sơ")
    at: datetime
    error: str  # the state's message; its last line is shown
    url: str  # the run's page in the Prefect UI
    crashed: bool = False


@dataclass(frozen=True)
class LateRun:
    """A flow run that started long after its scheduled time (the worker was down)."""

    id: str
    name: str
    title: str
    expected: datetime  # when it was scheduled to start
    started: datetime
    url: str


def is_late(expected: datetime, started: datetime) -> bool:
    """Whether a run started more than LATE_AFTER after its scheduled time."""
    return started - expected > LATE_AFTER


def fmt_delay(delay: timedelta) -> str:
    """A delay in days, hours and minutes, as a clerk says it: "1 ngày 2 giờ 5 phút"."""
    minutes = int(delay.total_seconds()) // 60
    parts = [(minutes // 1440, "ngày"), (minutes // 60 % 24, "giờ"), (minutes % 60, "phút")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 phút"


def last_line(message: str) -> str:
    """The last non-blank line of an error message, shortened to ERROR_CHARS."""
    lines = [line.strip().removeprefix("- ") for line in message.splitlines() if line.strip()]
    line = lines[-1] if lines else "không có thông báo lỗi"
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def failed_run_drafts(states: list[PlanState], run: FailedRun) -> list[Draft]:
    """One alert to each address of the secretariats of the active plans, keyed by the run."""
    context = {
        "title": run.title,
        "name": run.name,
        "at": fmt_instant(run.at),
        "error": last_line(run.error),
        "url": run.url,
        "crashed": run.crashed,
    }
    return _secretariat_drafts(states, "run_failed", "run-failed", run.id, context)


def late_run_drafts(states: list[PlanState], run: LateRun) -> list[Draft]:
    """One alert to each address of the secretariats of the active plans, keyed by the run."""
    context = {
        **asdict(run),
        "expected": fmt_instant(run.expected),
        "started": fmt_instant(run.started),
        "delay": fmt_delay(run.started - run.expected),
    }
    return _secretariat_drafts(states, "run_late", "run-late", run.id, context)


def _secretariat_drafts(
    states: list[PlanState], template: str, stage: str, run_id: str, run: dict
) -> list[Draft]:
    drafts: dict[str, Draft] = {}
    for state in states:
        message = render(
            template, {**common_context(state, state.secretariat.name, None), "run": run}
        )
        for email in state.secretariat.emails:
            drafts.setdefault(
                email,
                Draft(
                    key=f"{stage}:{run_id}:{email}",
                    recipient=email,
                    stage=stage,
                    message=message,
                    plan_id=state.plan_id,
                ),
            )
    return list(drafts.values())
