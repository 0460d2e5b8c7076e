"""collect_submissions reads a real HTTP export (CSV and JSON), records new rows once."""

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from flows.collect import collect_submissions
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Submission, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN

CSV = "ma_don_vi,nguoi_gui,thoi_gian\r\nsyt,Văn phòng Sở Y tế,2020-03-01T09:00:00+07:00\r\nkhong-co,Ai đó,\r\n"
ROWS = [{"ma_don_vi": "bdt", "ghi_chu": "Đăng ký qua biểu mẫu"}]


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


def test_new_rows_become_submissions_once(prefect_server, db, settings_for, exports):
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
    first = collect_submissions()
    assert [row["Kết quả"] for row in first] == [
        "ghi nhận lúc 09:00 01/03/2020",
        "mã đơn vị không có trong kế hoạch",
        first[2]["Kết quả"],
    ]
    assert collect_submissions() == [first[1]]  # nothing new; the unknown unit is reported again
    with Session(db.engine) as session:
        rows = session.exec(
            select(Unit.code, Submission).join(Unit, Unit.id == Submission.unit_id)
        ).all()
    assert sorted(code for code, _ in rows) == ["bdt", "syt"]
    syt = next(s for code, s in rows if code == "syt")
    assert syt.channel == "import" and syt.data["row"]["nguoi_gui"] == "Văn phòng Sở Y tế"
