"""The hook every flow runs when it fails or crashes: email the secretariat through the outbox.

Prefect's own email automations are a Cloud feature; a self-hosted site learns of a failed
night run from this email, which links to the run in the Prefect UI and quotes the error.
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
from notifications.alerts import FailedRun, failed_run_drafts
from notifications.mailer import send_outbox
from notifications.outbox import enqueue
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
}


def alert_secretariat(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """Queue and send one alert per secretariat address for this failed or crashed run."""
    settings = get_settings()
    run = FailedRun(
        id=str(flow_run.id),
        name=flow_run.name,
        title=TITLES.get(flow.name, flow.name),
        at=state.timestamp or datetime.now(UTC),
        error=state.message or "",
        url=url_for(flow_run) or f"(lần chạy {flow_run.id})",
        crashed=state.is_crashed(),
    )
    with open_database(settings.resolved_database_url) as engine:
        with session_scope(engine) as session:
            links = Links(settings.base_url, settings.signing_key())
            drafts = failed_run_drafts(active_plan_states(session, links=links), run)
            stored = enqueue(session, drafts, domain=settings.mail_domain, as_of=datetime.now(UTC))
        asyncio.run(send_outbox(engine, settings))
    flow_run_logger(flow_run, flow).info("báo lỗi cho Văn phòng: %d thư mới", stored)


ALERT = [alert_secretariat]  # on_failure and on_crashed of every flow
