"""The self-score: an Excel template made from the year's sheet, filled, uploaded and checked
cell by cell; or the same entered on the page."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from domain.self_score import Entry, SheetItem, check_self_score
from models.tables import Score, ScoreItem, Submission, Unit
from portal.score_workbook import build_template
from tests.conftest import PDF

ITEMS = [
    SheetItem("I.1", "Nhiệm vụ", "criterion", 30, None),
    SheetItem("T.1", "Mô hình mới", "bonus", 4, None),
    SheetItem("P.1", "Báo cáo muộn", "penalty", None, 1),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            {"I.1": 28, "T.1": "2,5", "P.1": 2},
            ({"I.1": 28.0, "T.1": 2.5}, {"P.1": 2}, []),
            id="comma-decimal",
        ),
        pytest.param(
            {"I.1": 31},
            ({}, {}, ["Ô X (tiêu chí I.1): 31 điểm vượt điểm tối đa 30."]),
            id="above-max",
        ),
        pytest.param(
            {"I.1": "9,3"},
            ({}, {}, ["Ô X (tiêu chí I.1): điểm phải chấm theo bước 0,5 (đang là 9,3)."]),
            id="off-step",
        ),
        pytest.param(
            {"I.1": "mười"}, ({}, {}, ["Ô X (tiêu chí I.1): “mười” không phải là số."]), id="text"
        ),
        pytest.param(
            {"I.1": None}, ({}, {}, ["Ô X (tiêu chí I.1): chưa nhập điểm."]), id="missing-criterion"
        ),
        pytest.param(
            {"I.1": 1, "P.1": 1.5},
            ({"I.1": 1.0}, {}, ["Ô X (mục P.1): số lần phải là số nguyên không âm (đang là 1,5)."]),
            id="penalty-count",
        ),
        pytest.param(
            {"I.1": -1},
            ({}, {}, ["Ô X (tiêu chí I.1): điểm không được âm (đang là -1)."]),
            id="negative",
        ),
    ],
)
def test_check_self_score(raw, expected):
    entries = {code: Entry(value, "Ô X") for code, value in raw.items()}
    data, errors = check_self_score(ITEMS, entries, 0.5)
    assert (data["scores"], data["occurrences"], errors) == expected


def test_a_formula_is_refused_with_its_cell():
    data, errors = check_self_score(
        ITEMS[:1], {"I.1": Entry("=SUM(A1:A2)", "Ô D7", formula=True)}, 0.5
    )
    assert errors == ["Ô D7 (tiêu chí I.1): có công thức; hãy nhập trực tiếp một con số."]


def _template(portal, unit: str = "syt"):
    response = portal.get(f"{portal.paths[unit]}/bang-diem/2020.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def _rows(sheet) -> dict[str, int]:
    return {
        sheet[f"A{r}"].value: r
        for r in range(6, sheet.max_row + 1)
        if sheet[f"A{r}"].value and not sheet[f"D{r}"].protection.locked
    }


def _filled(workbook, values: dict[str, object] | None = None) -> bytes:
    sheet = workbook["Tự chấm điểm"]
    rows = _rows(sheet)
    for code, row in rows.items():
        sheet[f"D{row}"] = (values or {}).get(code, sheet[f"C{row}"].value if code[0] in "I" else 0)
        if code[0] in "I":  # a criterion: its evidence, as the plan requires
            sheet[f"E{row}"] = f"Quyết định số 12/QĐ-SYT, mục {code}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(portal, content: bytes, unit: str = "syt", report: bool = True):
    files = [("score_file", ("bang-diem.xlsx", content, "application/octet-stream"))]
    if report:
        files.append(("files", ("bao-cao-tong-ket.pdf", PDF, "application/pdf")))
    return portal.post(f"{portal.paths[unit]}/nop/2020/tong-ket", files=files)


def test_template_lists_every_item_with_its_maximum_and_is_locked(portal):
    workbook = _template(portal)
    sheet = workbook["Tự chấm điểm"]
    rows = _rows(sheet)
    assert list(rows) == [
        "I.1",
        "I.2",
        "I.3",
        "I.4",
        "I.5",
        "II.1",
        "II.2",
        "II.3",
        "II.4",
        "III.1",
        "III.2",
        "III.3",
        "III.4",
        "III.5",
        "T.1",
        "T.2",
        "T.3",
        "P.1",
        "P.2",
        "P.3",
        "P.4",
        "P.5",
        "P.6",
    ]
    assert sheet[f"C{rows['I.1']}"].value == 30 and sheet[f"C{rows['P.6']}"].value == "−5 điểm/lần"
    assert (
        sheet.protection.sheet
        and sheet["B7"].protection.locked
        and not sheet[f"D{rows['I.1']}"].protection.locked
    )
    assert sheet["A1"].value == "BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM 2020"
    assert workbook["thidua"].sheet_state == "hidden"


def test_filled_template_is_accepted_and_the_self_scores_saved(portal, db):
    response = _upload(portal, _filled(_template(portal), {"I.1": 27.5, "T.1": 2, "P.1": 1}))
    assert response.status_code == 200, response.text[:2000]
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == "syt")).one()
        scores = {
            code: points
            for code, points in session.exec(
                select(ScoreItem.code, Score.self_points)
                .join(Score, Score.item_id == ScoreItem.id)
                .where(Score.unit_id == unit_id)
            )
        }
        submission = session.exec(select(Submission).where(Submission.unit_id == unit_id)).one()
    assert (
        scores["I.1"] == 27.5
        and scores["I.2"] == 10
        and scores["T.1"] == 2
        and scores["P.1"] == 1
        and scores["P.2"] == 0
    )
    assert len(scores) == 23 and submission.data["occurrences"]["P.1"] == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"I.1": 35}, "Ô D7 (tiêu chí I.1): 35 điểm vượt điểm tối đa 30."),
        ({"I.2": "chín"}, "Ô D8 (tiêu chí I.2): “chín” không phải là số."),
        ({"I.3": "=5+5"}, "Ô D9 (tiêu chí I.3): có công thức; hãy nhập trực tiếp một con số."),
        ({"II.1": None}, "Ô D13 (tiêu chí II.1): chưa nhập điểm."),
    ],
)
def test_each_bad_cell_is_named_and_the_version_kept(portal, db, values, message):
    response = _upload(portal, _filled(_template(portal), values))
    assert response.status_code == 422
    assert message in response.text
    with Session(db.engine) as session:
        (submission,) = session.exec(select(Submission)).all()
    assert submission.status == "rejected" and message in submission.errors


def test_a_sheet_from_another_year_or_unit_or_not_excel_is_refused(portal):
    other_year = build_template(
        bloc_code="bg-vhxh",
        bloc_name="Khối",
        year=2019,
        unit_code="syt",
        unit_name="Sở Y tế",
        groups=[],
        bonus=[],
        penalties=[],
        bonus_cap=10,
    )
    assert (
        "Tệp bảng điểm là mẫu năm 2019, không phải mẫu năm 2020" in _upload(portal, other_year).text
    )
    other_unit = _filled(_template(portal, "bdt"))
    assert "mẫu của đơn vị khác" in _upload(portal, other_unit).text
    assert "không phải bảng tính Excel (.xlsx) đọc được" in _upload(portal, PDF).text


def test_the_annual_report_file_is_required(portal):
    response = _upload(portal, _filled(_template(portal)), report=False)
    assert response.status_code == 422 and "Chưa chọn tệp báo cáo tổng kết." in response.text


def test_scores_can_be_entered_on_the_page_with_evidence_per_criterion(portal, db):
    workbook = _template(portal)
    codes = list(_rows(workbook["Tự chấm điểm"]))
    form = {f"score_{code}": "1" for code in codes if code[0] == "I"}
    form["score_I.1"] = "20,5"
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/tong-ket",
        data=form,
        files=[
            ("files", ("bao-cao.pdf", PDF, "application/pdf")),
            ("evidence_I.1", ("quyet-dinh.pdf", PDF, "application/pdf")),
            *(
                (f"evidence_{code}", ("minh-chung.pdf", PDF, "application/pdf"))
                for code in codes
                if code[0] == "I" and code != "I.1"
            ),
        ],
    )
    assert response.status_code == 200, response.text[:3000]
    from models.tables import SubmissionFile

    with Session(db.engine) as session:
        evidence = session.exec(
            select(SubmissionFile).where(SubmissionFile.criterion_code == "I.1")
        ).one()
        assert evidence.filename == "quyet-dinh.pdf"
    missing = portal.post(
        f"{portal.paths['syt']}/nop/2020/tong-ket",
        data={"score_I.1": "5"},
        files=[("files", ("bao-cao.pdf", PDF, "application/pdf"))],
    )
    assert (
        missing.status_code == 422 and "Ô điểm I.2 (tiêu chí I.2): chưa nhập điểm." in missing.text
    )
