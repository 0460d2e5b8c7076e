"""Flow: rebuild the calendar feeds (daily, since "Chưa nộp" turns into "Quá hạn" with time)."""

from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from calendars.publish import publish_feeds
from config.settings import Settings, get_settings
from domain.dates import LocalInstant
from flows.alerts import ALERTS
from flows.run_names import run_name
from models.db import open_database, session_scope


@task(
    name="Dựng và lưu các lịch",
    task_run_name="Dựng và lưu các lịch",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),  # 10 s, 20 s: the file store
    cache_policy=NO_CACHE,
)
def rebuild_feeds(settings: Settings, instant: datetime) -> list[str]:
    """Rebuild every feed and store those that changed; returns their keys."""
    with open_database(settings.resolved_database_url) as engine, session_scope(engine) as session:
        return publish_feeds(session, settings=settings, as_of=instant)


@flow(name="publish-calendars", flow_run_name=run_name("Dựng lại lịch"), **ALERTS)
def publish_calendars(as_of: LocalInstant | None = None) -> list[str]:
    """Rebuild every feed as of `as_of` (default: now); returns the keys of the feeds that changed.

    Args:
        as_of: Dựng lịch với trạng thái tại thời điểm này, theo giờ Việt Nam (UTC+7); để trống
            là bây giờ.
    """
    changed = rebuild_feeds(get_settings(), as_of or datetime.now(UTC))
    get_run_logger().info("%d lịch được cập nhật", len(changed))
    return changed
