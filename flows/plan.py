"""Flow: load (or reload) a plan file, so an admin can apply an edited plan from the Prefect UI."""

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from config.settings import get_settings
from flows.alerts import ALERTS
from flows.run_names import run_name
from flows.schedules import sync_plan_schedules
from models.db import open_database, session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan as store_plan


@flow(name="load-plan", flow_run_name=run_name("Nạp kế hoạch"), log_prints=False, **ALERTS)
def load_plan(path: str = "plans/bac-giang-vhxh-2020.yaml", actor: str = "prefect") -> list[str]:
    """Validate the plan file at `path` and upsert it; returns the changes (empty if none).

    An invalid file fails the run with every problem listed (file:line: field: message) and
    writes nothing.

    Args:
        path: Tệp kế hoạch YAML trên máy chủ, đường dẫn tính từ thư mục dự án.
        actor: Tên người nạp, ghi vào nhật ký thay đổi.
    """
    logger = get_run_logger()
    plan_file = read_plan(Path(path))
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine:
        with session_scope(engine) as session:
            result = store_plan(session, plan_file, actor=actor)
        sync_plan_schedules(engine, settings, as_of=datetime.now(UTC))  # a moved date moves its run
    doc = plan_file.document
    if result.created:
        summary = f"Đã nạp kế hoạch năm {doc.year} của {doc.bloc.name}."
    elif result.changes:
        summary = f"Đã cập nhật kế hoạch năm {doc.year}: {len(result.changes)} thay đổi."
    else:
        summary = f"Kế hoạch năm {doc.year} không có gì thay đổi."
    logger.info(summary)
    lines = "\n".join(f"- {change}" for change in result.changes)
    create_markdown_artifact(
        key=f"plan-{doc.bloc.code}-{doc.year}",
        markdown=f"## {doc.title}\n\n{summary}\n\n{lines}",
        description="Kết quả nạp kế hoạch",
    )
    return result.changes
