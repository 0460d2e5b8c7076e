"""Flow: rebuild the calendar feeds (daily, since "Chưa nộp" turns into "Quá hạn" with time)."""

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from calendars.publish import publish_feeds
from config.settings import get_settings
from domain.dates import LocalInstant
from flows.alerts import ALERTS
from models.db import open_database, session_scope


@flow(name="publish-calendars", **ALERTS)
def publish_calendars(as_of: LocalInstant | None = None) -> list[str]:
    """Rebuild every feed as of `as_of` (default: now); returns the keys of the feeds that changed.

    Args:
        as_of: Dựng lịch với trạng thái tại thời điểm này, theo giờ Việt Nam (UTC+7); để trống
            là bây giờ.
    """
    instant = as_of or datetime.now(UTC)
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine, session_scope(engine) as session:
        changed = publish_feeds(session, settings=settings, as_of=instant)
    get_run_logger().info("%d lịch được cập nhật", len(changed))
    return changed
