"""Schedules that follow the plans: `open-round` on the first office morning of each round,
`compute-scores` on the first office morning from the self-score deadline, and `close-year`
every morning (Monday to Saturday) from then until the plan is closed.

`sync_plan_schedules` makes those deployments' schedules match the active plans, one RRule
schedule (in Asia/Ho_Chi_Minh) per round, self-score deadline and year, named by its slug in
Vietnamese ("Phát động Đợt thi đua thứ hai — 01/07/2020 [bg-vhxh-2020-dot-2]"): the same plans
write nothing, an edited date moves its run, a plan no longer active loses its schedules. It
also gives the `deadline` and `unit` of the mail flows the plans' codes as choices
(flows/choices.py). It runs after a plan is loaded from the Prefect UI, when `thidua up`
starts, and daily.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_client, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.client.schemas.schedules import RRuleSchedule
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings, get_settings
from domain.dates import TZ, LocalInstant, fmt_date, fmt_instant, local_day
from domain.workdays import WorkCalendar
from flows.alerts import ALERTS
from flows.choices import plan_choices, sync_choices
from flows.run_names import run_name
from models.db import open_database
from models.links import Links
from models.tables import Bloc, Deadline, Round, YearPlan
from notifications import outbox
from notifications.drafts import PlanState
from notifications.state import active_plan_states, plan_state

OPEN_ROUND = "open-round"
COMPUTE_SCORES = "compute-scores"
CLOSE_YEAR = "close-year"
TIMEZONE = "Asia/Ho_Chi_Minh"
AFTER_OPENING = timedelta(minutes=15)  # runs start just inside office hours
CLOSE_AFTER_SCORES = timedelta(minutes=45)  # after the scores and the morning's reminders


@dataclass(frozen=True)
class PlanSchedule:
    """When one deployment runs for one round, deadline or year of a plan: at `times`, or
    (`daily`) each morning from the first of them. `key` identifies it across syncs, `title`
    says in Vietnamese what it serves."""

    deployment: str
    key: str
    title: str
    times: tuple[datetime, ...]
    parameters: dict = field(default_factory=dict, hash=False)
    daily: bool = False

    @property
    def slug(self) -> str:
        """The schedule's name in the Prefect UI (which shows a schedule by its slug; Prefect
        3.9 has no description for it): "Phát động Đợt thi đua thứ hai — 01/07/2020 [KEY]"."""
        return f"{self.title} [{self.key}]"

    @property
    def schedule(self) -> RRuleSchedule:
        # Naive local times, read in the schedule's time zone. DTSTART is given because the
        # server would add one (and a stored schedule must compare equal to a fresh one).
        local = [t.astimezone(TZ).strftime("%Y%m%dT%H%M%S") for t in self.times]
        rule = (
            "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR,SA" if self.daily else f"RDATE:{','.join(local)}"
        )
        return RRuleSchedule(rrule=f"DTSTART:{local[0]}\n{rule}", timezone=TIMEZONE)

    def describe(self) -> str:
        times = ", ".join(fmt_instant(t) for t in self.times)
        return f"hằng ngày (trừ Chủ nhật) từ {times}" if self.daily else times


def morning(calendar: WorkCalendar, day: date) -> datetime:
    """The start of office hours (plus a margin) on `day`, or on the next working day."""
    first = calendar.shift(day - timedelta(days=1), 1)
    return calendar.opening(first) + AFTER_OPENING


def schedule_key(slug: str | None) -> str | None:
    """The key at the end of a plan schedule's slug ("… [KEY]"), or None for any other slug."""
    if not slug or not slug.endswith("]") or " [" not in slug:
        return None
    return slug.rsplit(" [", 1)[1][:-1]


def open_round_times(
    state: PlanState, announced: set[tuple[int, int]], as_of: datetime
) -> list[tuple[Round, list[datetime]]]:
    """Each round with its first office morning; for a round under way that some unit has not
    been told of (a plan activated late), also the next office morning from `as_of`."""
    rounds = []
    for rnd in state.rounds:
        times = {morning(state.calendar, rnd.starts_on)}
        in_progress = rnd.starts_on <= local_day(as_of) <= rnd.ends_on
        if in_progress and any((rnd.id, unit.id) not in announced for unit in state.units):
            next_run = morning(state.calendar, local_day(as_of))
            if next_run <= as_of:
                next_run = morning(state.calendar, local_day(as_of) + timedelta(days=1))
            if local_day(next_run) <= rnd.ends_on:
                times.add(next_run)
        rounds.append((rnd, sorted(times)))
    return rounds


def compute_scores_times(state: PlanState) -> list[tuple[Deadline, datetime]]:
    """Each self-score deadline with the first office morning at or after it (due at 00:00 on
    D: D), earliest first."""
    times = []
    for deadline in state.deadlines:
        if deadline.kind != "self_score":
            continue
        due = deadline.due_at.astimezone(TZ)
        day = due.date() if due.time() <= state.calendar.opens else due.date() + timedelta(days=1)
        times.append((deadline, morning(state.calendar, day)))
    return sorted(times, key=lambda pair: pair[1])


def _announced(session: Session, plan: YearPlan) -> set[tuple[int, int]]:
    """(round id, unit id) pairs whose announcement is in the outbox (key `round:R:U:email`)."""
    keys = outbox.live_keys(session, plan_id=plan.id, prefix="round:")
    return {(int(k.split(":")[1]), int(k.split(":")[2])) for k in keys}


def plan_schedules(session: Session, *, links: Links, as_of: datetime) -> list[PlanSchedule]:
    """The schedules the active plans call for."""
    schedules = []
    plans = session.exec(select(YearPlan).where(YearPlan.state == "active").order_by(YearPlan.id))
    for plan in plans.all():
        state = plan_state(session, plan=plan, links=links)
        base = f"{session.get(Bloc, plan.bloc_id).code}-{plan.year}"
        for rnd, times in open_round_times(state, _announced(session, plan), as_of):
            title = f"Phát động {rnd.name} — {fmt_date(local_day(times[0]))}"
            schedules.append(PlanSchedule(OPEN_ROUND, f"{base}-{rnd.code}", title, tuple(times)))
        scoring = compute_scores_times(state)
        year = {"year": plan.year}
        for deadline, at in scoring:
            title = f"Tính điểm và xếp hạng năm {plan.year} — {fmt_date(local_day(at))}"
            key = f"{base}-{deadline.code}"
            schedules.append(PlanSchedule(COMPUTE_SCORES, key, title, (at,), year))
        if scoring:
            closing = scoring[0][1] + CLOSE_AFTER_SCORES
            title = f"Kết thúc năm thi đua {plan.year} — từ {fmt_date(local_day(closing))}"
            schedules.append(PlanSchedule(CLOSE_YEAR, base, title, (closing,), year, daily=True))
    return schedules


def sync_plan_schedules(engine: Engine, settings: Settings, *, as_of: datetime) -> list[dict]:
    """Make the plan-driven deployments' schedules, and the mail flows' choices of deadline and
    unit, match the active plans (through the Prefect API in PREFECT_API_URL); deployments not
    registered are skipped. Returns what it did to the schedules."""
    links = Links(settings.base_url, settings.signing_key())
    with Session(engine) as session:
        wanted = plan_schedules(session, links=links, as_of=as_of)
        choices = plan_choices(active_plan_states(session, links=links))
    report = []
    with get_client(sync_client=True) as client:
        sync_choices(client, choices)
        deployments = client.read_deployments(
            deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=[OPEN_ROUND, COMPUTE_SCORES, CLOSE_YEAR])
            )
        )
        for deployment in deployments:
            mine = {s.key: s for s in wanted if s.deployment == deployment.name}
            for existing in client.read_deployment_schedules(deployment.id):
                target = mine.pop(schedule_key(existing.slug), None)
                if target is None:  # a plan no longer active, or a schedule from elsewhere
                    client.delete_deployment_schedule(deployment.id, existing.id)
                    action = "xóa"
                elif (existing.slug, existing.schedule, existing.parameters) != (
                    target.slug,
                    target.schedule,
                    target.parameters,
                ):  # a moved date, a renamed round: the same schedule, updated
                    client.update_deployment_schedule(
                        deployment.id,
                        existing.id,
                        schedule=target.schedule,
                        parameters=target.parameters,
                        slug=target.slug,
                    )
                    action = "cập nhật"
                else:
                    action = "giữ nguyên"
                slug = target.slug if target else existing.slug
                report.append(_row(deployment.name, slug, target, action))
            if mine:
                client.create_deployment_schedules(
                    deployment.id,
                    [
                        DeploymentScheduleCreate(
                            schedule=s.schedule, active=True, slug=s.slug, parameters=s.parameters
                        )
                        for s in mine.values()
                    ],
                )
                report += [_row(deployment.name, s.slug, s, "tạo mới") for s in mine.values()]
    return report


def _row(deployment: str, slug: str | None, schedule: PlanSchedule | None, action: str) -> dict:
    times = schedule.describe() if schedule else "—"
    return {"Deployment": deployment, "Lịch": slug or "—", "Chạy lúc": times, "Thay đổi": action}


@flow(name="sync-schedules", flow_run_name=run_name("Đặt lịch theo kế hoạch"), **ALERTS)
def sync_schedules(as_of: LocalInstant | None = None) -> list[dict]:
    """Set the plan-driven schedules (open-round, compute-scores, close-year) from the plans.

    Args:
        as_of: Tính như vào thời điểm này, theo giờ Việt Nam (UTC+7); để trống là bây giờ.
    """
    settings = get_settings()
    instant = as_of or datetime.now(UTC)
    with open_database(settings.resolved_database_url) as engine:
        report = sync_plan_schedules(engine, settings, as_of=instant)
    get_run_logger().info("%d lịch theo kế hoạch", len(report))
    create_table_artifact(
        key="plan-schedules",
        table=report or [{"Kết quả": "Không có kế hoạch nào đang thực hiện"}],
        description=f"Lịch chạy theo kế hoạch lúc {fmt_instant(instant)}",
    )
    return report
