"""Flow: close the year — the year-end vote, its count, the head unit's approval, the
documents, the results by email, the plan closed and next year's draft written. Run daily
from the annual report's deadline; each run does the next step once (see
operations/closing.py)."""

import asyncio
from datetime import UTC, datetime
from logging import Logger

from prefect import flow, get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.tasks import exponential_backoff
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from domain.dates import LocalInstant, fmt_instant
from flows.alerts import ALERTS
from flows.approval import ask_head_unit
from flows.chase import publish_table
from flows.run_names import run_name
from models.db import open_database, session_scope
from models.links import Links
from notifications.mailer import SendReport, send_outbox
from notifications.outbox import enqueue
from notifications.state import plan_state
from operations.approval import Approve
from operations.closing import advance, load_year, plans_to_close


@flow(name="close-year", flow_run_name=run_name("Kết thúc năm thi đua"), **ALERTS)
def close_year(
    year: int | None = None, as_of: LocalInstant | None = None, dry_run: bool = False
) -> list[dict]:
    """Advance the close of the year of every active plan (or of `year`) by one step.

    Args:
        year: năm kế hoạch (để trống: mọi kế hoạch đang thực hiện)
        as_of: thời điểm tính, theo giờ Việt Nam (UTC+7) (để trống: lúc bắt đầu chạy)
        dry_run: chạy thử: chỉ báo bước tiếp theo, không ghi, không gửi thư, không hỏi phê duyệt
    """
    instant = as_of or _started_at()
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine:
        rows = close_run(
            engine=engine,
            settings=settings,
            instant=instant,
            log=get_run_logger(),
            year=year,
            dry_run=dry_run,
            approve=ask_head_unit,
            send=SEND,
        )
    publish_table(
        "close-year",
        rows or [{"Kết quả": "Không có kế hoạch nào đang thực hiện"}],
        f"Kết thúc năm lúc {fmt_instant(instant)}{' (chạy thử)' if dry_run else ''}",
    )
    return rows


def _started_at() -> datetime:
    """When this run first started: a run resumed after an approval acts as of the moment it
    asked, so it reaches the same step and reads the answer."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(FlowRunContext.get().flow_run.id)
    return run.start_time or datetime.now(UTC)


def send_results(engine: Engine, settings: Settings) -> SendReport:
    """Send what the outbox holds: the step's emails, and any an earlier run left."""
    return asyncio.run(send_outbox(engine, settings))


SEND = task(
    send_results,
    name="Gửi thư",
    task_run_name="Gửi thư trong hàng đợi",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=30),  # 30 s, 60 s
    cache_policy=NO_CACHE,
)


def close_run(
    *,
    engine: Engine,
    settings: Settings,
    instant: datetime,
    log: Logger,
    approve: Approve,
    year: int | None = None,
    dry_run: bool = False,
    send=send_results,
) -> list[dict]:
    """The body of the flow: one step of each plan's close, its emails sent (by `send`: in a
    flow, a task); `approve` gives the head unit's answer on the decisions after the count."""
    rows = []
    with session_scope(engine) as session:
        links = Links(settings.base_url, settings.signing_key())
        for plan in plans_to_close(session, year=year):
            state = plan_state(session, plan=plan, links=links)
            step = advance(
                session,
                load_year(session, plan=plan, state=state),
                as_of=instant,
                settings=settings,
                dry_run=dry_run,
                approve=approve,
            )
            if dry_run:
                session.rollback()
            else:
                enqueue(session, step.drafts, domain=settings.mail_domain, as_of=instant)
            log.info("năm %s: %s — %s", plan.year, step.name, step.detail)
            rows.append(
                {
                    "Năm": plan.year,
                    "Bước": step.name,
                    "Chi tiết": step.detail,
                    "Thư": len(step.drafts),
                    "Tệp": ", ".join(f.name for f in step.files),
                }
            )
    if not dry_run:
        send(engine, settings)
    return rows
