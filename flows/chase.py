"""Flows that write to units: `open_round` announces rounds, `chase_submissions` reminds.

Both take `as_of` (default: now), `dry_run` (decide and show, store and send nothing) and
optional `deadline` / `unit` codes, so an admin can run them by hand from the Prefect UI.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from logging import Logger

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run
from prefect.tasks import exponential_backoff
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings, get_settings
from domain.dates import LocalInstant, fmt_instant
from flows.alerts import ALERTS
from flows.run_names import run_name
from models.db import open_database, session_scope
from models.links import Links
from notifications.drafts import (
    PlanState,
    digest_drafts,
    due_reminders,
    reminder_drafts,
    round_drafts,
)
from notifications.kinds import kind_name
from notifications.mailer import SendReport, send_outbox
from notifications.outbox import Draft, enqueue
from notifications.state import active_plan_states


def _only(
    drafts: list[Draft], state: PlanState, deadline: str | None, unit: str | None
) -> list[Draft]:
    deadline_ids = {d.id for d in state.deadlines if d.code == deadline}
    unit_ids = {u.id for u in state.units if u.code == unit}
    return [
        d
        for d in drafts
        if (deadline is None or d.deadline_id in deadline_ids)
        and (unit is None or d.unit_id in unit_ids)
    ]


def load_states(session: Session, settings: Settings) -> list[PlanState]:
    """The state of every active plan, as the decisions read it."""
    return active_plan_states(session, links=Links(settings.base_url, settings.signing_key()))


def decide_drafts(
    decide, state: PlanState, instant: datetime, deadline: str | None, unit: str | None
) -> list[Draft]:
    """The emails `decide` calls for now in this plan, limited to one deadline or unit."""
    return _only(decide(state, instant), state, deadline, unit)


def store_drafts(session: Session, drafts: list[Draft], settings: Settings, instant: datetime):
    """Put the emails not yet there into the outbox; returns how many were new."""
    return enqueue(session, drafts, domain=settings.mail_domain, as_of=instant)


def send_mail(engine: Engine, settings: Settings) -> SendReport:
    """Send what the outbox holds (also what an earlier run left), waiting for other senders."""
    return asyncio.run(send_outbox(engine, settings, wait_for_leases=True))


@dataclass(frozen=True)
class MailSteps:
    """The steps of a mail run: plain functions (the rehearsal, tests without Prefect), or the
    same functions as named Prefect tasks in a flow (`TASKS`)."""

    load: Callable = load_states
    decide: Callable = decide_drafts
    store: Callable = store_drafts
    send: Callable = send_mail


def _named(template: str):
    """A task run name from its parameters: `template` formatted with `year` and `count`."""

    def name() -> str:
        parameters = task_run.parameters
        state, drafts = parameters.get("state"), parameters.get("drafts", [])
        return template.format(year=state.year if state else "", count=len(drafts))

    return name


TASKS = MailSteps(
    load=task(
        load_states,
        name="Đọc tình hình kế hoạch",
        task_run_name="Đọc tình hình kế hoạch",
        cache_policy=NO_CACHE,
    ),
    decide=task(
        decide_drafts,
        name="Quyết định thư cần gửi",
        task_run_name=_named("Quyết định thư cần gửi — kế hoạch năm {year}"),
        cache_policy=NO_CACHE,
    ),
    store=task(
        store_drafts,
        name="Ghi thư vào hàng đợi",
        task_run_name=_named("Ghi {count} thư vào hàng đợi"),
        cache_policy=NO_CACHE,
    ),
    send=task(
        send_mail,
        name="Gửi thư",
        task_run_name="Gửi thư trong hàng đợi",
        retries=2,
        retry_delay_seconds=exponential_backoff(backoff_factor=30),  # 30 s, 60 s
        cache_policy=NO_CACHE,
    ),
)


def mail_run(
    decide,
    *,
    engine: Engine,
    settings: Settings,
    instant: datetime,
    log: Logger,
    dry_run: bool = False,
    deadline: str | None = None,
    unit: str | None = None,
    steps: MailSteps = MailSteps(),
) -> list[dict]:
    """The body of the mail flows: load the active plans, decide with `decide(state, instant)`,
    enqueue, send; one row per email decided."""
    rows: list[dict] = []
    with session_scope(engine) as session:
        for state in steps.load(session, settings):
            drafts = steps.decide(decide, state, instant, deadline, unit)
            stored = 0 if dry_run else steps.store(session, drafts, settings, instant)
            log.info(
                "kế hoạch %s: %d thư được quyết định, %d thư mới vào hàng đợi",
                state.year,
                len(drafts),
                stored,
            )
            names = {u.id: u.name for u in state.units}
            titles = {d.id: d.title for d in state.deadlines}
            rows += [
                {
                    "Đơn vị": names.get(d.unit_id, "Văn phòng khối"),
                    "Hạn nộp": titles.get(d.deadline_id, ""),
                    "Loại thư": kind_name(d.stage),
                    "Người nhận": d.recipient,
                    "Tiêu đề": d.message.subject,
                }
                for d in drafts
            ]
    if not dry_run:
        report = steps.send(engine, settings)
        log.info(
            "%s, hẹn gửi lại %d, lỗi %d", delivered(report, settings), report.retried, report.failed
        )
        if report.stopped:
            log.warning("%s (%d thư chưa gửi vẫn chờ)", report.stopped, report.held)
    return rows


def delivered(report: SendReport, settings: Settings) -> str:
    """What became of the mail: sent through the SMTP server, or only written as files."""
    if settings.smtp_url:
        return f"đã gửi {report.sent} thư qua máy chủ SMTP"
    return (
        f"đã ghi {report.sent} thư thành tệp .eml vào {settings.eml_dir} (chưa gửi đi: chưa đặt "
        "THIDUA_SMTP_URL)"
    )


def _run(decide, *, as_of, dry_run, deadline, unit, artifact_key: str, title: str) -> list[dict]:
    instant = as_of or datetime.now(UTC)
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine:
        rows = mail_run(
            decide,
            engine=engine,
            settings=settings,
            instant=instant,
            log=get_run_logger(),
            dry_run=dry_run,
            deadline=deadline,
            unit=unit,
            steps=TASKS,
        )
    publish_table(
        artifact_key,
        rows or [{"Kết quả": "Không có thư nào cần gửi"}],
        f"{title} lúc {fmt_instant(instant)}{' (chạy thử, không gửi)' if dry_run else ''}",
    )
    return rows


@task(name="Công bố bảng kết quả", task_run_name="Công bố bảng kết quả", cache_policy=NO_CACHE)
def publish_table(key: str, rows: list[dict], description: str) -> None:
    """The run's result as a table on its page in the Prefect UI (tab Artifacts)."""
    create_table_artifact(key=key, table=rows, description=description)


def chase_decisions(state: PlanState, instant: datetime) -> list[Draft]:
    """The reminders due now, then the daily digest."""
    drafts = [
        d
        for decision in due_reminders(state, instant)
        for d in reminder_drafts(state, decision, instant)
    ]
    return drafts + digest_drafts(state, instant)


@flow(name="chase-submissions", flow_run_name=run_name("Nhắc nộp"), **ALERTS)
def chase_submissions(
    as_of: LocalInstant | None = None,
    dry_run: bool = False,
    deadline: str | None = None,
    unit: str | None = None,
) -> list[dict]:
    """Remind every unit that has not submitted, at the stage due now; then the daily digest.

    Args:
        as_of: Tính như vào thời điểm này, theo giờ Việt Nam (UTC+7); để trống là bây giờ.
        dry_run: Chạy thử: chỉ liệt kê thư sẽ gửi trong bảng kết quả, không ghi và không gửi.
        deadline: Chỉ xét một hạn nộp, theo mã trong kế hoạch (ví dụ dang-ky); để trống là mọi hạn.
        unit: Chỉ xét một đơn vị, theo mã trong kế hoạch (ví dụ syt); để trống là mọi đơn vị.
    """

    return _run(
        chase_decisions,
        as_of=as_of,
        dry_run=dry_run,
        deadline=deadline,
        unit=unit,
        artifact_key="chase-submissions",
        title="Nhắc nộp hồ sơ",
    )


@flow(name="open-round", flow_run_name=run_name("Phát động đợt thi đua"), **ALERTS)
def open_round(
    as_of: LocalInstant | None = None,
    dry_run: bool = False,
    deadline: str | None = None,
    unit: str | None = None,
) -> list[dict]:
    """Announce each round in progress to every unit, once (also when a plan is activated late).

    Args:
        as_of: Tính như vào thời điểm này, theo giờ Việt Nam (UTC+7); để trống là bây giờ.
        dry_run: Chạy thử: chỉ liệt kê thư sẽ gửi trong bảng kết quả, không ghi và không gửi.
        deadline: Chỉ xét một hạn nộp, theo mã trong kế hoạch (ví dụ dang-ky); để trống là mọi hạn.
        unit: Chỉ xét một đơn vị, theo mã trong kế hoạch (ví dụ syt); để trống là mọi đơn vị.
    """
    return _run(
        round_drafts,
        as_of=as_of,
        dry_run=dry_run,
        deadline=deadline,
        unit=unit,
        artifact_key="open-round",
        title="Phát động đợt thi đua",
    )
