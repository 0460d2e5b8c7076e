"""Flow: collect submissions from configured HTTP sources (e.g. an online form's JSON or CSV
export), record the new ones, and publish the state of the bloc as a Prefect artifact."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import httpx
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.tasks import exponential_backoff
from sqlmodel import select

from config.settings import CollectSource, get_settings
from domain.dates import LocalInstant, fmt_instant
from flows.alerts import ALERTS
from flows.run_names import run_name
from models import queries
from models.db import open_database, session_scope
from models.overview import overview
from models.tables import Deadline, Submission, YearPlan
from operations.intake import take_submission


@task(
    name="Tải bản xuất của biểu mẫu",
    task_run_name="Tải {source.url}",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),  # 10 s, 20 s
)
def fetch(source: CollectSource) -> list[dict]:
    """The source's rows (retried with backoff: a form service may be briefly down)."""
    response = httpx.get(source.url, timeout=30, follow_redirects=True)
    response.raise_for_status()
    if source.format == "csv":
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    rows = response.json()
    return rows if isinstance(rows, list) else rows.get("rows", [])


def row_key(source: CollectSource, row: dict) -> str:
    return hashlib.sha256(
        f"{source.url}\n{json.dumps(row, sort_keys=True, ensure_ascii=False)}".encode()
    ).hexdigest()


@flow(name="collect-submissions", flow_run_name=run_name("Thu hồ sơ"), **ALERTS)
def collect_submissions(as_of: LocalInstant | None = None, dry_run: bool = False) -> list[dict]:
    """Record each new row of each source as a submission of its unit (channel "import").

    Args:
        as_of: Thời điểm ghi nhận cho các dòng không có giờ nộp, theo giờ Việt Nam (UTC+7);
            để trống là bây giờ.
        dry_run: Chạy thử: chỉ liệt kê hồ sơ mới trong bảng kết quả, không ghi nhận.
    """
    settings = get_settings()
    instant = as_of or datetime.now(UTC)
    logger = get_run_logger()
    imported: list[dict] = []
    with open_database(settings.resolved_database_url) as engine:
        for source in settings.collect_sources:
            rows = fetch(source)
            with session_scope(engine) as session:
                plan = session.exec(
                    select(YearPlan).where(YearPlan.state == "active", YearPlan.year == source.year)
                ).first()
                if plan is None:
                    logger.warning(
                        "không có kế hoạch năm %s đang thực hiện cho nguồn %s",
                        source.year,
                        source.url,
                    )
                    continue
                deadline = session.exec(
                    select(Deadline).where(
                        Deadline.plan_id == plan.id, Deadline.code == source.deadline
                    )
                ).one()
                units = {u.code: u for u in queries.plan_units(session=session, plan=plan)}
                seen = {
                    (s.data.get("source") or {}).get("key")
                    for s in session.exec(
                        select(Submission).where(
                            Submission.deadline_id == deadline.id, Submission.channel == "import"
                        )
                    )
                }
                for row in rows:
                    key = row_key(source, row)
                    unit = units.get(str(row.get(source.unit_field, "")).strip())
                    if key in seen:
                        continue
                    if unit is None:
                        imported.append(
                            {
                                "Đơn vị": str(row.get(source.unit_field)),
                                "Hạn nộp": deadline.title,
                                "Kết quả": "mã đơn vị không có trong kế hoạch",
                            }
                        )
                        continue
                    received = (
                        _received(row.get(source.time_field) if source.time_field else None)
                        or instant
                    )
                    if not dry_run:
                        take_submission(
                            session,
                            settings,
                            deadline=deadline,
                            unit=unit,
                            received_at=received,
                            channel="import",
                            data={"source": {"url": source.url, "key": key}, "row": row},
                        )
                    imported.append(
                        {
                            "Đơn vị": unit.name,
                            "Hạn nộp": deadline.title,
                            "Kết quả": f"ghi nhận lúc {fmt_instant(received)}",
                        }
                    )
                    seen.add(key)
        with session_scope(engine) as session:
            state = _state_table(session, instant)
    create_table_artifact(
        key="collect-submissions",
        table=imported or [{"Kết quả": "Không có hồ sơ mới"}],
        description=f"Hồ sơ thu thập lúc {fmt_instant(instant)}{' (chạy thử)' if dry_run else ''}",
    )
    create_table_artifact(
        key="submission-state", table=state, description="Tình hình nộp hồ sơ của các đơn vị"
    )
    logger.info("%d dòng mới", len(imported))
    return imported


def _received(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None  # a time without a zone is not trusted


def _state_table(session, as_of: datetime) -> list[dict]:
    """Where every unit of every active plan stands, as the secretariat's overview shows it
    (deadline titles, extensions included)."""
    table = []
    for plan in session.exec(select(YearPlan).where(YearPlan.state == "active")).all():
        view = overview(session, plan=plan, as_of=as_of)
        heads = [f"{column.title} (hạn cuối {column.last_day})" for column in view.columns]
        for row in view.rows:
            cells = [cell.text if cell else "—" for cell in row.cells]
            table.append({"Đơn vị": row.unit, **dict(zip(heads, cells, strict=True))})
    return table
