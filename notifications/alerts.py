"""The alert to the secretariat when a scheduled job fails (pure: a failed run in, drafts out).

The key names the run, so an alert decided twice (the hook run again, a retried hook) is
stored and sent once.
"""

from dataclasses import dataclass
from datetime import datetime

from domain.dates import fmt_instant
from notifications.drafts import PlanState, common_context
from notifications.outbox import Draft
from notifications.render import render

ERROR_CHARS = 500  # one line of the error is enough to say what happened


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
    drafts: dict[str, Draft] = {}
    for state in states:
        message = render(
            "run_failed", {**common_context(state, state.secretariat.name, None), "run": context}
        )
        for email in state.secretariat.emails:
            drafts.setdefault(
                email,
                Draft(
                    key=f"run-failed:{run.id}:{email}",
                    recipient=email,
                    stage="run-failed",
                    message=message,
                    plan_id=state.plan_id,
                ),
            )
    return list(drafts.values())
