"""Flow: pause the reminders of the active plan, or of one unit, from the Prefect UI (a lockdown,
an extra day off). The chase skips the paused days and resumes by itself the day after; the
same rules and audit as `thidua deadline pause` and the workspace's form."""

from datetime import UTC, date, datetime

from prefect import flow, get_run_logger
from sqlmodel import select

from config.settings import get_settings
from flows.alerts import ALERTS
from flows.run_names import run_name
from models.db import open_database, session_scope
from models.pauses import PauseRefused, add_pause
from models.tables import YearPlan


class PauseNotStored(RuntimeError):
    """The run's failure: why nothing was stored, in Vietnamese."""


@flow(name="pause-reminders", flow_run_name=run_name("Tạm dừng nhắc"), **ALERTS)
def pause_reminders(
    starts_on: date | None = None,
    ends_on: date | None = None,
    reason: str = "",
    unit: str | None = None,
    year: int | None = None,
    actor: str = "prefect-ui",
) -> str:
    """Store the pause (audited under `actor`); returns the confirmation. A refusal fails the
    run with every reason and stores nothing.

    Args:
        starts_on: Tạm dừng nhắc từ ngày (tính cả ngày này).
        ends_on: Đến hết ngày; từ ngày hôm sau việc nhắc tự tiếp tục, không gửi bù.
        reason: Lý do tạm dừng (bắt buộc), ghi vào nhật ký thay đổi.
        unit: Chỉ tạm dừng cho đơn vị này (mã); để trống là cả khối.
        year: Năm của kế hoạch đang thực hiện; để trống khi chỉ có một kế hoạch.
        actor: Tên người yêu cầu, ghi vào nhật ký thay đổi.
    """
    settings = get_settings()
    with open_database(settings.resolved_database_url) as engine, session_scope(engine) as session:
        plan = _active_plan(session, year)
        try:
            message = add_pause(
                session,
                plan=plan,
                unit_code=unit,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=reason,
                actor=actor,
                at=datetime.now(UTC),
            )
        except PauseRefused as error:
            raise PauseNotStored(" ".join(error.errors) + " Chưa ghi gì.") from None
    get_run_logger().info(message)
    return message


def _active_plan(session, year: int | None) -> YearPlan:
    """The active plan of `year`, or the only active plan when no year is given."""
    query = select(YearPlan).where(YearPlan.state == "active")
    plans = session.exec(query.where(YearPlan.year == year) if year else query).all()
    if len(plans) == 1:
        return plans[0]
    if plans:
        years = ", ".join(str(p.year) for p in sorted(plans, key=lambda p: p.year))
        raise PauseNotStored(f"Năm: có nhiều kế hoạch đang thực hiện ({years}); hãy chọn năm.")
    wanted = f" năm {year}" if year else ""
    raise PauseNotStored(f"Năm: không có kế hoạch{wanted} đang thực hiện; chưa ghi gì.")
