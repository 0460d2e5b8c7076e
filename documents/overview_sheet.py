"""The secretariat's overview as an Excel sheet: units × deadlines, each cell its state (coloured
as on the page), the newest version and when it arrived."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from domain.status import SubmissionState

FONT = "Times New Roman"
BOLD = Font(name=FONT, size=12, bold=True)
PLAIN = Font(name=FONT, size=12)
WRAP = Alignment(vertical="top", wrap_text=True)
FILLS = {  # the page's colours
    SubmissionState.SUBMITTED: PatternFill("solid", fgColor="E3F4E5"),
    SubmissionState.LATE: PatternFill("solid", fgColor="FFF3D6"),
    SubmissionState.PENDING: PatternFill("solid", fgColor="E8EEF8"),
    SubmissionState.OVERDUE: PatternFill("solid", fgColor="FDE4E1"),
}
NOT_OWED = "—"


def write_overview(
    title: str,
    columns: list[str],
    rows: list[tuple[str, list[tuple[SubmissionState, str] | None]]],
) -> bytes:
    """The workbook: `title` in A1, then a header of "Đơn vị" and `columns`, then one row per
    unit: its name and, per deadline, (state, text) or None where it owes nothing."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tình hình nộp hồ sơ"
    sheet["A1"] = title
    sheet["A1"].font = BOLD
    sheet.append([])
    sheet.append(["Đơn vị", *columns])
    for cell in sheet[3]:
        cell.font, cell.alignment = BOLD, WRAP
    for unit, cells in rows:
        sheet.append([unit, *(entry[1] if entry else NOT_OWED for entry in cells)])
        for cell, entry in zip(sheet[sheet.max_row][1:], cells, strict=True):
            cell.font, cell.alignment = PLAIN, WRAP
            if entry:
                cell.fill = FILLS[entry[0]]
        sheet.cell(sheet.max_row, 1).font = PLAIN
    sheet.column_dimensions["A"].width = 40
    for index in range(len(columns)):
        sheet.column_dimensions[sheet.cell(3, index + 2).column_letter].width = 32
    sheet.freeze_panes = "B4"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
