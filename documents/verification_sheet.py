"""The bloc's verification sheet (phiếu thẩm định) as an Excel workbook: one sheet per unit with
its self scores, filled in by the secretariat and read back (admin page, `thidua score import`).

A hidden sheet names the bloc, the year and each sheet's unit, so a file from another year or
bloc is refused. Only the verified and reason columns are open; what is already verified is
filled in, so a file downloaded, corrected and uploaded again changes only what was changed.
Penalty items are entered as occurrences, as on the self-score sheet.
"""

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from documents.score_table import sheet_name
from domain.scoring import UnitScore, Verified
from domain.uploads import UnsafeFile, check_workbook

META = "thidua"
KIND = "tham-dinh"
HEADER_ROW = 5
SHEET_ROWS = 1_000  # far more rows than any page has items: bounds reading a forged sheet
OPEN = Protection(locked=False)
VALUE, REASON = "E", "F"


def build_verification_sheet(
    *, bloc_code: str, year: int, units: list[tuple[str, UnitScore]]
) -> bytes:
    """The workbook for `units` ((unit name, its current score) pairs)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken = {META}
    meta = [("bloc", bloc_code), ("year", year), ("kind", KIND)]
    for name, score in units:
        sheet = workbook.create_sheet(sheet_name(score.unit, taken))
        meta.append((f"sheet:{sheet.title}", score.unit))
        _unit_sheet(sheet, year, name, score)
    hidden = workbook.create_sheet(META)
    for values in meta:
        hidden.append(values)
    hidden.sheet_state = "hidden"
    hidden.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _unit_sheet(sheet, year: int, name: str, score: UnitScore) -> None:
    sheet["A1"] = f"PHIẾU THẨM ĐỊNH ĐIỂM THI ĐUA NĂM {year}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = f"Đơn vị: {name}"
    sheet["A3"] = (
        "Nhập điểm thẩm định ở cột E (mục trừ: số lần) và lý do ở cột F khi khác điểm tự chấm. "
        "Ô E để trống: mục đó chưa thẩm định. Không sửa các cột khác."
    )
    headers = ["Mã", "Nội dung", "Điểm tối đa", "Tự chấm", "Thẩm định", "Lý do"]
    for column, title, width in zip("ABCDEF", headers, [8, 60, 12, 10, 12, 45], strict=True):
        sheet[f"{column}{HEADER_ROW}"] = title
        sheet[f"{column}{HEADER_ROW}"].font = Font(bold=True)
        sheet.column_dimensions[column].width = width
    check = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    check.allow_blank = True
    sheet.add_data_validation(check)
    for row, line in enumerate(score.lines, start=HEADER_ROW + 1):
        item = line.item
        if item.kind == "penalty":  # occurrences, as the unit entered them
            limit = f"−{item.points:g} điểm/lần"
            own, checked = (
                None if value is None else value / item.points
                for value in (line.self_points, line.verified_points)
            )
        else:
            limit, own, checked = item.max_points, line.self_points, line.verified_points
        sheet.append([item.code, item.name, limit, own, checked, line.reason])
        sheet[f"B{row}"].alignment = Alignment(wrap_text=True, vertical="top")
        sheet[f"{VALUE}{row}"].protection = OPEN
        sheet[f"{REASON}{row}"].protection = OPEN
        sheet[f"{REASON}{row}"].alignment = Alignment(wrap_text=True, vertical="top")
        check.add(f"{VALUE}{row}")
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    sheet.protection.sheet = True


class UnreadableSheet(ValueError):
    """The file is not this bloc's verification sheet of this year; the message says what it is."""


def read_verification_sheet(
    content: bytes, *, bloc_code: str, year: int, filename: str
) -> list[Verified]:
    """The filled-in lines of a verification sheet, each with the cell it came from. The file is
    checked before openpyxl opens it (zip bomb, XML size), then read as a stream, only the
    sheet's columns and at most SHEET_ROWS rows a page."""
    unreadable = UnreadableSheet(f"{filename}: không phải bảng tính Excel (.xlsx) đọc được.")
    try:
        check_workbook(content)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except UnsafeFile as error:
        raise UnreadableSheet(f"{filename}: tệp bị từ chối: {error}.") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise unreadable from None
    try:
        return _lines(workbook, bloc_code=bloc_code, year=year, filename=filename)
    except UnreadableSheet:
        raise
    except (KeyError, ValueError):  # a forged part openpyxl cannot make sense of
        raise unreadable from None
    finally:
        workbook.close()


def _lines(workbook: Workbook, *, bloc_code: str, year: int, filename: str) -> list[Verified]:
    if META not in workbook.sheetnames:
        raise UnreadableSheet(
            f"{filename}: không phải phiếu thẩm định do hệ thống tạo; hãy tải phiếu trên trang quản trị."
        )
    rows = workbook[META].iter_rows(max_row=SHEET_ROWS, max_col=2, values_only=True)
    meta = {row[0]: row[1] for row in rows if row and row[0]}
    if meta.get("kind") != KIND:
        raise UnreadableSheet(
            f"{filename}: là mẫu tự chấm điểm của đơn vị, không phải phiếu thẩm định."
        )
    if meta.get("bloc") != bloc_code or str(meta.get("year")) != str(year):
        raise UnreadableSheet(
            f"{filename}: là phiếu năm {meta.get('year')} của khối {meta.get('bloc')}, "
            f"không phải năm {year} của khối {bloc_code}."
        )
    pages = {str(key)[6:]: unit for key, unit in meta.items() if str(key).startswith("sheet:")}
    missing = [title for title in pages if title not in workbook.sheetnames]
    if missing:
        raise UnreadableSheet(
            f"{filename}: không thấy trang {', '.join(missing)}; đừng đổi tên hay xóa trang "
            "(ô Thẩm định để trống là chưa thẩm định)."
        )
    lines = []
    for title, unit in pages.items():
        rows = workbook[title].iter_rows(
            min_row=HEADER_ROW + 1, max_row=HEADER_ROW + SHEET_ROWS, max_col=6
        )
        for row, (code_cell, _, _, _, value, reason_cell) in enumerate(rows, start=HEADER_ROW + 1):
            code = code_cell.value
            if not code or value.value is None or str(value.value).strip() == "":
                continue  # not verified yet
            reason = reason_cell.value
            lines.append(
                Verified(
                    unit=unit,
                    code=str(code).strip(),
                    value=value.value,
                    where=f"{filename}, trang {title}, ô {VALUE}{row}",
                    reason=None if reason is None else str(reason),
                    formula=value.data_type == "f",
                )
            )
    return lines
