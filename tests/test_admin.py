"""The secretariat's page: shows the state, records paper, verifies scores (signed in)."""

import re
from datetime import UTC, datetime

from sqlmodel import Session, SQLModel, select

from models.tables import BallotReceipt, Poll, Submission, Unit, YearPlan
from tests.conftest import PDF, same_site_client


def stored(engine) -> dict[str, list]:
    """Every row of every table, read directly: a refused form must leave all of it as it was."""
    with engine.connect() as connection:
        return {
            table.name: sorted(connection.execute(table.select()).all(), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def stored_files(db) -> list[str]:
    """The file store's content (uploads kept by SHA-256, and those in progress)."""
    root = db.data_dir / "files"
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_admin_sees_the_state_and_records_a_paper_submission(admin_portal, db):
    page = admin_portal.get("/quan-tri")
    assert (
        page.status_code == 200
        and "Ban Dân tộc tỉnh" in page.text
        and page.text.count("Quá hạn") >= 9
    )
    form = {
        "unit": "bdt",
        "deadline": "dang-ky",
        "received_at": "2020-03-03T10:00",
        "channel": "dispatch",
        "note": "CV 12/BDT",
        "csrf": admin_portal.csrf,
    }
    response = admin_portal.post(
        "/quan-tri/ghi-nhan/2020",
        data=form,
        files=[("files", ("cv.pdf", PDF, "application/pdf"))],
    )
    assert (
        response.status_code == 200
        and "Đã ghi nhận Ban Dân tộc tỉnh – Gửi đăng ký danh hiệu thi đua năm 2020, lần 1."
        in response.text
    )
    with Session(db.engine) as session:
        (submission,) = session.exec(select(Submission)).all()
    assert (submission.channel, submission.recorded_by, submission.note) == (
        "dispatch",
        "vanphong",
        "CV 12/BDT",
    )
    before, files = stored(db.engine), stored_files(db)
    bad = admin_portal.post(
        "/quan-tri/ghi-nhan/2020",
        data={**form, "unit": "khong-co", "received_at": ""},
        files=[("files", ("cv-2.pdf", PDF + b"% another file\n", "application/pdf"))],
    )
    assert bad.status_code == 422
    assert (
        "Đơn vị: hãy chọn một đơn vị trong danh sách." in bad.text
        and "Ngày giờ nhận: hãy nhập ngày và giờ." in bad.text
    )
    assert stored(db.engine) == before and stored_files(db) == files


def _ranking_rows(page: str) -> list[str]:
    table = page.split("Xếp hạng theo điểm hiện tại", 1)[1].split("</table>", 1)[0]
    return table.split("<tr>")[2:]


def test_admin_verifies_a_score_with_its_reason_and_sees_the_ranking(admin_portal, db):
    rows = _ranking_rows(admin_portal.get("/quan-tri").text)  # no score yet: nobody is ranked
    assert len(rows) == 9 and all('<td style="padding: 4px;">—</td>' in row for row in rows)
    assert all("chưa có bảng tự chấm" in row for row in rows)
    form = {"unit": "syt", "item": "I.1", "value": "20", "csrf": admin_portal.csrf}
    before = stored(db.engine)
    refused = admin_portal.post("/quan-tri/tham-dinh/2020", data=form)
    assert refused.status_code == 422 and "cần ghi lý do" in refused.text
    assert stored(db.engine) == before
    form["reason"] = "Không có tài liệu kiểm chứng"
    saved = admin_portal.post("/quan-tri/tham-dinh/2020", data=form)
    assert saved.status_code == 200 and "Đã ghi điểm thẩm định: Sở Y tế, I.1 = 20." in saved.text
    first, *others = _ranking_rows(saved.text)
    assert "Sở Y tế" in first and "20</td>" in first and ">1</td>" in first  # ranked alone
    assert len(others) == 8 and all("chưa có bảng tự chấm" in row for row in others)
    before = stored(db.engine)
    too_high = admin_portal.post("/quan-tri/tham-dinh/2020", data={**form, "value": "31"})
    assert too_high.status_code == 422 and "vượt điểm tối đa 30" in too_high.text
    assert stored(db.engine) == before
    with Session(db.engine) as session:
        from models.tables import Score

        (score,) = session.exec(select(Score).where(Score.verified_points.is_not(None))).all()
        assert (score.verified_points, score.verified_by) == (20, "vanphong")


def test_admin_addresses_with_an_impossible_year_answer_404_not_500(admin_portal, db):
    huge = 10**22  # overflows the database's integer (a 500 before)
    before = stored(db.engine)
    for method, path in [
        ("POST", f"/quan-tri/tham-dinh/{huge}"),
        ("GET", f"/quan-tri/tham-dinh/{huge}/phieu-tham-dinh.xlsx"),
    ]:
        data = {"unit": "syt", "csrf": admin_portal.csrf}
        response = admin_portal.request(method, path, data=data)
        assert response.status_code == 404 and "Không tìm thấy" in response.text, path
    assert stored(db.engine) == before


def test_every_page_of_the_workspace_has_one_menu_with_its_own_page_marked(admin_portal):
    """The four pages of the menu, and a unit's page, carry the same menu; the mail link finds
    the active plan's year."""
    pages = {
        "/quan-tri": "Tình hình nộp hồ sơ",
        "/quan-tri/ke-hoach": "Kế hoạch năm",
        "/quan-tri/thu/2020": "Thư điện tử",
        "/quan-tri/nhat-ky": "Nhật ký thao tác",
        "/quan-tri/don-vi/2020/syt": None,
    }
    for path, current in pages.items():
        page = admin_portal.get(path)
        assert page.status_code == 200, path
        (menu,) = re.findall(r'<nav aria-label="Trang quản trị">(.*?)</nav>', page.text, re.S)
        links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu)
        marked = re.findall(r'<strong aria-current="page">([^<]+)</strong>', menu)
        assert marked == ([current] if current else []), path
        assert len(links) + len(marked) == 4, path
    mail = admin_portal.get("/quan-tri/thu")
    assert (mail.status_code, mail.headers["location"]) == (303, "/quan-tri/thu/2020")


def test_the_workspace_counts_who_voted_in_each_poll_and_never_shows_a_choice(admin_portal, db):
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        units = session.exec(select(Unit).order_by(Unit.id)).all()
        closes = datetime(2020, 12, 21, 10, tzinfo=UTC)
        head = Poll(plan_id=plan.id, code="truong-khoi", kind="election", title="Bầu Trưởng khối năm 2021", closes_at=closes)  # fmt: skip
        flag = Poll(plan_id=plan.id, code="co-thi-dua", kind="commendation", title="Bình xét Cờ thi đua", state="closed", result={"counted": True})  # fmt: skip
        session.add_all([head, flag])
        session.flush()
        session.add_all([BallotReceipt(poll_id=head.id, voter_unit_id=u.id) for u in units[:4]])
        session.add_all([BallotReceipt(poll_id=flag.id, voter_unit_id=u.id) for u in units])
        session.commit()
    page = admin_portal.get("/quan-tri").text
    assert "Bầu Trưởng khối năm 2021: Đang mở đến 17:00 21/12/2020; 4/9 đơn vị đã bỏ phiếu." in page
    assert "Bình xét Cờ thi đua: Đã kiểm phiếu; 9/9 đơn vị đã bỏ phiếu." in page


def test_the_years_documents_are_listed_and_downloaded_by_name_only(admin_portal, db, monkeypatch):
    empty = admin_portal.get("/quan-tri").text
    assert "Chưa có văn bản nào" in empty and "giao diện Prefect" not in empty
    folder = db.data_dir / "documents" / "bg-vhxh" / "2020"
    folder.mkdir(parents=True)
    (folder / "bien-ban-hoi-nghi-tong-ket-2020.docx").write_bytes(b"PK-minutes" * 300)
    (folder / "ghi-chu.txt").write_text("not a document")
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4300/api")
    page = admin_portal.get("/quan-tri").text
    assert 'href="/quan-tri/van-ban/2020/bien-ban-hoi-nghi-tong-ket-2020.docx"' in page
    assert "(3 KB)" in page and "ghi-chu.txt" not in page
    assert 'href="http://127.0.0.1:4300/runs"' in page
    got = admin_portal.get("/quan-tri/van-ban/2020/bien-ban-hoi-nghi-tong-ket-2020.docx")
    assert got.status_code == 200 and got.content == b"PK-minutes" * 300
    assert "attachment" in got.headers["content-disposition"]
    for name in ["ghi-chu.txt", "..%2F..%2Fthidua.db", "khong-co.docx"]:
        assert admin_portal.get(f"/quan-tri/van-ban/2020/{name}").status_code == 404, name
    assert admin_portal.get("/quan-tri/van-ban/2019/bien-ban-hoi-nghi-tong-ket-2020.docx").status_code == 404  # fmt: skip
    with same_site_client(admin_portal.base_url) as anonymous:
        refused = anonymous.get("/quan-tri/van-ban/2020/bien-ban-hoi-nghi-tong-ket-2020.docx")
        assert refused.status_code in (303, 401) and b"PK-minutes" not in refused.content
