"""Flows run on a real (temporary) Prefect server and change the real database."""

import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlmodel import Session, select

from flows.plan import load_plan
from models.tables import YearPlan
from tests.conftest import EXAMPLE_PLAN, ROOT


def _artifacts(state, key: str) -> list[str]:
    """What the run that ended in `state` published under `key` (not another test's run: the
    Prefect server is shared by the session)."""
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    return [artifact.data for artifact in artifacts]


def test_load_plan_flow_loads_the_plan_and_reports_an_artifact(prefect_server, db, settings_for):
    settings_for(db)
    state = load_plan(str(EXAMPLE_PLAN), return_state=True)
    assert state.is_completed(), state.message
    with Session(db.engine) as session:
        assert session.exec(select(YearPlan)).one().year == 2020
    (report,) = _artifacts(state, "plan-bg-vhxh-2020")
    assert "Đã nạp kế hoạch năm 2020" in report
    again = load_plan(str(EXAMPLE_PLAN), return_state=True)
    assert again.result() == []
    (unchanged,) = _artifacts(again, "plan-bg-vhxh-2020")
    assert "Kế hoạch năm 2020 không có gì thay đổi." in unchanged


def test_load_plan_flow_fails_with_the_problems_and_writes_nothing(
    prefect_server, db, settings_for, plan_text, write_plan
):
    settings_for(db)
    path = write_plan(plan_text.replace("deputy: svhttdl", "deputy: stttt"))
    state = load_plan(str(path), return_state=True)
    assert state.is_failed()
    assert "deputy: Phó Trưởng khối phải khác Trưởng khối" in state.message
    with Session(db.engine) as session:
        assert session.exec(select(YearPlan)).all() == []


def test_every_prefect_yaml_entrypoint_is_a_flow():
    import importlib

    from prefect import Flow

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert config["deployments"]
    for deployment in config["deployments"]:
        file, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, name), Flow), deployment["name"]
        for schedule in deployment.get("schedules", []):
            assert schedule["timezone"] == "Asia/Ho_Chi_Minh", deployment["name"]


def test_publish_calendars_flow_turns_pending_into_overdue_with_time(
    prefect_server, db, settings_for
):
    from datetime import UTC, datetime

    from flows.feeds import publish_calendars
    from models.tables import Feed

    settings_for(db)
    assert load_plan(str(EXAMPLE_PLAN), return_state=True).is_completed()
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        plan.state = "active"
        session.add(plan)
        session.commit()
    before = publish_calendars(as_of=datetime(2020, 3, 1, tzinfo=UTC))
    assert len(before) == 1 + 9
    after = publish_calendars(as_of=datetime(2020, 3, 6, tzinfo=UTC))
    assert len(after) == 9  # the bloc feed has no status; every unit's registration is overdue
    with Session(db.engine) as session:
        body = session.exec(select(Feed.body).where(Feed.key.startswith("unit/"))).first()
    assert "[Quá hạn] Hạn nộp: Gửi đăng ký".encode() in body.replace(b"\r\n ", b"")
    assert publish_calendars(as_of=datetime(2020, 3, 7, tzinfo=UTC)) == []
