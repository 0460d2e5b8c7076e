"""The year's score table as an Excel workbook: the ranking, and one sheet per unit explaining it.

Points are stored as numbers formatted `0.0`, so a Vietnamese-locale Excel or LibreOffice
shows "95,5".
"""

import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from documents.model import ScoreTable, UnitResult
from documents.text import points

RANKING_SHEET = "Bảng điểm"
POINTS_FORMAT = "0.0"
HEADER_ROW = 3
FONT = "Times New Roman"
THIN = Side(style="thin")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# One object per style, shared by every cell: openpyxl hashes each new one it is given.
TITLE_FONT = Font(name=FONT, size=14, bold=True)
BOLD = Font(name=FONT, size=12, bold=True)
PLAIN = Font(name=FONT, size=12)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TEXT_ALIGN = Alignment(vertical="top", wrap_text=True)
NUMBER_ALIGN = Alignment(vertical="top", wrap_text=False)
NOT_IN_SHEET_NAMES = re.compile(r"[\\/*?:\[\]]")


def write_score_table(path: Path, table: ScoreTable) -> Path:
    """Write the ranking sheet and one "Chi tiết <unit code>" sheet per unit to `path`."""
    workbook = Workbook()
    ranking = workbook.active
    ranking.title = RANKING_SHEET
    _ranking(ranking, table)
    taken = {RANKING_SHEET.casefold()}
    for result in table.results:
        sheet = workbook.create_sheet(sheet_name(f"Chi tiết {result.unit_code}", taken))
        _detail(sheet, result, table.year)
    workbook.save(path)
    return path


def _ranking(sheet: Worksheet, table: ScoreTable) -> None:
    columns = [
        ("Xếp hạng", 9, False),
        ("Đơn vị", 40, False),
        *((f"{code} ({points(maximum)})", 9, True) for code, _, maximum in table.groups),
        ("Điểm thưởng", 10, True),
        ("Điểm trừ", 10, True),
        ("Tự chấm", 10, True),
        ("Tổng điểm", 10, True),
        ("Ghi chú", 40, False),
    ]
    rows = [
        [
            result.rank,
            result.unit_name,
            *(result.groups.get(code) for code, _, _ in table.groups),
            result.bonus,
            result.penalty,
            result.self_total,
            result.total,
            result.note or None,
        ]
        for result in table.results
    ]
    title = f"BẢNG TỔNG HỢP ĐIỂM THI ĐUA NĂM {table.year} — {table.bloc_name}"
    _fill(sheet, title, columns, rows)


def _detail(sheet: Worksheet, result: UnitResult, year: int) -> None:
    columns = [
        ("Mã", 8, False),
        ("Nội dung", 60, False),
        ("Tối đa", 9, True),
        ("Tự chấm", 9, True),
        ("Thẩm định", 10, True),
        ("Điểm", 9, True),
        ("Lý do", 45, False),
    ]
    rows = [
        [
            line.code,
            line.name,
            line.max_points,
            line.self_points,
            line.verified_points,
            line.final_points,
            line.reason,
        ]
        for line in result.lines
    ]
    rows.append([None, "Tổng điểm", None, result.self_total, None, result.total, None])
    title = f"CHI TIẾT ĐIỂM THI ĐUA NĂM {year} — {result.unit_name} (xếp hạng {result.rank})"
    _fill(sheet, title, columns, rows)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _fill(sheet: Worksheet, title: str, columns: list[tuple[str, int, bool]], rows: list) -> None:
    """Title in A1, a bordered table with its header on `HEADER_ROW`, frozen under the header."""
    sheet["A1"] = title
    sheet["A1"].font = TITLE_FONT
    for index, (header, width, _) in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, header)
        cell.font = BOLD
        cell.alignment = HEADER_ALIGN
        cell.border = GRID
        sheet.column_dimensions[cell.column_letter].width = width
    for row_index, values in enumerate(rows, start=HEADER_ROW + 1):
        for index, ((_, _, is_points), value) in enumerate(zip(columns, values, strict=True), 1):
            cell = sheet.cell(row_index, index, value)
            cell.font = PLAIN
            cell.border = GRID
            cell.alignment = NUMBER_ALIGN if is_points else TEXT_ALIGN
            if is_points:
                cell.number_format = POINTS_FORMAT
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4


def sheet_name(name: str, taken: set[str]) -> str:
    """`name` made a valid, unused sheet name (at most 31 characters, none of \\ / * ? : [ ])."""
    base = NOT_IN_SHEET_NAMES.sub("-", name).strip("'")[:31]
    candidate, copy = base, 1
    while candidate.casefold() in taken:
        copy += 1
        suffix = f" ({copy})"
        candidate = base[: 31 - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate
