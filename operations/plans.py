"""Loading an edited plan file into force: the same steps for `thidua plan load` and the
secretariat's plan page. A preview tries the load and rolls it back (nothing is stored); an
apply loads (audited under the actor) and republishes the feeds, and is refused when the plan in
force changed since the preview.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from calendars.publish import publish_feeds
from config.settings import Settings
from domain.plan_changes import PlanChanges, plan_changes
from domain.plan_schema import PlanDocument
from models.next_plan import plan_yaml
from models.plan_file import PlanFile, parse_plan
from models.plan_store import LoadResult, PlanLoadError, load_plan
from models.tables import Bloc, YearPlan

STALE = (
    "Kế hoạch đang thực hiện đã thay đổi sau khi tệp này được kiểm tra (hoặc tệp đã được áp "
    "dụng rồi). Không có thay đổi nào được ghi. Hãy tải tệp lên và kiểm tra lại."
)


@dataclass(frozen=True)
class Preview:
    summary: PlanChanges  # dates moved, items added or removed
    changes: list[str]  # every change the load would make, as `thidua plan load` lists them


def load_and_publish(
    session: Session, settings: Settings, plan_file: PlanFile, *, actor: str, at: datetime
) -> LoadResult:
    """Load the plan file (audited under `actor`) and rebuild the feeds that changed."""
    result = load_plan(session, plan_file, actor=actor)
    publish_feeds(session, settings=settings, as_of=at)
    return result


def preview_plan(session: Session, plan: YearPlan, plan_file: PlanFile) -> Preview:
    """What loading `plan_file` would change in `plan`, tried in a savepoint rolled back;
    `PlanLoadError` when the file is not this plan's or cannot be loaded."""
    _same_plan(session, plan, plan_file.document)
    # The plan in force read back as the file it downloads as (the stored mapping keeps times
    # as "HH:MM:SS", which a plan file does not take).
    in_force = parse_plan(plan_yaml(plan.document).encode(), "kế hoạch đang thực hiện")
    summary = plan_changes(in_force, plan_file.document)
    nested = session.begin_nested()
    try:
        changes = load_plan(session, plan_file, actor="-").changes
    finally:
        nested.rollback()
    return Preview(summary, changes)


def apply_plan(
    session: Session,
    settings: Settings,
    plan: YearPlan,
    plan_file: PlanFile,
    *,
    previewed_against: str,
    actor: str,
    at: datetime,
) -> LoadResult:
    """Load `plan_file` into `plan` as previewed: refused (`PlanLoadError`) when the plan's
    content is no longer the one (`content_sha256`) the preview was made against."""
    locked = session.exec(select(YearPlan).where(YearPlan.id == plan.id).with_for_update()).one()
    if locked.content_sha256 != previewed_against:
        raise PlanLoadError(STALE)
    _same_plan(session, locked, plan_file.document)
    return load_and_publish(session, settings, plan_file, actor=actor, at=at)


def _same_plan(session: Session, plan: YearPlan, document: PlanDocument) -> None:
    bloc = session.get(Bloc, plan.bloc_id)
    if (document.bloc.code, document.year) != (bloc.code, plan.year):
        raise PlanLoadError(
            f"tệp là kế hoạch năm {document.year} của khối “{document.bloc.code}”, không phải "
            f"kế hoạch đang thực hiện năm {plan.year} của khối “{bloc.code}”"
        )
