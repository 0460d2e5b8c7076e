"""The head unit's approval of the year's results: what is shown before anything goes out,
and the audit of the answer. Who asks (the Prefect UI, the rehearsal) is the caller's."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models.tables import AuditEvent, YearPlan
from notifications.render import ENVIRONMENT


@dataclass(frozen=True)
class Decided:
    """The decisions after the count, waiting for approval: ranking, proposals, head, deputy."""

    key: str  # the plan's bloc code and year, e.g. "bg-vhxh-2020"
    year: int
    results: dict
    markdown: str


@dataclass(frozen=True)
class Approval:
    """The head unit's answer: approved or not, why, who answered and when."""

    approved: bool
    note: str
    by: str
    at: datetime


Approve = Callable[[Decided], Approval]


def decided(*, key: str, year: int, bloc: str, results: dict) -> Decided:
    """The decisions with their Vietnamese summary (markdown) for the approver."""
    context = {**results, "year": year, "bloc": bloc}
    markdown = ENVIRONMENT.get_template("results_approval.md.j2").render(context)
    return Decided(key, year, results, markdown)


def record_answer(session: Session, *, plan: YearPlan, decision: Decided, answer: Approval) -> None:
    """Write the answer to the audit log, with the head and deputy it was given on."""
    session.add(
        AuditEvent(
            at=answer.at,
            actor=answer.by,
            action="approve-results" if answer.approved else "reject-results",
            entity="plan",
            key=str(plan.year),
            plan_id=plan.id,
            details={
                "note": answer.note,
                "head": decision.results["head"],
                "deputy": decision.results["deputy"],
            },
        )
    )


def automatic(by: str, at: datetime) -> Approve:
    """An approval given in advance (the rehearsal, the command line): approves whatever is
    decided, in `by`'s name, at `at`."""
    return lambda decision: Approval(True, "phê duyệt tự động", by, at)
