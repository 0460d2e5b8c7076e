"""The hooks every flow runs to tell the secretariat, through the outbox, of a run that fails
or crashes, and of a run that starts more than an hour after its scheduled time (the worker,
or the whole machine, was down).

Prefect's own email automations are a Cloud feature; a self-hosted site learns of a failed or
missed night run from these emails, which link to the run in the Prefect UI. A late run is
told when it finally starts: while the worker is down no flow can run to tell of it.
"""

import asyncio
from datetime import UTC, datetime

from prefect import Flow
from prefect.client.schemas.objects import FlowRun
from prefect.logging.loggers import flow_run_logger
from prefect.states import State
from prefect.utilities.urls import url_for

from config.settings import get_settings
from models.db import open_database, session_scope
from models.links import Links
from notifications.alerts import FailedRun, LateRun, failed_run_drafts, is_late, late_run_drafts
from notifications.mailer import send_outbox
from notifications.outbox import Draft, enqueue
from notifications.state import active_plan_states

TITLES = {  # flow name -> what it does, as the alert names it
    "load-plan": "nạp kế hoạch",
    "publish-calendars": "dựng lại lịch",
    "chase-submissions": "nhắc nộp hồ sơ",
    "open-round": "phát động đợt thi đua",
    "collect-submissions": "thu hồ sơ từ biểu mẫu trực tuyến",
    "compute-scores": "tính điểm và xếp hạng",
    "close-year": "kết thúc năm thi đua",
    "sync-schedules": "đặt lịch chạy theo kế hoạch",
    "pause-reminders": "tạm dừng nhắc hạn",
}


def alert_secretariat(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """Queue and send one alert per secretariat address for this failed or crashed run."""
    run = FailedRun(
        id=str(flow_run.id),
        name=flow_run.name,
        title=TITLES.get(flow.name, flow.name),
        at=state.timestamp or datetime.now(UTC),
        error=state.message or "",
        url=_url(flow_run),
        crashed=state.is_crashed(),
    )
    _send(flow, flow_run, lambda states: failed_run_drafts(states, run), "báo lỗi")


def alert_if_late(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """When the run starts more than an hour after its scheduled time, queue and send one
    alert per secretariat address. A run resumed after a pause counts from its first start."""
    started = flow_run.start_time or state.timestamp
    expected = flow_run.expected_start_time
    if expected is None or started is None or not is_late(expected, started):
        return
    run = LateRun(
        id=str(flow_run.id),
        name=flow_run.name,
        title=TITLES.get(flow.name, flow.name),
        expected=expected,
        started=started,
        url=_url(flow_run),
    )
    _send(flow, flow_run, lambda states: late_run_drafts(states, run), "báo chạy trễ")


def _url(flow_run: FlowRun) -> str:
    return url_for(flow_run) or f"(lần chạy {flow_run.id})"


def _send(flow: Flow, flow_run: FlowRun, decide, what: str) -> None:
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine:
        with session_scope(engine) as session:
            links = Links(settings.base_url, settings.signing_key())
            drafts: list[Draft] = decide(active_plan_states(session, links=links))
            stored = enqueue(session, drafts, domain=settings.mail_domain, as_of=datetime.now(UTC))
        asyncio.run(send_outbox(engine, settings))
    flow_run_logger(flow_run, flow).info("%s cho Văn phòng: %d thư mới", what, stored)


ALERT = [alert_secretariat]  # on_failure and on_crashed of every flow
ALERTS = {"on_failure": ALERT, "on_crashed": ALERT, "on_running": [alert_if_late]}
