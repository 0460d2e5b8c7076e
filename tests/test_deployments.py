"""prefect.yaml on a real Prefect server: what every deployment registers, a run started
through the API (as the UI does) completing on a process worker, schedules that follow the
plan, and runs missed during downtime caught up once."""

import email
import email.policy
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL
from prefect.states import Late
from sqlmodel import Session, select

from config.settings import get_settings
from domain.dates import TZ
from flows.chase import chase_submissions, open_round
from flows.close import close_year
from flows.schedules import morning, schedule_key, sync_plan_schedules
from models.db import make_engine, session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import OutboxMessage, YearPlan
from tests.conftest import EXAMPLE_PLAN, ROOT, Database, RecordingHandler, free_port
from thidua.service import DEPLOY, WORK_POOL, ensure_work_pool

CONFIG = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
SPECS = {spec["name"]: spec for spec in CONFIG["deployments"]}
MAIL_PARAMETERS = {"as_of": None, "dry_run": False, "deadline": None, "unit": None}
STATIC_SCHEDULES = {  # deployment -> its cron in Asia/Ho_Chi_Minh
    "publish-calendars": "5 0 * * *",
    "chase-submissions": "0 8 * * 1-6",
    "collect-submissions": "0 * * * *",
    "sync-schedules": "10 0 * * *",
}
PLAN_DRIVEN = {"open-round", "compute-scores", "close-year"}  # set by flows/schedules.py
FOCAL_EMAILS = 10  # nine units, one of them with two addresses
OPENINGS = [  # the open-round schedules of the example plan, as the Prefect UI names them
    "Phát động Đợt thi đua thứ hai — 01/07/2020 [bg-vhxh-2020-dot-2]",
    "Phát động Đợt thi đua thứ nhất — 02/01/2020 [bg-vhxh-2020-dot-1]",
]


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture(scope="module")
def deployed(prefect_server) -> dict:
    """prefect.yaml deployed to the test server as `thidua up` does it; name -> deployment."""
    ensure_work_pool()
    result = subprocess.run(
        DEPLOY,
        cwd=ROOT,
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments()}


def _work_once(env: dict[str, str]) -> str:
    """A process worker of the pool that takes the runs due now, runs them and exits."""
    result = subprocess.run(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL]
        + ["--run-once", "--limit", "5"],
        cwd=ROOT,
        env={**os.environ, **env, "PREFECT_API_URL": PREFECT_API_URL.value()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _activate(db) -> None:
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"


@pytest.fixture(scope="module")
def after_downtime(deployed, templates, tmp_path_factory):
    """One pass of a process worker when the server is back, on a database with the example
    plan active: the chase runs of three missed mornings are Late, and a load-plan run was
    started through the API as the UI's "Quick run" does (the deployment's defaults)."""
    from aiosmtpd.controller import Controller

    folder = tmp_path_factory.mktemp("downtime")
    shutil.copy(templates["sqlite"], folder / "thidua.db")
    url = f"sqlite:///{folder / 'thidua.db'}"
    db = Database(url, make_engine(url), folder, {"THIDUA_DATABASE_URL": url})
    db.env["THIDUA_DATA_DIR"] = str(folder)
    _activate(db)
    smtp = Controller(RecordingHandler(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    extra = {
        "THIDUA_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "THIDUA_PUBLIC_URL": "https://x.vn",
    }
    # Prefect's clock is today's: the runs carry the moment the server came back as `as_of`.
    back = _local(2020, 2, 27, 10, 0)  # Thursday; the missed mornings were Mon, Tue, Wed
    now = datetime.now(UTC)
    with get_client(sync_client=True) as client:
        late = [
            client.create_flow_run_from_deployment(
                deployed["chase-submissions"].id,
                parameters={"as_of": back.isoformat()},
                state=Late(scheduled_time=now - timedelta(days=days)),
            )
            for days in (3, 2, 1)
        ]
        quick = client.create_flow_run_from_deployment(deployed["load-plan"].id)
        typed = client.create_flow_run_from_deployment(  # a time typed without an offset
            deployed["open-round"].id, parameters={"as_of": "2020-03-04T09:00:00", "dry_run": True}
        )
    _work_once({**db.env, **extra})
    with get_client(sync_client=True) as client:
        yield SimpleNamespace(
            db=db,
            extra=extra,
            back=back,
            mail=smtp.handler,
            late=[client.read_flow_run(run.id).state for run in late],
            quick=client.read_flow_run(quick.id).state,
            typed=client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[typed.id]))
            ),
        )
    smtp.stop()
    db.engine.dispose()


def test_every_deployment_runs_from_the_project_on_the_pool_with_described_parameters(deployed):
    assert set(SPECS) <= set(deployed)
    for name, spec in SPECS.items():
        deployment = deployed[name]
        assert deployment.work_pool_name == WORK_POOL, name
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ], name
        assert deployment.parameters == spec.get("parameters", {}), name
        schema = deployment.parameter_openapi_schema["properties"]
        assert set(schema) == set(deployment.parameters), f"{name}: every parameter has a default"
        for parameter, field in schema.items():
            assert field.get("description"), f"{name}.{parameter} needs an Args: line"
        assert deployment.description, name
    for name in ("chase-submissions", "open-round"):
        assert deployed[name].parameters == MAIL_PARAMETERS


def test_schedules_are_in_vietnam_time_and_missed_runs_are_not_repeated(deployed):
    for name, cron in STATIC_SCHEDULES.items():
        (schedule,) = deployed[name].schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "Asia/Ho_Chi_Minh")
        assert schedule.active and schedule.slug, name
    for name in PLAN_DRIVEN:
        assert all(schedule_key(s.slug) for s in deployed[name].schedules), name
    for name in set(STATIC_SCHEDULES) | PLAN_DRIVEN:
        assert deployed[name].global_concurrency_limit.limit == 1, name
        assert (
            deployed[name].concurrency_options.collision_strategy
            == ConcurrencyLimitStrategy.CANCEL_NEW
        ), name


def test_calendars_are_published_when_a_plan_load_completes(deployed):
    with get_client(sync_client=True) as client:
        automations = client.read_automations()
    target = deployed["publish-calendars"].id
    (publish,) = [
        a
        for a in automations
        if any(getattr(x, "deployment_id", None) == target for x in a.actions)
    ]
    assert publish.enabled
    assert publish.trigger.expect == {"prefect.flow-run.Completed"}
    assert publish.trigger.match_related.root == {
        "prefect.resource.role": "flow",
        "prefect.resource.name": "load-plan",
    }


def test_a_run_started_from_the_api_completes_on_a_worker(after_downtime, deployed):
    assert after_downtime.quick.is_completed(), after_downtime.quick.message
    with Session(after_downtime.db.engine) as session:  # the default path is relative: the
        assert session.exec(select(YearPlan)).one().year == 2020  # run found plans/ there
    with get_client(sync_client=True) as client:  # and loading the plan set its schedules
        schedules = client.read_deployment_schedules(deployed["open-round"].id)
    assert sorted(s.slug for s in schedules) == OPENINGS


def test_a_time_typed_without_an_offset_in_the_run_form_is_vietnam_time(after_downtime):
    """The UI sends `as_of` as typed ("2020-03-04T09:00:00"): the run acts at 09:00 +07."""
    (artifact,) = after_downtime.typed
    assert (
        artifact.description == "Phát động đợt thi đua lúc 09:00 04/03/2020 (chạy thử, không gửi)"
    )


def test_runs_missed_during_downtime_catch_up_once(after_downtime, settings_for):
    """The worker takes the Late runs at once: one sends each reminder now due, and tells the
    secretariat it ran late; the others are cancelled (the deployment runs one at a time);
    running again sends nothing."""
    assert sorted(state.type.value for state in after_downtime.late) == [
        "CANCELLED",
        "CANCELLED",
        "COMPLETED",
    ]
    received = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in after_downtime.mail.accepted
    ]
    reminders = [m for m in received if "Nhắc hạn" in m["Subject"]]
    assert len(reminders) == FOCAL_EMAILS  # Monday's before-7 reminder, once to each address
    (late,) = [m for m in received if "chạy trễ" in m["Subject"]]  # days late: told once
    assert late["To"] == "dongbl.stttt@bacgiang.gov.vn.example"
    assert len({m["Message-ID"] for m in received}) == len(received) == FOCAL_EMAILS + 2

    settings_for(after_downtime.db, **after_downtime.extra)
    chase_submissions(as_of=after_downtime.back)  # the same run again, and the next hour's
    chase_submissions(as_of=after_downtime.back + timedelta(hours=1))
    assert len(after_downtime.mail.accepted) == FOCAL_EMAILS + 2
    with Session(after_downtime.db.engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == FOCAL_EMAILS + 2


def test_morning_is_the_next_office_opening_on_a_working_day():
    from domain.workdays import vietnam_calendar

    calendar = vietnam_calendar([2020])
    cases = {
        _local(2020, 1, 1).date(): _local(2020, 1, 2, 7, 45),  # New Year's Day
        _local(2020, 1, 23).date(): _local(2020, 1, 30, 7, 45),  # Tết
        _local(2020, 7, 4).date(): _local(2020, 7, 6, 7, 45),  # a Saturday
        _local(2020, 12, 10).date(): _local(2020, 12, 10, 7, 45),
    }
    for day, expected in cases.items():
        assert morning(calendar, day) == expected, day


def test_plan_schedules_follow_the_plan_and_only_change_with_it(
    deployed, db, settings_for, plan_text, write_plan
):
    settings_for(db)
    settings = get_settings()
    _activate(db)

    def sync(as_of: datetime) -> dict:
        report = sync_plan_schedules(db.engine, settings, as_of=as_of)
        with get_client(sync_client=True) as client:
            schedules = {
                name: {
                    schedule_key(s.slug): s
                    for s in client.read_deployment_schedules(deployed[name].id)
                }
                for name in PLAN_DRIVEN
            }
        return {"report": report, **schedules}

    after_year = _local(2021, 1, 5, 9, 0)
    first = sync(after_year)
    assert sorted(s.slug for s in first["open-round"].values()) == OPENINGS
    opening = first["open-round"]["bg-vhxh-2020-dot-2"]  # one schedule per round
    assert opening.schedule.rrule == "DTSTART:20200701T074500\nRDATE:20200701T074500"
    assert opening.schedule.timezone == "Asia/Ho_Chi_Minh"
    scores = first["compute-scores"]["bg-vhxh-2020-tong-ket"]  # the morning the self-score
    assert (scores.slug, scores.schedule.rrule, scores.parameters) == (  # deadline falls due
        "Tính điểm và xếp hạng năm 2020 — 10/12/2020 [bg-vhxh-2020-tong-ket]",
        "DTSTART:20201210T074500\nRDATE:20201210T074500",
        {"year": 2020},
    )
    closing = first["close-year"]["bg-vhxh-2020"]  # then every morning but Sunday, until closed
    assert (closing.slug, closing.schedule.rrule, closing.parameters) == (
        "Kết thúc năm thi đua 2020 — từ 10/12/2020 [bg-vhxh-2020]",
        "DTSTART:20201210T083000\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR,SA",
        {"year": 2020},
    )

    again = sync(after_year)  # same plan: nothing written
    assert {row["Thay đổi"] for row in again["report"]} == {"giữ nguyên"}
    assert again["open-round"]["bg-vhxh-2020-dot-2"].updated == opening.updated

    edited = plan_text.replace("start: 2020-07-01", "start: 2020-07-06")
    edited = edited.replace("name: Đợt thi đua thứ hai", "name: Đợt thi đua cuối năm")
    assert edited.count("2020-07-06") == 1 and "cuối năm" in edited
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(edited)), actor="test")
    moved = sync(after_year)["open-round"]["bg-vhxh-2020-dot-2"]  # the same schedule, renamed
    assert moved.id == opening.id
    assert moved.slug == "Phát động Đợt thi đua cuối năm — 06/07/2020 [bg-vhxh-2020-dot-2]"
    assert moved.schedule.rrule.endswith("RDATE:20200706T074500")

    # activated mid-round, round 1 not announced yet: also the next office morning
    late = sync(_local(2020, 2, 24, 10, 0))["open-round"]["bg-vhxh-2020-dot-1"]
    assert late.schedule.rrule.endswith("RDATE:20200102T074500,20200225T074500")
    assert late.slug == OPENINGS[1]  # named by the round's opening, not the catch-up
    settings_for(db, THIDUA_PUBLIC_URL="https://thidua.example.gov.vn")
    open_round(as_of=_local(2020, 2, 25, 7, 45))  # the announcement goes out (as .eml files)
    announced = sync(_local(2020, 2, 25, 9, 0))["open-round"]["bg-vhxh-2020-dot-1"]
    assert announced.schedule.rrule.endswith("RDATE:20200102T074500")

    with session_scope(db.engine) as session:
        session.exec(select(YearPlan)).one().state = "closed"
    closed = sync(after_year)
    assert all(closed[name] == {} for name in PLAN_DRIVEN)


def test_plan_changes_from_the_cli_reach_the_prefect_schedules_at_once(
    deployed, db, settings_for, plan_text, write_plan
):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(plan_text)), actor="test")
    db.env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    activated = db.cli("plan", "activate", "--past", check=True)
    assert "Lịch chạy trên Prefect theo kế hoạch: 4 thay đổi." in activated.stdout
    with get_client(sync_client=True) as client:
        slugs = {
            name: sorted(s.slug for s in client.read_deployment_schedules(deployed[name].id))
            for name in PLAN_DRIVEN
        }
    assert slugs["open-round"] == OPENINGS
    assert [schedule_key(s) for s in slugs["compute-scores"]] == ["bg-vhxh-2020-tong-ket"]
    assert [schedule_key(s) for s in slugs["close-year"]] == ["bg-vhxh-2020"]

    # The Prefect server unreachable: the plan is still saved, and the user is told when the
    # schedules will follow.
    db.env["PREFECT_API_URL"] = f"http://127.0.0.1:{free_port()}/api"
    edited = write_plan(plan_text.replace("start: 2020-07-01", "start: 2020-07-06"), "b.yaml")
    loaded = db.cli("plan", "load", str(edited), check=True)
    assert "Đã cập nhật kế hoạch năm 2020" in loaded.stdout
    assert "Chú ý: chưa cập nhật được lịch chạy trên Prefect" in loaded.stderr
    assert "00:10" in loaded.stderr and "Traceback" not in loaded.stderr

    with session_scope(db.engine) as session:  # leave the server's schedules as found
        session.exec(select(YearPlan)).one().state = "closed"
    settings_for(db)
    sync_plan_schedules(db.engine, get_settings(), as_of=datetime.now(UTC))


QUARTER_REPORT = """  - code: bao-cao-quy
    kind: report
    round: dot-1
    title: Báo cáo quý I năm 2020
    wording: trước ngày 10/4/2020
    date: 2020-04-10
    documents:
      - Báo cáo quý I của đơn vị
"""


def test_the_run_form_offers_the_plans_codes_and_follows_plan_edits(
    deployed, db, settings_for, plan_text, write_plan
):
    settings_for(db)
    _activate(db)

    def fields(name: str) -> tuple[dict, dict, datetime]:
        sync_plan_schedules(db.engine, get_settings(), as_of=_local(2020, 2, 24, 9, 0))
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment(deployed[name].id)
        properties = deployment.parameter_openapi_schema["properties"]
        return properties["deadline"], properties["unit"], deployment.updated

    for name in ("chase-submissions", "open-round"):
        deadline, unit, updated = fields(name)
        assert deadline["anyOf"] == [
            {"type": "string", "enum": ["dang-ky", "so-ket", "tong-ket"]},
            {"type": "null"},
        ], name
        assert (
            "so-ket — Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020"
            in (deadline["description"])
        )
        assert deadline["description"].startswith("Chỉ xét một hạn nộp")
        assert len(unit["anyOf"][0]["enum"]) == 9 and "syt — Sở Y tế" in unit["description"]
        assert fields(name)[2] == updated, f"{name}: the same plan writes nothing"
    with get_client(sync_client=True) as client:
        pause = client.read_deployment(deployed["pause-reminders"].id).parameter_openapi_schema
    assert len(pause["properties"]["unit"]["anyOf"][0]["enum"]) == 9
    with (  # the server refuses a code not in the plan
        get_client(sync_client=True) as client,
        pytest.raises(PrefectHTTPStatusError, match="409"),
    ):
        client.create_flow_run_from_deployment(
            deployed["chase-submissions"].id, parameters={"deadline": "khong-co"}
        )

    edited = plan_text.replace("  - code: tong-ket\n", QUARTER_REPORT + "  - code: tong-ket\n")
    edited = edited.replace("sơ kết phong trào thi đua đợt thứ nhất", "sơ kết đợt thứ nhất")
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(edited)), actor="test")
    deadline, _, _ = fields("chase-submissions")
    assert deadline["anyOf"][0]["enum"] == ["dang-ky", "bao-cao-quy", "so-ket", "tong-ket"]
    assert "bao-cao-quy — Báo cáo quý I năm 2020" in deadline["description"]
    assert "so-ket — Báo cáo sơ kết đợt thứ nhất năm 2020" in deadline["description"]

    with session_scope(db.engine) as session:  # no active plan: free text again
        session.exec(select(YearPlan)).one().state = "closed"
    deadline, unit, _ = fields("open-round")
    assert deadline["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert "—" not in unit["description"]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_close_year_on_a_worker_is_suspended_until_approved_through_the_api(
    deployed, db, settings_for, smtp_server
):
    """After the count the run is Suspended and holds no worker; the head unit's approval,
    sent as the UI's resume form sends it, lets the next worker pass send the results."""
    from tests.test_close_year import AFTER_REPORTS, seed_year, vote_everyone

    extra = {"THIDUA_SMTP_URL": smtp_server.url, "THIDUA_PUBLIC_URL": "https://x.vn"}
    settings_for(db, **extra)
    seed_year(db.engine, db.data_dir)
    close_year(as_of=AFTER_REPORTS)  # the ballot opens
    vote_everyone(db.engine)
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(
            deployed["close-year"].id,
            parameters={"as_of": AFTER_REPORTS.replace(hour=15).isoformat()},
        )
        _work_once({**db.env, **extra})
        suspended = client.read_flow_run(run.id).state
        assert (suspended.type.value, suspended.name) == ("PAUSED", "Suspended")
        assert len(smtp_server.handler.accepted) == FOCAL_EMAILS  # the invitations only
        answer = {"approve": True, "note": "Nhất trí", "by": "Chánh Văn phòng"}
        assert client.resume_flow_run(run.id, run_input=answer).status.value == "ACCEPT"
        _work_once({**db.env, **extra})
        assert client.read_flow_run(run.id).state.is_completed()
    sent = [
        email.message_from_bytes(m, policy=email.policy.default)
        for m in smtp_server.handler.accepted
    ]
    assert len([m for m in sent if "Kết quả chấm điểm" in m["Subject"]]) == 20
    with Session(db.engine) as session:
        assert session.exec(select(YearPlan)).one().state == "closed"
