"""Flows that write to units: `open_round` announces rounds, `chase_submissions` reminds.

Both take `as_of` (default: now), `dry_run` (decide and show, store and send nothing) and
optional `deadline` / `unit` codes, so an admin can run them by hand from the Prefect UI.
"""

import asyncio
from datetime import UTC, datetime
from logging import Logger

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from domain.dates import LocalInstant, fmt_instant
from flows.alerts import ALERTS
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
) -> list[dict]:
    """The body of the mail flows: load the active plans, decide with `decide(state, instant)`,
    enqueue, send; one row per email decided."""
    rows: list[dict] = []
    with session_scope(engine) as session:
        links = Links(settings.base_url, settings.signing_key())
        for state in active_plan_states(session, links=links):
            drafts = _only(decide(state, instant), state, deadline, unit)
            stored = (
                0
                if dry_run
                else enqueue(session, drafts, domain=settings.mail_domain, as_of=instant)
            )
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
        report = asyncio.run(send_outbox(engine, settings, wait_for_leases=True))
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
        )
    create_table_artifact(
        key=artifact_key,
        table=rows or [{"Kết quả": "Không có thư nào cần gửi"}],
        description=f"{title} lúc {fmt_instant(instant)}{' (chạy thử, không gửi)' if dry_run else ''}",
    )
    return rows


def chase_decisions(state: PlanState, instant: datetime) -> list[Draft]:
    """The reminders due now, then the daily digest."""
    drafts = [
        d
        for decision in due_reminders(state, instant)
        for d in reminder_drafts(state, decision, instant)
    ]
    return drafts + digest_drafts(state, instant)


@flow(name="chase-submissions", **ALERTS)
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


@flow(name="open-round", **ALERTS)
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
