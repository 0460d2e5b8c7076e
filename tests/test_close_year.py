"""close_year and compute_scores on the example plan, on a real Prefect server and a real SMTP
server: the ranking, the vote, the proposals, the new head and deputy, the documents and next
year's draft plan."""

import email
import email.policy
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.exceptions import PrefectHTTPStatusError
from sqlmodel import Session, select

from domain.dates import TZ
from flows.close import close_year
from flows.scores import compute_scores
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import save_self_scores, sheet_view
from models.submissions import record_submission
from models.tables import (
    AuditEvent,
    BallotBox,
    BallotReceipt,
    CommendationProposal,
    Deadline,
    OutboxMessage,
    Poll,
    Unit,
    YearPlan,
)
from models.year_end import YearEndError, accept_self_scores, cast_ballot, verify_score
from tests.conftest import EXAMPLE_PLAN

AFTER_REPORTS = datetime(2020, 12, 14, 8, 0, tzinfo=TZ)  # Monday after the 10/12 deadline
I1 = {  # points of criterion I.1 (max 30); every other criterion at its maximum
    "stttt": 30,
    "svhttdl": 29,
    "sgddt": 30,  # verified at 25
    "syt": 27,
    "sldtbxh": 26,
    "skhcn": 25,
    "bdt": 30,
    "baobg": 24,
    "dptth": 20,
}
BONUS = {"stttt": {"T.1": 2}, "svhttdl": {"T.2": 1}}
LATE_REPORTS = {"skhcn": 1}  # P.1 occurrences
EXPECTED_RANKING = [
    (1, "stttt", 102),
    (2, "bdt", 100),
    (2, "svhttdl", 100),
    (4, "syt", 97),
    (5, "sldtbxh", 96),
    (6, "sgddt", 95),
    (7, "baobg", 94),
    (8, "skhcn", 94),
    (9, "dptth", 90),
]


MEETING = """    wording: sau khi các đơn vị gửi báo cáo tổng kết
    date: 2020-12-14
    start: "08:00"
    end: "11:30"
    location: Hội trường Sở Thông tin và Truyền thông
"""


def seed_year(engine, folder: Path) -> None:
    """The example plan in force, its year-end meeting set for 14/12 at 08:00 (the rest as
    published); every unit registered but bdt; self scores in; verified."""
    text = EXAMPLE_PLAN.read_text(encoding="utf-8").replace(
        "    wording: sau khi các đơn vị gửi báo cáo tổng kết\n    after: 2020-12-10\n", MEETING
    )
    assert MEETING in text
    (folder / "plan.yaml").write_text(text, encoding="utf-8")
    at = datetime(2020, 12, 8, 9, 0, tzinfo=TZ)
    with session_scope(engine) as session:
        load_plan(session, read_plan(folder / "plan.yaml"), actor="test")
        plan = session.exec(select(YearPlan)).one()
        plan.state = "active"
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        registration = session.exec(select(Deadline).where(Deadline.code == "dang-ky")).one()
        view = sheet_view(session, plan=plan)
        for code, unit in units.items():
            if code != "bdt":
                record_submission(
                    session,
                    deadline=registration,
                    unit=unit,
                    received_at=datetime(2020, 3, 2, 9, 0, tzinfo=TZ),
                    channel="paper",
                )
            scores = {i.code: i.max_points for i in view.items if i.kind == "criterion"}
            scores |= {"I.1": I1[code], **BONUS.get(code, {})}
            data = {"scores": scores, "occurrences": {"P.1": LATE_REPORTS.get(code, 0)}}
            save_self_scores(session, view=view, unit_id=unit.id, data=data, at=at)
        session.flush()
        verify_score(
            session,
            plan=plan,
            unit=units["sgddt"],
            code="I.1",
            value=25,
            reason="Chưa đạt 2 chỉ tiêu chuyên môn theo báo cáo tổng kết",
            actor="test",
            at=at,
        )
        for unit in units.values():
            accept_self_scores(session, plan=plan, unit=unit, actor="test", at=at)


def vote_everyone(engine) -> None:
    """Nine secret ballots: the flag, three certificates, the head and the deputy."""
    with session_scope(engine) as session:
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        polls = {p.code: p for p in session.exec(select(Poll)).all()}
        members = {u.id for u in units.values()}
        for i, voter in enumerate(units.values()):
            choices = {
                "co-thi-dua": ["stttt"] if i < 7 else ["svhttdl"],
                "bang-khen": ["svhttdl", "bdt", "syt"] if i < 8 else ["sldtbxh", "sgddt", "baobg"],
                "truong-khoi": ["svhttdl"] if i < 8 else [],
                "pho-truong-khoi": ["sgddt"] if i < 5 else ["syt"],
            }
            for code, chosen in choices.items():
                cast_ballot(
                    session,
                    poll=polls[code],
                    voter=voter,
                    members=members,
                    choices=[units[c].id for c in chosen],
                    at=AFTER_REPORTS,
                )


@pytest.fixture
def year(db, prefect_server, settings_for, smtp_server):
    settings_for(db, THIDUA_SMTP_URL=smtp_server.url + "?timeout=5")
    seed_year(db.engine, db.data_dir)
    db.smtp = smtp_server.handler
    return db


def _paused_run(client):
    """The close-year run waiting for the head unit (polled: the flow runs in a thread)."""
    waiting = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["PAUSED"])))
    for _ in range(600):
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["close-year"])),
            flow_run_filter=waiting,
        )
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError("close-year never asked for approval")


def _form_description(client, run) -> str:
    """The resume form's description, once saved: Prefect marks the run Paused first and
    saves the form after, so a reader right after the pause can find none yet."""
    key = run.state.state_details.run_input_keyset["description"]
    for _ in range(600):
        try:
            return json.loads(client.read_flow_run_input(run.id, key))
        except PrefectHTTPStatusError as error:
            if error.response.status_code != 404:
                raise
        time.sleep(0.1)
    raise AssertionError("the approval form was never saved")


def answered(answer: dict, **parameters) -> tuple[list[dict], str]:
    """Run close_year; when it waits for approval, answer in the resume form as the Prefect UI
    does (the API's resume with `run_input`). Returns its rows and the decisions it showed
    (the form's description, which the run's markdown artifact repeats). Whatever fails on
    the way, the paused run is answered, so that no thread is left waiting for an hour."""
    with ThreadPoolExecutor(1) as pool, get_client(sync_client=True) as client:
        rows = pool.submit(close_year, **parameters)
        run = _paused_run(client)
        try:
            description = _form_description(client, run)
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            result = client.resume_flow_run(run.id, run_input=answer)
            assert result.status.value == "ACCEPT", result.details
        except BaseException:
            client.resume_flow_run(run.id, run_input={"approve": False, "note": "test failed"})
            raise
        shown = [a.data for a in artifacts if a.type == "markdown"]
        assert shown == [description]
        return rows.result(timeout=120), description


def received(handler) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in handler.accepted]


def test_compute_scores_ranks_by_verified_totals_and_writes_the_score_table(year):
    rows = compute_scores(as_of=AFTER_REPORTS)
    names = {u.code: u.name for u in Session(year.engine).exec(select(Unit)).all()}
    assert [(r["Hạng"], r["Đơn vị"], r["Tổng điểm"]) for r in rows] == [
        (rank, names[code], str(total)) for rank, code, total in EXPECTED_RANKING
    ]
    assert rows[5]["Tự chấm"] == "100"  # sgddt claimed 100, verified 95
    book = load_workbook(year.data_dir / "documents/bg-vhxh/2020/bang-diem-thi-dua-2020.xlsx")
    assert "Bảng điểm" in book.sheetnames


def test_close_year_waits_for_the_annual_reports_then_opens_one_ballot(year):
    (early,) = close_year(as_of=datetime(2020, 12, 1, 8, 0, tzinfo=TZ))
    assert early["Bước"] == "đang chờ" and "chưa đến hạn" in early["Chi tiết"]
    (opened,) = close_year(as_of=AFTER_REPORTS)
    assert opened["Bước"] == "mở bỏ phiếu" and "17:00 21/12/2020" in opened["Chi tiết"]
    invitations = received(year.smtp)
    assert len(invitations) == 10  # nine focal points, one with two addresses
    text = invitations[0].get_body(("plain",)).get_content()
    assert "Bầu Trưởng khối năm 2021" in text and "#bo-phieu" in text
    flag = text[text.index("Cờ thi đua") : text.index("Bình xét đề nghị tặng Bằng khen")]
    assert "Ban Dân tộc tỉnh" not in flag  # not registered: no flag
    (again,) = close_year(as_of=AFTER_REPORTS.replace(hour=10))
    assert again["Bước"] == "đang chờ" and "0/9 đơn vị đã bỏ phiếu" in again["Chi tiết"]
    assert len(year.smtp.accepted) == 10


def test_a_unit_votes_once_and_the_ballot_names_no_voter(year):
    close_year(as_of=AFTER_REPORTS)
    with session_scope(year.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == "syt")).one()
        poll = session.exec(select(Poll).where(Poll.code == "truong-khoi")).one()
        members = {u.id for u in session.exec(select(Unit)).all()}
        cast_ballot(session, poll=poll, voter=unit, members=members, choices=[], at=AFTER_REPORTS)
    with session_scope(year.engine) as session, pytest.raises(YearEndError, match="đã bỏ phiếu"):
        cast_ballot(session, poll=poll, voter=unit, members=members, choices=[], at=AFTER_REPORTS)
    with Session(year.engine) as session:
        assert len(session.exec(select(BallotReceipt)).all()) == 1
        assert session.get(BallotBox, poll.id).ballots == [[]]  # one blank ballot, no voter
        assert set(BallotBox.model_fields) == {"poll_id", "ballots"}


def test_close_year_counts_proposes_elects_writes_documents_and_next_years_draft(year):
    close_year(as_of=AFTER_REPORTS)
    vote_everyone(year.engine)
    approval = {"approve": True, "note": "Nhất trí", "by": "Nguyễn Văn A, Chánh Văn phòng"}
    (closed,), shown = answered(approval, as_of=AFTER_REPORTS.replace(hour=15))
    assert closed["Bước"] == "kết thúc năm"
    assert "| 1 | Sở Thông tin và Truyền thông | 102 |" in shown
    assert "Trưởng khối: **Sở Văn hóa, Thể thao và Du lịch**" in shown
    assert "Phó Trưởng khối: **Sở Giáo dục và Đào tạo**" in shown
    with Session(year.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        assert plan.state == "closed"
        (approved,) = session.exec(select(AuditEvent).where(AuditEvent.action.like("%-results")))
        assert (approved.action, approved.actor, approved.details["note"]) == (
            "approve-results",
            "Nguyễn Văn A, Chánh Văn phòng",
            "Nhất trí",
        )
        codes = {u.id: u.code for u in session.exec(select(Unit)).all()}
        proposals = session.exec(select(CommendationProposal)).all()
        by_title = {}
        for p in proposals:
            by_title.setdefault(p.title, []).append((codes[p.unit_id], p.state, p.votes))
    assert by_title == {
        "Cờ thi đua của UBND tỉnh": [("stttt", "proposed", 7)],
        "Bằng khen của Chủ tịch UBND tỉnh": [
            ("svhttdl", "proposed", 8),
            ("bdt", "proposed", 8),
            ("syt", "proposed", 8),
        ],
    }
    folder = year.data_dir / "documents/bg-vhxh/2020"
    sheet = load_workbook(folder / "bang-diem-thi-dua-2020.xlsx")["Bảng điểm"]
    values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    ranked = [row for row in values if row and isinstance(row[0], int)]
    assert [(row[0], row[-2] if isinstance(row[-1], str) else row[-1]) for row in ranked] == [
        (rank, total) for rank, _, total in EXPECTED_RANKING
    ]
    minutes = docx_text(folder / "bien-ban-hoi-nghi-tong-ket-2020.docx")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in minutes and "BIÊN BẢN" in minutes
    assert "Trưởng khối: Sở Văn hóa, Thể thao và Du lịch" in minutes
    assert (
        "Vào hồi 08 giờ 00, ngày 14 tháng 12 năm 2020, tại Hội trường Sở Thông tin và Truyền thông"
        in minutes
        and "Hội nghị kết thúc vào hồi 11 giờ 30 cùng ngày" in minutes
    )
    assert "Phó Trưởng khối: Sở Giáo dục và Đào tạo" in minutes
    assert "Sở Thông tin và Truyền thông: 7/9 phiếu" in minutes
    assert "Chưa đạt 2 chỉ tiêu" not in minutes  # reasons are in the score table's detail
    # The vote is reported as what it was: an online ballot over days, not the meeting's.
    opened_at = f"{AFTER_REPORTS:%H:%M %d/%m/%Y}"
    assert (
        f"Hình thức: bỏ phiếu kín trực tuyến trên cổng nộp hồ sơ của Khối, từ {opened_at} đến "
        "17:00 21/12/2020." in minutes
    )
    assert "vắng mặt: Ban" not in minutes and "Số đơn vị có mặt: ....../9" in minutes
    assert "4. Bầu Trưởng khối, Phó Trưởng khối năm 2021" in minutes
    report = docx_text(folder / "bao-cao-ket-qua-thi-dua-2020.docx")
    assert "Kính gửi: Ban Thi đua - Khen thưởng tỉnh Bắc Giang" in report
    assert "Bắc Giang, ngày 14 tháng 12 năm 2020" in report and "102" in report
    draft = year.data_dir / "plans/bg-vhxh-2021.yaml"
    checked = year.cli("plan", "check", str(draft))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "năm 2021, 9 đơn vị" in checked.stdout
    doc = read_plan(draft).document
    assert (doc.year, doc.head, doc.deputy) == (2021, "svhttdl", "sgddt")
    # 20/06/2021 is a Sunday: its last day (Saturday 19/06) moves to Friday 18/06, wording too
    assert [d.date.isoformat() for d in doc.deadlines] == ["2021-03-05", "2021-06-19", "2021-12-10"]
    assert [d.wording for d in doc.deadlines][1] == "trước ngày 19/6/2021"
    assert "Phó Trưởng khối thi đua năm 2022" in doc.meetings[1].title
    results = [m for m in received(year.smtp) if "Kết quả chấm điểm" in m["Subject"]]
    recipients = {m["To"] for m in results}
    assert "bantdkt.snv@bacgiang.gov.vn.example" in recipients
    assert "giamdoc.syt@bacgiang.gov.vn.example" in recipients and len(results) == 20
    body = results[0].get_body(("plain",)).get_content()
    assert "Trưởng khối năm 2021: Sở Văn hóa, Thể thao và Du lịch" in body
    documents = ["bang-diem-thi-dua-2020.xlsx", "bien-ban-hoi-nghi-tong-ket-2020.docx"]
    documents.append("bao-cao-ket-qua-thi-dua-2020.docx")
    for message in results:  # every email carries the documents as written, byte for byte
        attached = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
        assert attached == {name: (folder / name).read_bytes() for name in documents}
    assert "1. Sở Thông tin và Truyền thông: 102 điểm" in body
    assert close_year(as_of=AFTER_REPORTS.replace(day=15)) == []  # closed: nothing more
    with Session(year.engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == len(year.smtp.accepted)


def test_rejected_results_send_nothing_keep_the_year_open_and_are_asked_again(year):
    close_year(as_of=AFTER_REPORTS)
    vote_everyone(year.engine)
    rejection = {"approve": False, "note": "Xem lại điểm của Sở Y tế", "by": ""}
    (rejected,), _ = answered(rejection, as_of=AFTER_REPORTS.replace(hour=15))
    assert rejected["Bước"] == "chưa phê duyệt kết quả"
    assert "Xem lại điểm của Sở Y tế" in rejected["Chi tiết"]
    assert len(year.smtp.accepted) == 10  # the ballot invitations only
    assert not (
        year.data_dir / "documents/bg-vhxh/2020/bien-ban-hoi-nghi-tong-ket-2020.docx"
    ).exists()
    with Session(year.engine) as session:
        assert session.exec(select(YearPlan)).one().state == "active"
        assert session.exec(select(CommendationProposal)).all() == []
        (audited,) = session.exec(select(AuditEvent).where(AuditEvent.action == "reject-results"))
        assert (audited.actor, audited.details["note"]) == (
            "Prefect UI",
            "Xem lại điểm của Sở Y tế",
        )
    (again,), shown = answered({"approve": True}, as_of=AFTER_REPORTS.replace(day=15))
    assert "Sở Văn hóa, Thể thao và Du lịch" in shown and again["Bước"] == "kết thúc năm"
    assert len(year.smtp.accepted) == 30  # the results, once approved


def docx_text(path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)
