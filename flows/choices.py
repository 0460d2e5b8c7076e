"""The run form's choices: `deadline` and `unit` of the mail flows (and `unit` of the pause)
list the active plans' codes.

Prefect draws a select box for a parameter whose schema has an `enum`; `sync_choices` writes
the codes into the deployments' parameter schemas (as `prefect deploy` would for a `Literal`),
with "code — title" pairs in the description, whenever the plan-driven schedules are synced.
"""

import copy

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.utilities.callables import parameter_schema

from flows.chase import chase_submissions, open_round
from flows.pause import pause_reminders
from notifications.drafts import PlanState

CHOOSING = {  # deployment = flow name
    flow.name: flow for flow in (chase_submissions, open_round, pause_reminders)
}
CHOICES_HEADING = "Các mã trong kế hoạch đang thực hiện:"


def plan_choices(states: list[PlanState]) -> dict[str, dict[str, str]]:
    """Parameter -> {code: title} of the plans' deadlines (not cancelled) and member units."""
    deadlines: dict[str, str] = {}
    units: dict[str, str] = {}
    for state in states:
        for deadline in state.deadlines:
            if not deadline.cancelled:
                deadlines.setdefault(deadline.code, deadline.title)
        for unit in state.units:
            units.setdefault(unit.code, unit.name)
    return {"deadline": deadlines, "unit": units}


def with_choices(schema: dict, choices: dict[str, dict[str, str]]) -> dict:
    """`schema` (a flow's parameter schema) with each parameter of `choices` limited to its
    codes (or empty), the codes and titles listed in its description."""
    schema = copy.deepcopy(schema)
    for name, titles in choices.items():
        field = schema["properties"].get(name)
        if field is None or not titles:
            continue
        field["anyOf"] = [{"type": "string", "enum": list(titles)}, {"type": "null"}]
        # One line: the Prefect UI shows a description as plain text, without its line breaks.
        lines = "; ".join(f"{code} — {title}" for code, title in titles.items())
        field["description"] = f"{field.get('description', '')}\n\n{CHOICES_HEADING} {lines}."
    return schema


def sync_choices(client: SyncPrefectClient, choices: dict[str, dict[str, str]]) -> list[str]:
    """Write `choices` into the parameter schema of each registered mail deployment whose
    schema differs; returns the names of the deployments updated."""
    deployments = client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=list(CHOOSING)))
    )
    updated = []
    for deployment in deployments:
        base = parameter_schema(CHOOSING[deployment.name]).model_dump_for_openapi()
        wanted = with_choices(base, choices)
        if deployment.parameter_openapi_schema != wanted:
            client.update_deployment(
                deployment.id, DeploymentUpdate(parameter_openapi_schema=wanted)
            )
            updated.append(deployment.name)
    return updated
