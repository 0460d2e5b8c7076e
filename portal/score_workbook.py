"""The self-score Excel template: generated from the year's score sheet, read back on upload.

The template carries a hidden sheet naming the bloc, year and unit, so a sheet from another
year or unit is recognised; its structure is locked, only the score and note columns are open.
"""

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from domain.self_score import Entry, SheetItem
from domain.uploads import UnsafeFile, check_workbook

SHEET = "Tự chấm điểm"
META = "thidua"
FIRST_ROW = 6
TEMPLATE_ROWS = 1_000  # far more rows than any score sheet has items: bounds a forged sheet
EVIDENCE_CHARACTERS = 2_000  # of column E (note, evidence link) kept per item
UNREADABLE = "Tệp bảng điểm không phải bảng tính Excel (.xlsx) đọc được."
OPEN = Protection(locked=False)


def build_template(
    *,
    bloc_code: str,
    bloc_name: str,
    year: int,
    unit_code: str,
    unit_name: str,
    groups: list[tuple[str, str, float, list[SheetItem]]],
    bonus: list[SheetItem],
    penalties: list[SheetItem],
    bonus_cap: float,
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet["A1"] = f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {year}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = f"Đơn vị: {unit_name} – {bloc_name}"
    sheet["A3"] = (
        "Nhập điểm tự chấm ở cột D (điểm trừ: số lần), ghi chú và tài liệu kiểm chứng ở cột E. Không sửa các cột khác."
    )
    for column, title in zip(
        "ABCDE",
        ["Mã", "Nội dung tiêu chí", "Điểm tối đa", "Điểm tự chấm", "Ghi chú / tài liệu kiểm chứng"],
        strict=True,
    ):
        sheet[f"{column}5"] = title
        sheet[f"{column}5"].font = Font(bold=True)
    for column, width in zip("ABCDE", [8, 70, 12, 14, 40], strict=True):
        sheet.column_dimensions[column].width = width
    score_check = DataValidation(
        type="decimal", operator="between", formula1="0", formula2="1000", allow_blank=True
    )
    count_check = DataValidation(
        type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True
    )
    sheet.add_data_validation(score_check)
    sheet.add_data_validation(count_check)
    row = FIRST_ROW

    def heading(code: str, name: str, limit: str) -> None:
        nonlocal row
        sheet.append([code, name, limit])
        for cell in sheet[row][:3]:
            cell.font = Font(bold=True)
        row += 1

    def entry(item: SheetItem, limit, check: DataValidation) -> None:
        nonlocal row
        sheet.append([item.code, item.name, limit])
        sheet[f"B{row}"].alignment = Alignment(wrap_text=True)
        sheet[f"D{row}"].protection = OPEN
        sheet[f"E{row}"].protection = OPEN
        check.add(f"D{row}")
        row += 1

    for code, name, maximum, items in groups:
        heading(code, name, maximum)
        for item in items:
            entry(item, item.max_points, score_check)
    if bonus:
        heading("", f"Điểm thưởng (tối đa {bonus_cap:g} điểm)", bonus_cap)
        for item in bonus:
            entry(item, item.max_points, score_check)
    if penalties:
        heading("", "Điểm trừ (cột D: số lần)", "")
        for item in penalties:
            entry(item, f"−{item.points:g} điểm/lần", count_check)
    sheet.protection.sheet = True
    meta = workbook.create_sheet(META)
    for values in (("bloc", bloc_code), ("year", year), ("unit", unit_code)):
        meta.append(values)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_workbook(
    content: bytes, *, bloc_code: str, year: int, unit_code: str
) -> tuple[dict[str, Entry], list[str]]:
    """Entries by item code from a filled template, or the reason it cannot be read. The file is
    checked before openpyxl opens it (zip bomb, XML size), then read as a stream, only the
    template's columns and at most TEMPLATE_ROWS rows."""
    try:
        check_workbook(content)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except UnsafeFile as error:
        return {}, [f"Tệp bảng điểm bị từ chối: {error}."]
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        return {}, [UNREADABLE]
    try:
        return _entries(workbook, bloc_code=bloc_code, year=year, unit_code=unit_code)
    except (KeyError, ValueError):  # a forged part openpyxl cannot make sense of
        return {}, [UNREADABLE]
    finally:
        workbook.close()


def _entries(
    workbook: Workbook, *, bloc_code: str, year: int, unit_code: str
) -> tuple[dict[str, Entry], list[str]]:
    if META not in workbook.sheetnames or SHEET not in workbook.sheetnames:
        return {}, [
            "Tệp bảng điểm không phải mẫu do hệ thống tạo: hãy tải mẫu trên trang này và điền vào đó."
        ]
    rows = workbook[META].iter_rows(max_row=TEMPLATE_ROWS, max_col=2, values_only=True)
    meta = {row[0]: row[1] for row in rows if row and row[0]}
    if meta.get("bloc") != bloc_code or str(meta.get("year")) != str(year):
        return {}, [
            f"Tệp bảng điểm là mẫu năm {meta.get('year')}, không phải mẫu năm {year} của khối: hãy tải mẫu mới."
        ]
    if meta.get("unit") != unit_code:
        return {}, ["Tệp bảng điểm là mẫu của đơn vị khác: hãy tải mẫu trên trang của đơn vị mình."]
    entries = {}
    rows = workbook[SHEET].iter_rows(
        min_row=FIRST_ROW, max_row=FIRST_ROW + TEMPLATE_ROWS, max_col=5
    )
    for row, (code_cell, _, _, cell, note) in enumerate(rows, start=FIRST_ROW):
        code = code_cell.value
        protection = getattr(cell, "protection", None)  # a missing cell has none
        if not code or protection is None or protection.locked:
            continue  # headings: no open score cell
        evidence = " ".join(str(note.value or "").split())[:EVIDENCE_CHARACTERS] or None
        entries[str(code).strip()] = Entry(
            cell.value, f"Ô D{row}", formula=cell.data_type == "f", evidence=evidence
        )
    return entries, []
