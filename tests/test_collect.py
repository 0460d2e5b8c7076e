"""collect_submissions reads a real HTTP export (CSV and JSON), records new rows once."""

import functools
import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlmodel import Session, select

from flows.collect import collect_submissions
from models.db import session_scope
from models.extensions import grant_extension
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Submission, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN

CSV = "ma_don_vi,nguoi_gui,thoi_gian\r\nsyt,Văn phòng Sở Y tế,2020-03-01T09:00:00+07:00\r\nkhong-co,Ai đó,\r\n"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ROWS = [{"ma_don_vi": "bdt", "ghi_chu": "Đăng ký qua biểu mẫu"}]
REGISTRATION = "Gửi đăng ký danh hiệu thi đua năm 2020"


@pytest.fixture
def exports(tmp_path):
    """A plain HTTP server on loopback serving the form exports."""
    (tmp_path / "dang-ky.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "dang-ky.json").write_text(json.dumps(ROWS, ensure_ascii=False), encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _sources(db, settings_for, exports) -> None:
    """The example plan active, and the CSV and JSON exports of the registration form."""
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    sources = [
        {
            "url": f"{exports}/dang-ky.csv",
            "format": "csv",
            "year": 2020,
            "deadline": "dang-ky",
            "time_field": "thoi_gian",
        },
        {"url": f"{exports}/dang-ky.json", "year": 2020, "deadline": "dang-ky"},
    ]
    settings_for(db, THIDUA_COLLECT_SOURCES=json.dumps(sources))


def test_new_rows_become_submissions_once(prefect_server, db, settings_for, exports):
    _sources(db, settings_for, exports)
    before = datetime.now(UTC)
    first = collect_submissions()
    after = datetime.now(UTC)
    assert first[:2] == [
        {"Đơn vị": "Sở Y tế", "Hạn nộp": REGISTRATION, "Kết quả": "ghi nhận lúc 09:00 01/03/2020"},
        {
            "Đơn vị": "khong-co",
            "Hạn nộp": REGISTRATION,
            "Kết quả": "mã đơn vị không có trong kế hoạch",
        },
    ]
    # The JSON row gives no time: it is recorded at the moment the flow ran.
    assert len(first) == 3
    assert (first[2]["Đơn vị"], first[2]["Hạn nộp"]) == ("Ban Dân tộc tỉnh", REGISTRATION)
    assert first[2]["Kết quả"] in recorded_between(before, after)
    assert collect_submissions() == [first[1]]  # nothing new; the unknown unit is reported again
    with Session(db.engine) as session:
        rows = session.exec(
            select(Unit.code, Submission).join(Unit, Unit.id == Submission.unit_id)
        ).all()
    assert sorted(code for code, _ in rows) == ["bdt", "syt"]
    syt = next(s for code, s in rows if code == "syt")
    assert syt.channel == "import" and syt.data["row"]["nguoi_gui"] == "Văn phòng Sở Y tế"
    assert syt.received_at == datetime(2020, 3, 1, 2, 0, tzinfo=UTC)
    bdt = next(s for code, s in rows if code == "bdt")
    assert before <= bdt.received_at <= after


def recorded_between(start: datetime, end: datetime) -> set[str]:
    """The flow's "recorded at" text for every minute from `start` to `end`, in Hà Nội time."""
    minute = start.astimezone(HANOI).replace(second=0, microsecond=0)
    texts = set()
    while minute <= end:
        texts.add(f"ghi nhận lúc {minute:%H:%M %d/%m/%Y}")
        minute += timedelta(minutes=1)
    return texts


def test_the_state_table_names_deadlines_by_title_and_follows_an_extension(
    prefect_server, db, settings_for, exports
):
    """The run's "submission-state" artifact is the secretariat's overview: a unit given until
    11/03 that sends on 06/03 is on time, another that sent nothing is overdue."""
    _sources(db, settings_for, exports)
    with session_scope(db.engine) as session:
        grant_extension(
            session,
            plan=session.exec(select(YearPlan)).one(),
            unit_code="bdt",
            deadline_code="dang-ky",
            until=date(2020, 3, 11),
            reason="Dịch bệnh",
            actor="test",
            at=datetime(2020, 3, 2, tzinfo=UTC),
        )
    state = collect_submissions(as_of=datetime(2020, 3, 6, 9, tzinfo=HANOI), return_state=True)
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["submission-state"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    rows = {row["Đơn vị"]: row for row in json.loads(artifact.data)}
    column = f"{REGISTRATION} (hạn cuối 04/03/2020)"
    assert rows["Ban Dân tộc tỉnh"][column] == (
        "Đã nộp – lần 1, 09:00 06/03/2020 (gia hạn đến 11/03/2020)"
    )
    assert rows["Sở Y tế"][column] == "Đã nộp – lần 1, 09:00 01/03/2020"
    assert rows["Sở Giáo dục và Đào tạo"][column] == "Quá hạn"
