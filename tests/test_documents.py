"""The year-end documents read back with the right words, numbers and layout (NĐ 30/2020)."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from documents.model import (
    Letterhead,
    Proposal,
    ScoreLine,
    ScoreTable,
    UnitResult,
    VoteCount,
    YearEnd,
)
from documents.score_table import write_score_table
from documents.text import clock_date, percent, place_date, points
from documents.word import write_minutes, write_report

BLOC = "Khối thi đua các cơ quan Văn hóa - Xã hội"
GROUPS = [
    ("I", "Thực hiện nhiệm vụ chuyên môn", 60.0),
    ("II", "Công tác thi đua, khen thưởng", 30.0),
    ("III", "Xây dựng tổ chức Đảng, đoàn thể", 10.0),
]
# The 2020 members (examples, not confirmed): rank, code, name, groups I–III, bonus, penalty, note.
UNITS = [
    (1, "STTTT", "Sở Thông tin và Truyền thông", (58.5, 28, 9), 2, 2, ""),
    (2, "SYT", "Sở Y tế", (57, 27.5, 9), 1, 1.5, "Đồng hạng 2; xếp theo điểm trừ ít hơn"),
    (2, "SGDDT", "Sở Giáo dục và Đào tạo", (57, 28, 9.5), 0.5, 2, "Đồng hạng 2"),
    (4, "SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", (56, 27, 8.25), 1, 1, ""),
    (5, "DPTTH", "Đài Phát thanh và Truyền hình tỉnh", (55, 26, 9), 0, 0, ""),
    (6, "BBG", "Báo Bắc Giang", (54.5, 26, 8.25), 0, 0, ""),
    (7, "SKHCN", "Sở Khoa học và Công nghệ", (54, 25, 8), 1, 1, ""),
    (8, "SLDTBXH", "Sở Lao động - Thương binh và Xã hội", (53, 25, 8.5), 0, 1, ""),
    (9, "BDT", "Ban Dân tộc tỉnh", (52, 24, 8), 0, 0, ""),
]
RANKING = [
    ("1", "Sở Thông tin và Truyền thông", "95,5"),
    ("2", "Sở Y tế", "93"),
    ("2", "Sở Giáo dục và Đào tạo", "93"),
    ("4", "Sở Văn hóa, Thể thao và Du lịch", "91,25"),
    ("5", "Đài Phát thanh và Truyền hình tỉnh", "90"),
    ("6", "Báo Bắc Giang", "88,75"),
    ("7", "Sở Khoa học và Công nghệ", "87"),
    ("8", "Sở Lao động - Thương binh và Xã hội", "85,5"),
    ("9", "Ban Dân tộc tỉnh", "84"),
]
FONT = "Times New Roman"
MOTTO = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]


def unit_result(rank, code, name, groups, bonus, penalty, note) -> UnitResult:
    """A unit's result whose lines explain it: 0,5 off group I, a bonus and a penalty line."""
    lines = [
        ScoreLine(
            code=f"{group}.1",
            name=group_name,
            kind="criterion",
            max_points=maximum,
            self_points=got + 0.5 if group == "I" else got,
            verified_points=got,
            final_points=got,
            reason="Thiếu tài liệu kiểm chứng" if group == "I" else None,
        )
        for (group, group_name, maximum), got in zip(GROUPS, groups, strict=True)
    ]
    if bonus:
        lines.append(
            ScoreLine("T.1", "Sáng kiến được công nhận", "bonus", 5.0, bonus, bonus, bonus, None)
        )
    if penalty:
        lines.append(
            ScoreLine(
                "Tr.1", "Nộp báo cáo muộn", "penalty", None, None, penalty, penalty, "Nộp muộn"
            )
        )
    total = sum(groups) + bonus - penalty
    return UnitResult(
        rank=rank,
        unit_code=code,
        unit_name=name,
        groups={group: got for (group, _, _), got in zip(GROUPS, groups, strict=True)},
        bonus=bonus,
        penalty=penalty,
        self_total=total + 0.5 + penalty,
        total=total,
        lines=lines,
        note=note,
    )


def make_scores(units=UNITS) -> ScoreTable:
    return ScoreTable(
        bloc_name=BLOC,
        year=2020,
        groups=GROUPS,
        bonus_cap=5.0,
        total_max=100.0,
        results=[unit_result(*unit) for unit in units],
    )


def vote(title, counts, *, valid, outcome) -> VoteCount:
    return VoteCount(
        title=title,
        members=9,
        present=8,
        issued=8,
        returned=8,
        valid=valid,
        invalid=8 - valid,
        counts=counts,
        threshold="trên 50% tổng số đơn vị thành viên (trên 4,5 phiếu)",
        outcome=outcome,
    )


def letterhead(number: str, on: date) -> Letterhead:
    return Letterhead(
        parent="UBND TỈNH BẮC GIANG",
        issuer="Khối thi đua các cơ quan Văn hóa - Xã hội",
        number=number,
        place="Bắc Giang",
        on=on,
    )


def make_year_end(**changes) -> YearEnd:
    names = [name for _, _, name, *_ in UNITS]
    year_end = YearEnd(
        letterhead_minutes=letterhead("01/BB-KTĐ", date(2020, 12, 15)),
        letterhead_report=letterhead("02/BC-KTĐ", date(2021, 2, 5)),
        bloc_name=BLOC,
        year=2020,
        next_year=2021,
        meeting_title="Hội nghị tổng kết công tác thi đua, khen thưởng năm 2020",
        held_at=datetime(2020, 12, 15, 7, 0, tzinfo=UTC),
        ended_at=datetime(2020, 12, 15, 9, 30, tzinfo=UTC),
        location="Hội trường Sở Thông tin và Truyền thông",
        chair="Đại diện lãnh đạo Sở Thông tin và Truyền thông (Trưởng khối)",
        secretary="Đại diện Văn phòng Sở Thông tin và Truyền thông",
        chair_name="Nguyễn Văn An",
        secretary_name="Trần Thị Bình",
        present=[name for name in names if name != "Ban Dân tộc tỉnh"],
        absent=["Ban Dân tộc tỉnh"],
        scores=make_scores(),
        votes=[
            vote(
                "Bình xét đề nghị tặng Cờ thi đua của UBND tỉnh",
                [("Sở Thông tin và Truyền thông", 7), ("Sở Y tế", 0)],
                valid=7,
                outcome=["Sở Thông tin và Truyền thông: 7/9 phiếu (77,8%) — đạt."],
            ),
            vote(
                "Bầu Trưởng khối năm 2021",
                [("Sở Văn hóa, Thể thao và Du lịch", 6), ("Sở Y tế", 2)],
                valid=8,
                outcome=["Sở Văn hóa, Thể thao và Du lịch: 6/9 phiếu (66,7%) — trúng cử."],
            ),
        ],
        proposals=[
            Proposal("Cờ thi đua của UBND tỉnh", [("Sở Thông tin và Truyền thông", 95.5, 7)]),
            Proposal(
                "Bằng khen của Chủ tịch UBND tỉnh",
                [("Sở Y tế", 93.0, None), ("Sở Giáo dục và Đào tạo", 93.0, None)],
            ),
        ],
        head_next="Sở Văn hóa, Thể thao và Du lịch",
        deputy_next="Sở Y tế",
        election_note="theo kết quả bỏ phiếu",
        recipients=["Hội đồng Thi đua - Khen thưởng tỉnh"],
        copies_to=[
            "Như trên",
            "Ban Thi đua - Khen thưởng tỉnh",
            "Các đơn vị thành viên khối",
            "Lưu: VT",
        ],
        signer_title="TM. Khối thi đua\nTrưởng khối",
        signer_name="Nguyễn Văn An",
    )
    return replace(year_end, **changes)


@pytest.fixture
def minutes(tmp_path):
    return Document(str(write_minutes(tmp_path / "bien-ban.docx", make_year_end())))


@pytest.fixture
def report(tmp_path):
    return Document(str(write_report(tmp_path / "bao-cao.docx", make_year_end())))


@pytest.fixture(params=["minutes", "report"])
def document(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def workbook(tmp_path):
    return load_workbook(write_score_table(tmp_path / "bang-diem.xlsx", make_scores()))


def texts(document) -> list[str]:
    """The body's own non-empty paragraphs (not those inside tables), in order."""
    return [paragraph.text for paragraph in document.paragraphs if paragraph.text]


def cell_texts(cell) -> list[str]:
    return [paragraph.text for paragraph in cell.paragraphs]


def ranking_rows(document) -> list[list[str]]:
    (table,) = [table for table in document.tables if table.cell(0, 0).text == "Xếp hạng"]
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_paragraphs(document):
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


# --- wording helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2020, 3, 5), "Bắc Giang, ngày 05 tháng 3 năm 2020", id="day-below-10"),
        pytest.param(date(2021, 2, 5), "Bắc Giang, ngày 05 tháng 02 năm 2021", id="february"),
        pytest.param(date(2021, 1, 20), "Bắc Giang, ngày 20 tháng 01 năm 2021", id="january"),
        pytest.param(date(2020, 12, 15), "Bắc Giang, ngày 15 tháng 12 năm 2020", id="december"),
        pytest.param(date(2020, 10, 1), "Bắc Giang, ngày 01 tháng 10 năm 2020", id="october"),
    ],
)
def test_place_date_pads_days_below_ten_and_months_one_and_two(day, expected):
    assert place_date("Bắc Giang", day) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(95.5, "95,5", id="half"),
        pytest.param(90.0, "90", id="whole-float"),
        pytest.param(90, "90", id="int"),
        pytest.param(100, "100", id="hundred"),
        pytest.param(87.25, "87,25", id="quarter"),
        pytest.param(0.1 + 0.2, "0,3", id="float-noise"),
        pytest.param(1 / 3, "0,33", id="two-decimals-at-most"),
        pytest.param(0, "0", id="zero"),
    ],
)
def test_points_use_a_decimal_comma_without_trailing_zeros(value, expected):
    assert points(value) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        pytest.param(8, 9, "88,9%", id="rounded"),
        pytest.param(7, 9, "77,8%", id="round-half-up"),
        pytest.param(9, 9, "100%", id="all"),
        pytest.param(4.5, 9, "50%", id="half"),
        pytest.param(0, 9, "0%", id="none"),
    ],
)
def test_percent_has_one_decimal_with_a_comma(part, whole, expected):
    assert percent(part, whole) == expected


def test_percent_of_no_members_is_an_error():
    with pytest.raises(ValueError, match="must not be zero"):
        percent(1, 0)


def test_meeting_time_reads_in_vietnam_time_and_refuses_naive_instants():
    assert clock_date(datetime(2020, 12, 15, 7, 0, tzinfo=UTC)) == (
        "14 giờ 00, ngày 15 tháng 12 năm 2020"
    )
    assert clock_date(datetime(2021, 1, 31, 20, 5, tzinfo=UTC)) == (
        "03 giờ 05, ngày 01 tháng 02 năm 2021"
    )
    with pytest.raises(ValueError, match="time zone"):
        clock_date(datetime(2020, 12, 15, 14, 0))


# --- the score workbook --------------------------------------------------------------------


def test_score_table_ranks_units_with_points_stored_as_numbers(workbook):
    sheet = workbook["Bảng điểm"]
    assert sheet["A1"].value == f"BẢNG TỔNG HỢP ĐIỂM THI ĐUA NĂM 2020 — {BLOC}"
    assert [cell.value for cell in sheet[3]] == [
        "Xếp hạng",
        "Đơn vị",
        "I (60)",
        "II (30)",
        "III (10)",
        "Điểm thưởng",
        "Điểm trừ",
        "Tự chấm",
        "Tổng điểm",
        "Ghi chú",
    ]
    assert [cell.value for cell in sheet[4]] == [
        1, "Sở Thông tin và Truyền thông", 58.5, 28, 9, 2, 2, 98, 95.5, None
    ]  # fmt: skip
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [(str(row[0]), row[1], points(row[8])) for row in rows] == RANKING
    assert rows[1][9] == "Đồng hạng 2; xếp theo điểm trừ ít hơn"
    for row in sheet.iter_rows(min_row=4, min_col=3, max_col=9):
        for cell in row:
            assert isinstance(cell.value, int | float) and cell.number_format == "0.0"
    assert sheet["A4"].number_format == "General"


def test_score_table_has_one_detail_sheet_per_unit_with_lines_and_reasons(workbook):
    assert workbook.sheetnames == ["Bảng điểm", *(f"Chi tiết {unit[1]}" for unit in UNITS)]
    sheet = workbook["Chi tiết SYT"]
    assert sheet["A1"].value == "CHI TIẾT ĐIỂM THI ĐUA NĂM 2020 — Sở Y tế (xếp hạng 2)"
    assert [cell.value for cell in sheet[3]] == [
        "Mã", "Nội dung", "Tối đa", "Tự chấm", "Thẩm định", "Điểm", "Lý do"
    ]  # fmt: skip
    assert list(sheet.iter_rows(min_row=4, values_only=True)) == [
        ("I.1", "Thực hiện nhiệm vụ chuyên môn", 60, 57.5, 57, 57, "Thiếu tài liệu kiểm chứng"),
        ("II.1", "Công tác thi đua, khen thưởng", 30, 27.5, 27.5, 27.5, None),
        ("III.1", "Xây dựng tổ chức Đảng, đoàn thể", 10, 9, 9, 9, None),
        ("T.1", "Sáng kiến được công nhận", 5, 1, 1, 1, None),
        ("Tr.1", "Nộp báo cáo muộn", None, None, 1.5, 1.5, "Nộp muộn"),
        (None, "Tổng điểm", None, 95, None, 93, None),
    ]
    assert sheet["F9"].number_format == "0.0" and sheet["F9"].font.bold
    no_penalty = [row[0] for row in workbook["Chi tiết BDT"].iter_rows(min_row=4, values_only=True)]
    assert no_penalty == ["I.1", "II.1", "III.1", None]


def test_score_sheets_use_times_new_roman_and_freeze_the_header(workbook):
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "C4"
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert cells and all(cell.font.name == FONT for cell in cells), sheet.title


def test_sheet_names_are_short_unique_and_free_of_forbidden_characters(tmp_path):
    awkward = "VP/UBND:[TỈNH]*BẮC GIANG?văn phòng"
    units = [(1, awkward, "Văn phòng UBND tỉnh", (50, 20, 5), 0, 0, "")] * 2
    path = write_score_table(tmp_path / "bang-diem.xlsx", make_scores(units))
    names = load_workbook(path).sheetnames[1:]
    assert len(names) == 2 and len({name.casefold() for name in names}) == 2
    for name in names:
        assert len(name) <= 31 and not set(name) & set("\\/*?:[]"), name
        assert name.startswith("Chi tiết VP-UBND-")


# --- the minutes and the report ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "number", "dated"),
    [
        ("minutes", "Số: 01/BB-KTĐ", "Bắc Giang, ngày 15 tháng 12 năm 2020"),
        ("report", "Số: 02/BC-KTĐ", "Bắc Giang, ngày 05 tháng 02 năm 2021"),
    ],
)
def test_header_has_issuer_left_and_national_motto_right(request, kind, number, dated):
    header = request.getfixturevalue(kind).tables[0]
    issuer, nation = header.rows[0].cells
    assert cell_texts(issuer) == [
        "UBND TỈNH BẮC GIANG",
        "KHỐI THI ĐUA CÁC CƠ QUAN VĂN HÓA - XÃ HỘI",
        "",  # the short rule
    ]
    assert [run.bold for run in issuer.paragraphs[0].runs] == [None]
    assert [run.bold for run in issuer.paragraphs[1].runs] == [True]
    assert cell_texts(nation) == [*MOTTO, ""]
    assert all(paragraph.runs[0].bold for paragraph in nation.paragraphs[:2])
    for rule in (issuer.paragraphs[2], nation.paragraphs[2]):
        assert rule._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")) is not None
    assert cell_texts(header.cell(1, 0)) == [number]
    assert cell_texts(header.cell(1, 1)) == [dated]
    assert header.cell(1, 1).paragraphs[0].runs[0].italic
    assert header._tbl.tblPr.find(qn("w:tblBorders")) is None and header.style.name != "Table Grid"


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("minutes", ["BIÊN BẢN", "Hội nghị tổng kết công tác thi đua, khen thưởng năm 2020"]),
        (
            "report",
            ["BÁO CÁO", "Kết quả chấm điểm, xếp hạng thi đua và đề nghị khen thưởng năm 2020"],
        ),
    ],
)
def test_title_is_bold_and_centred_with_the_kind_in_capitals(request, kind, title):
    document = request.getfixturevalue(kind)
    paragraphs = [paragraph for paragraph in document.paragraphs if paragraph.text][:2]
    assert [paragraph.text for paragraph in paragraphs] == title
    assert title[0] == title[0].upper()
    for paragraph in paragraphs:
        assert paragraph.alignment == 1 and paragraph.runs[0].bold  # 1: centred


def test_documents_are_a4_with_decree_30_margins(document):
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert 20 <= round(section.top_margin.mm) <= 25
    assert 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35
    assert 15 <= round(section.right_margin.mm) <= 20


def test_documents_are_set_in_times_new_roman_including_east_asian_text(document):
    normal = document.styles["Normal"]
    fonts = normal.element.rPr.rFonts
    assert normal.font.name == FONT
    assert [fonts.get(qn(f"w:{script}")) for script in ("ascii", "hAnsi", "eastAsia", "cs")] == [
        FONT
    ] * 4
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    default_fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert default_fonts.get(qn("w:eastAsia")) == FONT
    assert not [name for name in default_fonts.attrib if "heme" in name]  # no theme font wins
    copies_to = {paragraph._p for paragraph in document.tables[-1].cell(0, 0).paragraphs}
    for paragraph in all_paragraphs(document):
        assert paragraph.style.name == "Normal"
        for run in paragraph.runs:
            assert run.font.name in (None, FONT)
            if paragraph._p not in copies_to:
                assert Pt(13) <= (run.font.size or normal.font.size) <= Pt(14), run.text


def test_minutes_open_with_time_place_and_who_attended(minutes):
    lines = texts(minutes)
    assert (
        "Vào hồi 14 giờ 00, ngày 15 tháng 12 năm 2020, tại Hội trường Sở Thông tin và Truyền "
        f"thông, {BLOC} tổ chức Hội nghị tổng kết công tác thi đua, khen thưởng năm 2020."
    ) in lines
    assert "- Chủ trì: Đại diện lãnh đạo Sở Thông tin và Truyền thông (Trưởng khối)." in lines
    assert "- Đơn vị vắng mặt: Ban Dân tộc tỉnh." in lines
    assert any(line.startswith("- Đơn vị có mặt (8/9): Sở Thông tin") for line in lines)


def test_minutes_of_an_online_ballot_report_it_as_such_and_leave_attendance_to_the_meeting(
    tmp_path,
):
    from dataclasses import replace

    year_end = make_year_end(present=None, absent=None, rotation=True)
    online = "từ 08:00 14/12/2020 đến 17:00 21/12/2020"
    year_end = replace(year_end, votes=[replace(v, online=online) for v in year_end.votes])
    lines = texts(Document(str(write_minutes(tmp_path / "bien-ban.docx", year_end))))
    assert f"- Thành phần: đại diện lãnh đạo các đơn vị thành viên {BLOC} (9 đơn vị)." in lines
    assert not [line for line in lines if "vắng mặt: Ban" in line or "Đơn vị có mặt (" in line]
    first = lines.index("2.1. Bình xét đề nghị tặng Cờ thi đua của UBND tỉnh")
    assert lines[first + 1 : first + 4] == [
        "- Hình thức: bỏ phiếu kín trực tuyến trên cổng nộp hồ sơ của Khối, từ 08:00 14/12/2020 "
        "đến 17:00 21/12/2020.",
        "- Tổng số đơn vị thành viên: 9; số đơn vị đã bỏ phiếu: 8.",
        "- Số phiếu hợp lệ: 7; số phiếu không hợp lệ: 1.",
    ]
    assert "4. Trưởng khối, Phó Trưởng khối năm 2021 (luân phiên)" in lines
    assert not [line for line in lines if line.startswith("4. Bầu")]


def test_minutes_list_the_ranking_with_decimal_commas(minutes):
    rows = ranking_rows(minutes)
    assert rows[0] == [
        "Xếp hạng", "Đơn vị", "I (60)", "II (30)", "III (10)", "Thưởng", "Trừ", "Tổng điểm", "Ghi chú"
    ]  # fmt: skip
    assert [(row[0], row[1], row[7]) for row in rows[1:]] == RANKING
    assert rows[1] == ["1", "Sở Thông tin và Truyền thông", "58,5", "28", "9", "2", "2", "95,5", ""]
    assert rows[2][8] == "Đồng hạng 2; xếp theo điểm trừ ít hơn"
    assert "- Nhóm I: Thực hiện nhiệm vụ chuyên môn (tối đa 60 điểm);" in texts(minutes)


def test_minutes_record_each_vote_count(minutes):
    lines = texts(minutes)
    first = lines.index("2.1. Bình xét đề nghị tặng Cờ thi đua của UBND tỉnh")
    second = lines.index("2.2. Bầu Trưởng khối năm 2021")
    assert lines[first + 1 : second] == [
        "- Tổng số đơn vị thành viên: 9; số đơn vị có mặt: 8.",
        "- Số phiếu phát ra: 8; số phiếu thu về: 8; số phiếu hợp lệ: 7; số phiếu không hợp lệ: 1.",
        "- Số phiếu của từng đơn vị:",
        "+ Sở Thông tin và Truyền thông: 7/9 phiếu, đạt 77,8% tổng số đơn vị thành viên;",
        "+ Sở Y tế: 0/9 phiếu, đạt 0% tổng số đơn vị thành viên.",
        "- Điều kiện đạt: trên 50% tổng số đơn vị thành viên (trên 4,5 phiếu).",
        "- Kết quả:",
        "+ Sở Thông tin và Truyền thông: 7/9 phiếu (77,8%) — đạt.",
    ]
    assert "+ Sở Văn hóa, Thể thao và Du lịch: 6/9 phiếu, đạt 66,7% tổng số đơn vị thành viên;" in (
        lines
    )


def test_minutes_record_proposals_and_next_head_and_deputy(minutes):
    lines = texts(minutes)
    proposals = lines.index("- Cờ thi đua của UBND tỉnh: 01 đơn vị:")
    assert lines[proposals : proposals + 5] == [
        "- Cờ thi đua của UBND tỉnh: 01 đơn vị:",
        "+ Sở Thông tin và Truyền thông (95,5 điểm, 7 phiếu).",
        "- Bằng khen của Chủ tịch UBND tỉnh: 02 đơn vị:",
        "+ Sở Y tế (93 điểm);",
        "+ Sở Giáo dục và Đào tạo (93 điểm).",
    ]
    election = lines.index(
        "Đơn vị làm Trưởng khối, Phó Trưởng khối năm 2021 (theo kết quả bỏ phiếu):"
    )
    assert lines[election + 1 : election + 3] == [
        "- Trưởng khối: Sở Văn hóa, Thể thao và Du lịch.",
        "- Phó Trưởng khối: Sở Y tế.",
    ]
    assert lines[-2:] == [
        "III. KẾT THÚC HỘI NGHỊ",
        "Hội nghị kết thúc vào hồi 16 giờ 30 cùng ngày. Biên bản đã được thông qua tại Hội nghị./.",
    ]


def test_minutes_refer_an_undecided_deputy_upwards(tmp_path):
    path = write_minutes(tmp_path / "bien-ban.docx", make_year_end(deputy_next=None))
    lines = texts(Document(str(path)))
    assert "- Trưởng khối: Sở Văn hóa, Thể thao và Du lịch." in lines
    assert (
        "- Phó Trưởng khối: chưa thống nhất được đơn vị, đề nghị cấp có thẩm quyền xem xét, "
        "quyết định."
    ) in lines


def test_minutes_are_signed_by_the_secretary_left_and_the_chair_right(minutes):
    secretary, chair = minutes.tables[-1].rows[0].cells
    assert [text for text in cell_texts(secretary) if text] == ["THƯ KÝ", "Trần Thị Bình"]
    assert [text for text in cell_texts(chair) if text] == ["CHỦ TRÌ", "Nguyễn Văn An"]
    assert chair.paragraphs[0].runs[0].bold


def test_report_is_addressed_and_lists_where_copies_go_bottom_left(report):
    lines = texts(report)
    addressed = lines.index("Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh.")
    assert report.paragraphs[addressed].alignment == 1  # centred
    copies_to, signer = report.tables[-1].rows[0].cells
    assert cell_texts(copies_to) == [
        "Nơi nhận:",
        "- Như trên;",
        "- Ban Thi đua - Khen thưởng tỉnh;",
        "- Các đơn vị thành viên khối;",
        "- Lưu: VT.",
    ]
    heading = copies_to.paragraphs[0].runs[0]
    assert heading.bold and heading.italic and heading.font.size == Pt(12)
    assert {paragraph.runs[0].font.size for paragraph in copies_to.paragraphs[1:]} == {Pt(11)}
    assert [text for text in cell_texts(signer) if text] == [
        "TM. KHỐI THI ĐUA",
        "TRƯỞNG KHỐI",
        "Nguyễn Văn An",
    ]
    assert all(paragraph.runs[0].bold for paragraph in signer.paragraphs if paragraph.text)


def test_report_to_several_recipients_lists_them_under_kinh_gui(tmp_path):
    recipients = ["Hội đồng Thi đua - Khen thưởng tỉnh", "Ban Thi đua - Khen thưởng tỉnh"]
    path = write_report(tmp_path / "bao-cao.docx", make_year_end(recipients=recipients))
    lines = texts(Document(str(path)))
    start = lines.index("Kính gửi:")
    assert lines[start + 1 : start + 3] == [
        "- Hội đồng Thi đua - Khen thưởng tỉnh;",
        "- Ban Thi đua - Khen thưởng tỉnh.",
    ]
    assert lines[-1].endswith(
        "kính đề nghị Hội đồng Thi đua - Khen thưởng tỉnh, Ban Thi đua - Khen thưởng tỉnh "
        "xem xét, quyết định./."
    )


def test_report_ranks_units_proposes_awards_and_names_next_years_head(report):
    assert [(row[0], row[1], row[7]) for row in ranking_rows(report)[1:]] == RANKING
    lines = texts(report)
    assert (
        "Căn cứ kết quả Hội nghị tổng kết công tác thi đua, khen thưởng năm 2020 ngày 15/12/2020, "
        f"{BLOC} báo cáo kết quả chấm điểm, xếp hạng thi đua và đề nghị khen thưởng năm 2020 "
        "như sau:"
    ) in lines
    assert "+ Sở Thông tin và Truyền thông (95,5 điểm, 7 phiếu)." in lines
    assert (
        "+ Sở Thông tin và Truyền thông: 7/9 phiếu, đạt 77,8% tổng số đơn vị thành viên;" in lines
    )
    assert "- Trưởng khối: Sở Văn hóa, Thể thao và Du lịch." in lines
    assert "- Phó Trưởng khối: Sở Y tế." in lines
    assert lines.index("I. KẾT QUẢ CHẤM ĐIỂM, XẾP HẠNG THI ĐUA") < lines.index(
        "IV. TRƯỞNG KHỐI, PHÓ TRƯỞNG KHỐI NĂM 2021"
    )
