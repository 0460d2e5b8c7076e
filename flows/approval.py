"""The head unit's approval of the year's results, asked in the Prefect UI: the run shows the
decisions (a markdown artifact and the resume form's description) and waits for the answer.
A deployment run is suspended (no worker is held for the days an approval can take); a run
started in-process (no deployment) is paused for at most `PAUSE_SECONDS`."""

from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from operations.approval import Approval, Decided

PAUSE_SECONDS = 3600
POLL_SECONDS = 2


class ResultsApproval(RunInput):
    """The resume form of a close-year run waiting for the head unit."""

    approve: bool = Field(False, title="Phê duyệt kết quả")
    note: str = Field("", title="Ý kiến (bắt buộc khi không phê duyệt)", max_length=2000)
    by: str = Field("", title="Người phê duyệt (họ tên, chức vụ)", max_length=200)


def ask_head_unit(decision: Decided) -> Approval:
    """Show the decisions and wait for the head unit's answer; the run resumes with it."""
    create_markdown_artifact(
        key=f"phe-duyet-{decision.key}",
        markdown=decision.markdown,
        description=f"Kết quả năm {decision.year} chờ Trưởng khối phê duyệt",
    )
    form = ResultsApproval.with_initial_data(description=decision.markdown)  # no data given:
    # initial data would redeclare the fields without their titles and bounds
    key = f"phe-duyet-{decision.key}"
    run = FlowRunContext.get().flow_run
    if run.deployment_id:
        answer = suspend_flow_run(wait_for_input=form, key=key)
    else:
        answer = pause_flow_run(
            wait_for_input=form, timeout=PAUSE_SECONDS, poll_interval=POLL_SECONDS, key=key
        )
    note = answer.note.strip() or ("" if answer.approve else "không ghi lý do")
    approval = Approval(answer.approve, note, answer.by.strip() or "Prefect UI", datetime.now(UTC))
    if not approval.approved:
        get_run_logger().warning("Kết quả năm %s chưa được phê duyệt: %s", decision.year, note)
    return approval
