"""The minutes of the year-end meeting and the report to the province, as Word documents.

Laid out per Nghị định 30/2020/NĐ-CP: A4, Times New Roman, issuing body top-left and national
motto top-right, title in bold capitals, "Nơi nhận:" bottom-left, signature bottom-right.
The words come from `templates/`; this module only sets them.
"""

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from documents.model import Letterhead, ScoreTable, YearEnd
from documents.text import body_lines, place_date, points, split_marker

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEADER_SIZE = Pt(13)
TABLE_SIZE = Pt(13)
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PAGE = {"width": Mm(210), "height": Mm(297)}
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
TEXT_WIDTH = Mm(210 - 30 - 15)
HEADER_COLUMNS = (Mm(65), Mm(100))
LINE_STYLES = {  # bold, italic, alignment
    None: (False, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "title": (True, False, WD_ALIGN_PARAGRAPH.CENTER),
    "heading": (True, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "subheading": (True, True, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "minor": (False, True, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "centred": (False, False, WD_ALIGN_PARAGRAPH.CENTER),
}


def write_minutes(path: Path, year_end: YearEnd) -> Path:
    """Write the minutes (biên bản) of the year-end meeting to `path`, signed by chair and secretary."""
    document = _new_document()
    _letterhead(document, year_end.letterhead_minutes)
    _body(document, body_lines("minutes", year_end), year_end.scores)
    left, right = _closing_table(document)
    _signature(left, "THƯ KÝ", year_end.secretary_name)
    _signature(right, "CHỦ TRÌ", year_end.chair_name)
    document.save(path)
    return path


def write_report(path: Path, year_end: YearEnd) -> Path:
    """Write the report on scores, ranking, awards proposed and next year's head to `path`."""
    document = _new_document()
    _letterhead(document, year_end.letterhead_report)
    _body(document, body_lines("report", year_end), year_end.scores)
    left, right = _closing_table(document)
    _copies_to(left, year_end.copies_to)
    _signature(right, year_end.signer_title, year_end.signer_name)
    document.save(path)
    return path


def _new_document():
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = PAGE["width"], PAGE["height"]
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    normal = styles["Normal"]
    for properties in (defaults, normal.element.get_or_add_rPr()):
        _use_font(properties)
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    return document


def _use_font(properties) -> None:
    """Times New Roman for every script, east-asian included, so Vietnamese renders in it too."""
    fonts = properties.get_or_add_rFonts()
    for attribute in [name for name in fonts.attrib if "heme" in name]:  # asciiTheme, cstheme…
        del fonts.attrib[attribute]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), "vi-VN")


def _letterhead(document, letterhead: Letterhead) -> None:
    table = _layout_table(document, rows=2, widths=HEADER_COLUMNS)
    body, nation = table.rows[0].cells
    if letterhead.parent:
        _line(body, letterhead.parent.upper(), size=HEADER_SIZE)
    _line(body, letterhead.issuer.upper(), bold=True, size=HEADER_SIZE)
    _rule(body, Mm(25), HEADER_COLUMNS[0])
    _line(nation, NATION, bold=True, size=HEADER_SIZE)
    _line(nation, MOTTO, bold=True, size=BODY_SIZE)
    _rule(nation, Mm(60), HEADER_COLUMNS[1])
    number, dated = table.rows[1].cells
    _line(number, f"Số: {letterhead.number}", size=HEADER_SIZE)
    _line(dated, place_date(letterhead.place, letterhead.on), italic=True)
    document.add_paragraph()


def _body(document, lines: list[str], scores: ScoreTable) -> None:
    for line in lines:
        if line == "@ranking":
            _ranking(document, scores)
            continue
        if line == "@rule":
            _rule(document, Mm(40), TEXT_WIDTH)
            continue
        style, text = split_marker(line)
        bold, italic, alignment = LINE_STYLES[style]
        paragraph = _line(document, text, bold=bold, italic=italic, alignment=alignment)
        if style not in ("title", "centred"):
            paragraph.paragraph_format.first_line_indent = Mm(10)
            paragraph.paragraph_format.space_before = Pt(6)


def _ranking(document, scores: ScoreTable) -> None:
    headers = [
        "Xếp hạng",
        "Đơn vị",
        *(f"{code} ({points(maximum)})" for code, _, maximum in scores.groups),
        "Thưởng",
        "Trừ",
        "Tổng điểm",
        "Ghi chú",
    ]
    rows = [
        [
            str(result.rank),
            result.unit_name,
            *(_points_or_blank(result.groups.get(code)) for code, _, _ in scores.groups),
            points(result.bonus),
            points(result.penalty),
            points(result.total),
            result.note,
        ]
        for result in scores.results
    ]
    fixed = [Mm(14), Mm(42), *(Mm(13) for _ in scores.groups), Mm(15), Mm(13), Mm(16)]
    notes = max(Mm(20), TEXT_WIDTH - sum(fixed))
    table = _layout_table(document, rows=1 + len(rows), widths=(*fixed, Length(notes)))
    table.style = document.styles["Table Grid"]
    _repeat_as_header(table.rows[0])
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _line(cell, header, bold=True, size=TABLE_SIZE)
    for row, values in zip(table.rows[1:], rows, strict=True):
        for column, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            text_column = column in (1, len(values) - 1)
            alignment = WD_ALIGN_PARAGRAPH.LEFT if text_column else WD_ALIGN_PARAGRAPH.CENTER
            _line(cell, value, size=TABLE_SIZE, alignment=alignment)


def _closing_table(document) -> tuple[_Cell, _Cell]:
    document.add_paragraph()
    table = _layout_table(document, rows=1, widths=(Mm(75), Mm(90)))
    return table.rows[0].cells[0], table.rows[0].cells[1]


def _copies_to(cell: _Cell, copies_to: list[str]) -> None:
    if not copies_to:
        return
    left = WD_ALIGN_PARAGRAPH.LEFT
    _line(cell, "Nơi nhận:", bold=True, italic=True, size=Pt(12), alignment=left)
    for index, copy in enumerate(copies_to):
        end = "." if index == len(copies_to) - 1 else ";"
        _line(
            cell,
            f"- {copy.strip().removeprefix('- ').rstrip(';.')}{end}",
            size=Pt(11),
            alignment=left,
        )


def _signature(cell: _Cell, title: str, name: str) -> None:
    for line in title.upper().splitlines():
        _line(cell, line, bold=True)
    for _ in range(4):  # room for the signature and the seal
        _line(cell, "")
    if name:
        _line(cell, name, bold=True)


def _layout_table(document, *, rows: int, widths) -> Table:
    """A table of fixed column widths; borderless unless given a style."""
    table = document.add_table(rows=rows, cols=len(widths))
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    return table


def _line(
    container,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
    alignment=WD_ALIGN_PARAGRAPH.CENTER,
) -> Paragraph:
    paragraph = _paragraph(container)
    paragraph.alignment = alignment
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    run.font.size = size
    return paragraph


def _rule(container, width: Length, span: Length) -> None:
    """A short horizontal line, centred under the line above (a bottom border, kept thin)."""
    paragraph = _paragraph(container)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attribute, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{attribute}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)  # before spacing and ind, as the schema wants
    indent = Length(max(0, (span - width) // 2 - Mm(2)))  # cell margins take about 2 mm
    paragraph.paragraph_format.left_indent = indent
    paragraph.paragraph_format.right_indent = indent
    paragraph.paragraph_format.line_spacing = Pt(3)


def _paragraph(container) -> Paragraph:
    """A new paragraph; in a fresh table cell, the empty one it already holds."""
    if isinstance(container, _Cell):
        only = container.paragraphs
        if len(only) == 1 and not only[0].runs and only[0]._p.pPr is None:
            return only[0]
    return container.add_paragraph()


def _repeat_as_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _points_or_blank(value: float | None) -> str:
    return "" if value is None else points(value)
