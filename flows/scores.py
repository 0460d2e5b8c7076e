"""Flow: compute the scores and the ranking (after the annual report's deadline, or by hand),
as a Prefect table artifact and the score table (.xlsx) in the data folder."""

from datetime import UTC, datetime
from logging import Logger

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from documents.text import points
from domain.dates import LocalInstant, fmt_instant
from flows.alerts import ALERTS
from flows.chase import publish_table
from flows.run_names import run_name
from models.db import open_database, session_scope
from models.links import Links
from notifications.state import plan_state
from operations.closing import load_year, plans_to_close
from operations.year_end_documents import documents_folder, save_score_table, score_table

SAVE = task(
    save_score_table,
    name="Ghi bảng điểm (Excel)",
    task_run_name="Ghi bảng điểm năm {year.plan.year}",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),  # 10 s, 20 s: the file store
    cache_policy=NO_CACHE,
)


@flow(name="compute-scores", flow_run_name=run_name("Tính điểm và xếp hạng"), **ALERTS)
def compute_scores(
    year: int | None = None, as_of: LocalInstant | None = None, dry_run: bool = False
) -> list[dict]:
    """Rank the member units of every active plan (or of `year`) by their final scores.

    Args:
        year: năm kế hoạch (để trống: mọi kế hoạch đang thực hiện)
        as_of: thời điểm tính, ghi trên bảng, theo giờ Việt Nam (UTC+7) (để trống: bây giờ)
        dry_run: chạy thử: chỉ hiện bảng xếp hạng, không ghi tệp Excel
    """
    instant = as_of or datetime.now(UTC)
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine:
        rows = scores_run(
            engine=engine,
            settings=settings,
            instant=instant,
            log=get_run_logger(),
            year=year,
            dry_run=dry_run,
            save=SAVE,
        )
    publish_table(
        "compute-scores",
        rows or [{"Kết quả": "Không có kế hoạch nào đang thực hiện"}],
        f"Xếp hạng thi đua lúc {fmt_instant(instant)}",
    )
    return rows


def scores_run(
    *,
    engine: Engine,
    settings: Settings,
    instant: datetime,
    log: Logger,
    year: int | None = None,
    dry_run: bool = False,
    save=save_score_table,
) -> list[dict]:
    """The body of the flow: the ranking rows, and the score table written (by `save`: in a
    flow, a task)."""
    rows: list[dict] = []
    with session_scope(engine) as session:
        links = Links(settings.base_url, settings.signing_key())
        for plan in plans_to_close(session, year=year):
            year_end = load_year(
                session, plan=plan, state=plan_state(session, plan=plan, links=links)
            )
            table = score_table(year_end)
            rows += [
                {
                    "Năm": plan.year,
                    "Hạng": r.rank,
                    "Đơn vị": r.unit_name,
                    "Tự chấm": points(r.self_total),
                    "Điểm trừ": points(r.penalty),
                    "Tổng điểm": points(r.total),
                    "Ghi chú": r.note,
                }
                for r in table.results
            ]
            unverified = [s.unit for s in year_end.scores if not s.verified]
            if unverified:
                log.warning("chưa thẩm định xong: %s", ", ".join(unverified))
            if not dry_run:
                folder = documents_folder(settings.data_dir, year_end)
                path = save(year_end, table, folder=folder)
                log.info("bảng điểm: %s", path)
    return rows
