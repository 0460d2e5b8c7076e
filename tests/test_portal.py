"""The unit's private submission page over real HTTP: forms, validation, nothing lost, no leaks."""

import io
import re
import time
import zipfile
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from config.settings import Settings
from domain.reminders import Policy, schedule
from models.db import session_scope
from models.filestore import path_of
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Deadline, Feed, OutboxMessage, Submission, SubmissionFile, Unit, YearPlan
from notifications.kinds import kind_name
from notifications.state import plan_state
from tests.conftest import PDF, running


def _docx() -> bytes:
    """The same bytes on every call (a zip stores each entry's time: fix it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", "<w:document/>"),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def _submissions(db, unit: str) -> list[Submission]:
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == unit)).one()
        query = select(Submission).where(Submission.unit_id == unit_id).order_by(Submission.id)
        return list(session.exec(query).all())


def _errors(html: str) -> list[str]:
    block = html.split('class="errors"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>([^<]+)</li>", block)


def test_unit_page_lists_its_deadlines_with_a_form_each(portal):
    page = portal.get(portal.paths["syt"])
    assert page.status_code == 200
    assert "<h1>Sở Y tế</h1>" in page.text
    assert page.text.count("<form ") == 3
    assert "hết ngày <strong>Thứ Tư, 04/03/2020</strong>" in page.text
    assert "Quá hạn" in page.text  # 2020's deadlines, seen today
    assert (
        page.headers["x-robots-tag"] == "noindex"
        and page.headers["referrer-policy"] == "no-referrer"
    )


def test_page_shows_only_the_deadlines_the_unit_owes(portal):
    assert portal.get(portal.paths["sgddt"]).text.count("<form ") == 2  # not so-ket


def test_registration_is_recorded_as_structured_data_with_a_receipt(portal, db):
    form = {
        "collective_title": "Tập thể Lao động xuất sắc",
        "count_1": "42",
        "count_2": "5",
        "count_3": "1",
    }
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/dang-ky",
        data=form,
        files=[("files", ("giao uoc.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 200
    assert "Đã nhận hồ sơ:</strong> Gửi đăng ký danh hiệu thi đua năm 2020, lần 1" in response.text
    (submission,) = _submissions(db, "syt")
    assert submission.status == "accepted" and submission.channel == "portal"
    assert submission.data == {
        "collective_title": "Tập thể Lao động xuất sắc",
        "individuals": {
            "Lao động tiên tiến": 42,
            "Chiến sĩ thi đua cơ sở": 5,
            "Chiến sĩ thi đua cấp tỉnh": 1,
        },
    }
    deadline = time.monotonic() + 20
    while True:  # the receipt is sent in the background, to the .eml folder here
        with Session(db.engine) as session:
            receipt = session.exec(
                select(OutboxMessage).where(OutboxMessage.stage == "receipt")
            ).one()
        if receipt.status == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert receipt.status == "sent" and receipt.recipient == "vanphong.syt@bacgiang.gov.vn.example"
    assert "Đã nhận: Gửi đăng ký danh hiệu thi đua năm 2020 (lần 1)" in receipt.subject
    for line in (  # what was received, as the unit's page lists it
        "- Danh hiệu tập thể: Tập thể Lao động xuất sắc",
        "- Lao động tiên tiến: 42 người",
        "- Chiến sĩ thi đua cấp tỉnh: 1 người",
        "- Tệp: giao uoc.pdf",
    ):
        assert line in receipt.text, receipt.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"collective_title": "", "count_1": "1"},
            "Danh hiệu tập thể: hãy chọn một danh hiệu trong danh sách.",
        ),
        (
            {"collective_title": "Tập thể Lao động tiên tiến", "count_2": "-3"},
            "Số cá nhân đăng ký “Chiến sĩ thi đua cơ sở”: phải là số nguyên từ 0 (đang là “-3”).",
        ),
        (
            {"collective_title": "Tập thể Lao động tiên tiến", "count_1": "mười"},
            "Số cá nhân đăng ký “Lao động tiên tiến”: phải là số nguyên từ 0 (đang là “mười”).",
        ),
    ],
)
def test_registration_errors_name_the_field_and_keep_a_rejected_version(portal, db, form, message):
    response = portal.post(f"{portal.paths['bdt']}/nop/2020/dang-ky", data=form)
    assert response.status_code == 422
    assert message in _errors(response.text)
    (submission,) = _submissions(db, "bdt")
    assert submission.status == "rejected" and message in submission.errors


def test_report_files_are_stored_by_content_hash_under_safe_names(portal, db):
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/so-ket",
        files=[
            ("files", ("../../etc/bao cáo.pdf", PDF, "application/pdf")),
            ("files", ("phu-luc.docx", _docx(), "x")),
        ],
        data={"note": "Bản ký số"},
    )
    assert response.status_code == 200
    (submission,) = _submissions(db, "syt")
    with Session(db.engine) as session:
        files = session.exec(
            select(SubmissionFile).where(SubmissionFile.submission_id == submission.id)
        ).all()
    assert sorted((f.filename, f.content_type.split("/")[-1]) for f in files) == [
        ("bao cáo.pdf", "pdf"),
        ("phu-luc.docx", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]
    for file in files:
        assert path_of(portal.settings.files_dir, file.sha256).read_bytes() in (PDF, _docx())
    assert submission.note == "Bản ký số"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            ("bao-cao.pdf", b"MZ\x90\x00 this is a program"),
            "Tệp “bao-cao.pdf”: nội dung không phải PDF, Word (DOC/DOCX), Excel (XLS/XLSX), ảnh PNG/JPG.",
        ),
        (("rong.pdf", b""), "Tệp “rong.pdf”: tệp rỗng."),
        (("lon.pdf", PDF + b"0" * 60_000), "Tệp “lon.pdf”: lớn hơn giới hạn 0 MB."),
        (
            ("gia.docx", b"PK\x03\x04 not a zip"),
            "Tệp “gia.docx”: nội dung không phải PDF, Word (DOC/DOCX), Excel (XLS/XLSX), ảnh PNG/JPG.",
        ),
    ],
)
def test_a_bad_file_is_refused_by_content_and_the_version_kept(portal, db, upload, message):
    name, content = upload
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/so-ket",
        files=[
            ("files", (name, content, "application/pdf")),
            ("files", ("tot.pdf", PDF, "application/pdf")),
        ],
    )
    assert response.status_code == 422
    assert _errors(response.text) == [message]
    (submission,) = _submissions(db, "syt")
    assert submission.status == "rejected"
    with Session(db.engine) as session:  # the good file of the rejected version is kept
        kept = session.exec(
            select(SubmissionFile.filename).where(SubmissionFile.submission_id == submission.id)
        ).all()
    assert kept == ["tot.pdf"]


def test_a_report_without_a_file_is_refused(portal, db):
    response = portal.post(f"{portal.paths['syt']}/nop/2020/so-ket", data={"note": "quên tệp"})
    assert response.status_code == 422 and _errors(response.text) == ["Chưa chọn tệp hồ sơ nào."]


def test_resubmitting_makes_a_new_version_and_keeps_the_history(portal, db):
    for _ in range(2):
        portal.post(
            f"{portal.paths['syt']}/nop/2020/so-ket",
            files=[("files", ("a.pdf", PDF, "application/pdf"))],
        )
    assert [s.version for s in _submissions(db, "syt")] == [1, 2]
    page = portal.get(portal.paths["syt"]).text
    assert "Lần 2," in page and "Lần 1," in page


@pytest.mark.parametrize(
    "path",
    [
        "/don-vi/" + "x" * 43,
        "/don-vi/{syt}/nop/2020/khong-co",
        "/don-vi/{sgddt}/nop/2020/so-ket",
        "/don-vi/{syt}/nop/2019/dang-ky",
    ],
)
def test_wrong_token_or_deadline_is_404_and_reveals_nothing(portal, db, path):
    path = path.format(
        syt=portal.paths["syt"].rsplit("/", 1)[1], sgddt=portal.paths["sgddt"].rsplit("/", 1)[1]
    )
    response = (
        portal.post(path, files=[("files", ("a.pdf", PDF, "application/pdf"))])
        if "/nop/" in path
        else portal.get(path)
    )
    assert response.status_code == 404
    assert "Sở" not in response.text and "Ban Dân tộc" not in response.text
    assert _submissions(db, "syt") == [] and _submissions(db, "sgddt") == []


def test_a_unit_never_sees_another_units_submissions(portal, db):
    portal.post(
        f"{portal.paths['syt']}/nop/2020/so-ket",
        files=[("files", ("bi-mat-syt.pdf", PDF, "application/pdf"))],
    )
    assert "bi-mat-syt.pdf" in portal.get(portal.paths["syt"]).text
    assert "bi-mat-syt.pdf" not in portal.get(portal.paths["bdt"]).text


def test_a_portal_submission_refreshes_the_units_feed_status(portal, db):
    portal.post(
        f"{portal.paths['bdt']}/nop/2020/so-ket",
        files=[("files", ("a.pdf", PDF, "application/pdf"))],
    )
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == "bdt")).one()
        body = session.exec(select(Feed.body).where(Feed.key == f"unit/{unit_id}")).one()
    assert "[Nộp muộn] Hạn nộp: Báo cáo sơ kết".encode() in body.replace(b"\r\n ", b"")


def test_a_portal_submission_stops_the_units_reminders(
    prefect_server, db, plan_text, write_plan, settings_for
):
    from flows.chase import chase_submissions

    year = datetime.now(UTC).year + 1  # a plan still ahead, so today's submission is on time
    text = plan_text.replace("2020", str(year))
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(text)), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
    settings_for(db)
    settings = Settings(data_dir=db.data_dir, database_url=db.url)
    with Session(db.engine) as session:
        syt = session.exec(select(Unit.id).where(Unit.code == "syt")).one()
        path = Links("", settings.signing_key()).submit_url(session, syt)
        session.commit()
    form = {"collective_title": "Tập thể Lao động tiên tiến"}
    with running(settings) as client:
        assert client.post(f"{path}/nop/{year}/dang-ky", data=form).status_code == 200
    with Session(db.engine) as session:
        deadline = session.exec(select(Deadline).where(Deadline.code == "dang-ky")).one()
        plan = session.exec(select(YearPlan)).one()
        state = plan_state(session, plan=plan, links=Links("", settings.signing_key()))
    first = schedule(deadline.due_at, Policy(), state.calendar)[0]
    rows = chase_submissions(as_of=state.calendar.opening(first.day))
    reminded = {row["Người nhận"] for row in rows if row["Loại thư"] == kind_name(first.name)}
    assert "vanphong.bdt@bacgiang.gov.vn.example" in reminded
    assert "vanphong.syt@bacgiang.gov.vn.example" not in reminded


def test_calendar_urls_lists_each_units_submission_page(portal, db):
    out = db.cli("calendar", "urls", check=True).stdout
    pages = dict(
        line.split() for line in out.split("Trang nộp hồ sơ của từng đơn vị:\n", 1)[1].splitlines()
    )
    assert len(pages) == 9
    assert portal.get(pages["syt"].removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_a_rotated_submission_link_is_404_and_the_new_one_works(portal, db):
    old = portal.paths["syt"]
    rotated = db.cli("submission", "rotate", "syt", check=True).stdout
    new = rotated.strip().split()[-1].removeprefix("http://127.0.0.1:8000")
    assert new.startswith("/don-vi/") and new != old
    assert portal.get(old).status_code == 404
    assert "<h1>Sở Y tế</h1>" in portal.get(new).text
    feed = db.cli("calendar", "export", "--unit", "syt", check=True).stdout.replace("\n ", "")
    assert "/don-vi/" not in feed  # a calendar never carries a submission link, old or new
