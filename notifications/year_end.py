"""Emails of the close of the year: the invitation to vote, and the results (pure)."""

from datetime import datetime

from domain.dates import fmt_instant
from notifications.drafts import PlanState, common_context
from notifications.outbox import Draft
from notifications.render import render


def ballot_drafts(
    state: PlanState, polls: list[dict], *, codes: str, closes_at: datetime, voted: set[int]
) -> list[Draft]:
    """One invitation per member unit that has not voted yet, to its focal point; `polls` are
    {"title", "seats", "candidates": [names]} and `codes` names this round of polls (the key)."""
    drafts = []
    for unit in state.units:
        if unit.id in voted:
            continue
        context = {
            **common_context(state, unit.name, unit),
            "polls": polls,
            "closes_at": fmt_instant(closes_at),
            "ballot_url": f"{state.links[unit.id].submit_url}#bo-phieu",
        }
        message = render("ballot_invitation", context)
        drafts += [
            Draft(
                key=f"ballot:{state.plan_id}:{codes}:{unit.id}:{email}",
                recipient=email,
                stage="ballot",
                message=message,
                plan_id=state.plan_id,
                unit_id=unit.id,
            )
            for email in state.focal_points[unit.id].emails
        ]
    return drafts


def result_drafts(
    state: PlanState,
    results: dict,
    report_to: dict | None,
    *,
    attachments: tuple[tuple[str, str], ...] = (),
) -> list[Draft]:
    """The year's results to every member's focal point and leader, the secretariat and the
    provincial board (`report_to`); `results` holds ranking, proposals, head and deputy, and
    each email carries the year's documents (`attachments`: name, SHA-256 in the file store)."""
    addressees: list[tuple[str, list[str], int | None]] = []
    for unit in state.units:
        people = [state.focal_points.get(unit.id), state.leaders.get(unit.id)]
        emails = [e for person in people if person for e in person.emails]
        addressees.append((unit.name, emails, unit.id))
    addressees.append(("Văn phòng " + state.bloc_name, state.secretariat.emails, None))
    if report_to:
        addressees.append((report_to["name"], report_to["emails"], None))
    drafts, seen = [], set()
    for name, emails, unit_id in addressees:
        message = render("results", {**common_context(state, name, None), **results})
        for email in emails:
            if email in seen:
                continue
            seen.add(email)
            drafts.append(
                Draft(
                    key=f"results:{state.plan_id}:{email}",
                    recipient=email,
                    stage="results",
                    message=message,
                    plan_id=state.plan_id,
                    unit_id=unit_id,
                    attachments=attachments,
                )
            )
    return drafts
