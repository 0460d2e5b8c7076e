"""The verification sheet (phiếu thẩm định): exported with what each unit claimed, filled in by
the secretariat, read back all or nothing with every error named by file, sheet and cell."""

import io
import re
from datetime import UTC, datetime

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from documents.verification_sheet import UnreadableSheet, read_verification_sheet
from domain.scoring import Verified
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import save_self_scores, sheet_view
from models.tables import AuditEvent, Score, Unit, YearPlan
from models.year_end import import_verification, unit_scores
from operations.year_end_documents import verification_sheet
from tests.conftest import EXAMPLE_PLAN

AT = datetime(2020, 12, 10, 3, tzinfo=UTC)


def _seed_self_score(engine) -> None:
    """Sở Y tế claims I.1 = 27, every other criterion full, and P.1 twice."""
    with session_scope(engine) as session:
        plan = session.exec(select(YearPlan)).one()
        view = sheet_view(session, plan=plan)
        syt = session.exec(select(Unit).where(Unit.code == "syt")).one()
        scores = {i.code: i.max_points for i in view.items if i.kind == "criterion"} | {"I.1": 27}
        data = {"scores": scores, "occurrences": {"P.1": 2}}
        save_self_scores(session, view=view, unit_id=syt.id, data=data, at=AT)


@pytest.fixture
def loaded(db):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
    _seed_self_score(db.engine)
    return db


def _export(engine) -> bytes:
    with session_scope(engine) as session:
        return verification_sheet(session, plan=session.exec(select(YearPlan)).one())


def _fill(content: bytes, sheet: str, cells: dict[str, tuple[object, str | None]]) -> bytes:
    """The workbook with `cells` (item code -> (verified, reason)) typed on `sheet`."""
    workbook = load_workbook(io.BytesIO(content))
    page = workbook[sheet]
    rows = {page[f"A{r}"].value: r for r in range(1, page.max_row + 1)}
    for code, (value, reason) in cells.items():
        page[f"E{rows[code]}"] = value
        page[f"F{rows[code]}"] = reason
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _verified(engine) -> dict[tuple[str, str], tuple[float, str | None]]:
    from models.tables import ScoreItem

    with Session(engine) as session:
        rows = session.exec(
            select(Unit.code, ScoreItem.code, Score.verified_points, Score.reason)
            .join(Unit, Unit.id == Score.unit_id)
            .join(ScoreItem, ScoreItem.id == Score.item_id)
            .where(Score.verified_points.is_not(None))
        ).all()
    return {(unit, item): (points, reason) for unit, item, points, reason in rows}


def test_the_sheet_has_one_locked_page_per_unit_with_its_claim_and_open_verify_columns(loaded):
    workbook = load_workbook(io.BytesIO(_export(loaded.engine)))
    assert workbook.sheetnames[:3] == ["stttt", "svhttdl", "sgddt"]
    assert len(workbook.sheetnames) == 10 and workbook["thidua"].sheet_state == "hidden"
    page = workbook["syt"]
    rows = {page[f"A{r}"].value: r for r in range(6, page.max_row + 1)}
    assert page["A2"].value == "Đơn vị: Sở Y tế"
    assert [page[f"{c}{rows['I.1']}"].value for c in "CDE"] == [30, 27, None]
    assert page[f"D{rows['P.1']}"].value == 2  # occurrences, as the unit entered them
    assert page[f"C{rows['P.1']}"].value == "−1 điểm/lần"
    assert page.protection.sheet
    assert page[f"D{rows['I.1']}"].protection.locked
    assert not page[f"E{rows['I.1']}"].protection.locked
    assert not page[f"F{rows['I.1']}"].protection.locked


def test_cli_exports_then_imports_only_what_changed_and_a_second_import_changes_nothing(
    loaded, tmp_path
):
    out = tmp_path / "phieu.xlsx"
    loaded.cli("score", "sheet", "--out", str(out), check=True)
    reason = "Chỉ tiêu tiêm chủng đạt 92%"
    filled = _fill(
        out.read_bytes(),
        "syt",
        {"I.1": (25, reason), "P.1": (3, "Thêm 1 báo cáo muộn"), "I.2": (10, None)},
    )
    out.write_bytes(filled)
    first = loaded.cli("score", "import", str(out), check=True)
    assert "Đã nhập phieu.xlsx: 3 mục thay đổi." in first.stdout
    assert _verified(loaded.engine) == {
        ("syt", "I.1"): (25, reason),
        ("syt", "I.2"): (10, None),
        ("syt", "P.1"): (3, "Thêm 1 báo cáo muộn"),
    }
    with Session(loaded.engine) as session:
        audited = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "verify_score")
        ).one()
    again = loaded.cli("score", "import", str(out), check=True)
    assert "0 mục thay đổi" in again.stdout
    with Session(loaded.engine) as session:
        assert (
            session.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "verify_score")
            ).one()
            == audited
            == 3
        )
    with Session(loaded.engine) as session:
        scores = unit_scores(session, plan=session.exec(select(YearPlan)).one())
    syt = next(score for score in scores if score.unit == "syt")
    assert (syt.total, syt.self_total) == (92, 95)  # I.1 two points lower, one more late report
    # The next export carries what is verified, so a corrected file changes only the correction.
    reexported = load_workbook(io.BytesIO(_export(loaded.engine)))["syt"]
    rows = {reexported[f"A{r}"].value: r for r in range(6, reexported.max_row + 1)}
    assert (reexported[f"E{rows['I.1']}"].value, reexported[f"F{rows['I.1']}"].value) == (
        25,
        reason,
    )
    assert reexported[f"E{rows['P.1']}"].value == 3


def test_a_sheet_with_errors_records_nothing_and_names_every_cell(loaded, tmp_path):
    content = _fill(
        _export(loaded.engine),
        "syt",
        {
            "I.1": (35, "x"),  # above the maximum
            "I.2": (8, None),  # below the claim, no reason
            "I.3": ("=5+5", None),  # a formula
            "P.1": (1.5, "x"),  # fractional occurrences
            "II.1": (4, None),  # fine, but the sheet is refused as a whole
        },
    )
    path = tmp_path / "phieu.xlsx"
    path.write_bytes(content)
    result = loaded.cli("score", "import", str(path))
    assert result.returncode == 1
    rows = {code: r for r, code in _codes(content, "syt")}
    for code, message in [
        ("I.1", "vượt điểm tối đa 30"),
        ("I.2", "cần ghi lý do"),
        ("I.3", "có công thức"),
        ("P.1", "số lần phải là số nguyên"),
    ]:
        line = next(line for line in result.stderr.splitlines() if f"ô E{rows[code]}" in line)
        assert line.startswith(f"phieu.xlsx, trang syt, ô E{rows[code]}") and message in line
    assert "Lỗi: phiếu thẩm định có 4 lỗi, chưa ghi điểm nào" in result.stderr
    assert _verified(loaded.engine) == {}
    path.write_bytes(b"PK not really a workbook")
    unreadable = loaded.cli("score", "import", str(path))
    assert unreadable.returncode == 1
    assert "Lỗi: phieu.xlsx: không phải bảng tính Excel (.xlsx) đọc được." in unreadable.stderr


def _codes(content: bytes, sheet: str) -> list[tuple[int, str]]:
    page = load_workbook(io.BytesIO(content))[sheet]
    return [(r, page[f"A{r}"].value) for r in range(6, page.max_row + 1)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda good: b"not a workbook", "không phải bảng tính Excel (.xlsx) đọc được"),
        (
            lambda good: _retag(good, year=2019),
            "là phiếu năm 2019 của khối bg-vhxh, không phải năm 2020",
        ),
        (lambda good: _retag(good, kind="tu-cham"), "không phải phiếu thẩm định"),
        (lambda good: _rename(good, "syt", "Sở Y tế"), "không thấy trang syt; đừng đổi tên"),
    ],
    ids=["not-excel", "another-year", "not-a-verification-sheet", "renamed-page"],
)
def test_a_wrong_file_is_refused_with_what_it_is(loaded, make, message):
    with pytest.raises(UnreadableSheet, match=re.escape(message)):
        read_verification_sheet(
            make(_export(loaded.engine)), bloc_code="bg-vhxh", year=2020, filename="phieu.xlsx"
        )


def _rename(content: bytes, title: str, new: str) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    workbook[title].title = new
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _retag(content: bytes, **meta: object) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    hidden = workbook["thidua"]
    for row in hidden.iter_rows():
        if row[0].value in meta:
            row[1].value = meta[row[0].value]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_admin_downloads_fills_and_uploads_the_sheet(admin_portal, db):
    _seed_self_score(db.engine)
    page = admin_portal.get("/quan-tri")
    assert "/quan-tri/tham-dinh/2020/phieu-tham-dinh.xlsx" in page.text
    download = admin_portal.get("/quan-tri/tham-dinh/2020/phieu-tham-dinh.xlsx")
    assert download.status_code == 200
    assert 'filename="phieu-tham-dinh-2020.xlsx"' in download.headers["content-disposition"]
    bad = _fill(download.content, "syt", {"I.1": (20, None)})
    refused = admin_portal.post(
        "/quan-tri/tham-dinh/2020/tai-len",
        files={"sheet": ("tham-dinh.xlsx", bad)},
        data={"csrf": admin_portal.csrf},
    )
    assert refused.status_code == 422
    assert "tham-dinh.xlsx, trang syt, ô E" in refused.text and "cần ghi lý do" in refused.text
    assert "Chưa ghi điểm nào" in refused.text and _verified(db.engine) == {}
    good = _fill(download.content, "syt", {"I.1": (20, "Thiếu tài liệu kiểm chứng")})
    saved = admin_portal.post(
        "/quan-tri/tham-dinh/2020/tai-len",
        files={"sheet": ("tham-dinh.xlsx", good)},
        data={"csrf": admin_portal.csrf},
    )
    assert saved.status_code == 200
    assert "Đã nhập phiếu thẩm định tham-dinh.xlsx: 1 mục thay đổi." in saved.text
    assert _verified(db.engine) == {("syt", "I.1"): (20, "Thiếu tài liệu kiểm chứng")}
    signed_out = httpx.get(
        admin_portal.base_url.join("/quan-tri/tham-dinh/2020/phieu-tham-dinh.xlsx")
    )
    assert signed_out.status_code == 303  # to the sign-in page


def test_the_unit_sees_on_its_page_what_the_bloc_changed_and_why(portal, db):
    _seed_self_score(db.engine)
    before = portal.get(portal.paths["syt"])
    assert "Kết quả thẩm định" not in before.text  # nothing verified yet
    reason = "Chỉ tiêu tiêm chủng đạt 92%"
    with session_scope(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        lines = [
            Verified("syt", "I.1", "25", "phieu.xlsx, trang syt, ô E6", reason),
            Verified("syt", "I.2", "10", "phieu.xlsx, trang syt, ô E7", None),
        ]
        assert import_verification(session, plan=plan, lines=lines, actor="vp", at=AT) == (2, [])
    page = portal.get(portal.paths["syt"]).text
    section = page.split('id="tham-dinh-2020"', 1)[1].split("</section>", 1)[0]
    assert "Điểm tạm tính: <strong>93</strong> (tự chấm 95)" in section
    assert f"<td>27</td><td>25</td><td>{reason}</td>" in section
    assert "I.2." not in section  # verified as claimed: not a change
    assert (
        "Ban Dân tộc tỉnh" not in section
        and "Sở Thông tin và Truyền thông (Trưởng khối)" in section
    )
    assert "Kết quả thẩm định" not in portal.get(portal.paths["bdt"]).text
