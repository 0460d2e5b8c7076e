"""`thidua plan import`: a plan document (.txt, .docx, .pdf) becomes a draft plan file holding
every date, round, anniversary, deadline and meeting it states, each under the sentence it came
from; what the text leaves open is marked `# KIỂM TRA:`; a document that is not a plan is
refused and nothing is written."""

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from domain.plan_text import clean
from tests.conftest import EXAMPLE_PLAN, ROOT, SEED_ORIGINAL, SEED_PLAN_TEXT, Ran
from thidua.cli import app

DOCS = ROOT / "tests" / "fixtures" / "plan_docs"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core


def thidua(*args: str) -> Ran:
    ran = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return Ran(ran.exit_code, ran.stdout, ran.stderr)


def build_docx(source: Path, target: Path) -> Path:
    """A Word file of `source`'s lines: a paragraph each, `| a | b |` lines as one real table."""
    import docx

    document = docx.Document()
    rows = []
    for line in [*source.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
            continue
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for cells, row in zip(rows, table.rows, strict=True):
                for text, cell in zip(cells, row.cells, strict=True):
                    cell.text = text
            rows = []
        if line:
            document.add_paragraph(line)
    document.save(target)
    return target


def build_pdf(source: Path | None, target: Path) -> Path:
    """A text PDF of `source`'s lines, wrapped to an A4 page as a printed plan is; with no
    source, a page with a picture only, as a scan is."""
    from fpdf import FPDF

    if not FONT.exists():
        pytest.fail(f"the PDF fixture needs {FONT} (Debian package fonts-dejavu-core)")
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=12)
    if source is None:
        pdf.rect(20, 20, 170, 250, style="F")
    for line in source.read_text(encoding="utf-8").splitlines() if source else []:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(target))
    return target


def copy_text(source: Path, target: Path) -> Path:
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


# (source of the document, how it is made, file name): three provinces' plans in three formats.
DOCUMENTS = {
    "txt-thai-nguyen-4-quarters": ("thai-nguyen-tong-hop-2021.txt", copy_text, "ke-hoach.txt"),
    "docx-ha-tinh-dates-in-words-table": (
        "ha-tinh-noi-chinh-2022.docx.txt",
        build_docx,
        "ke-hoach.docx",
    ),
    "pdf-quang-ninh-wrapped-lines": ("quang-ninh-kinh-te-2023.pdf.txt", build_pdf, "ke-hoach.pdf"),
}
EXTRACTED = ["year", "title", "bloc", "source", "head", "deputy", "secretariat", "units"]
EXTRACTED += ["rounds", "deadlines", "meetings"]


def imported(document: Path, tmp_path: Path) -> tuple[Ran, Path]:
    draft = tmp_path / "draft.yaml"
    return thidua("plan", "import", str(document), "-o", str(draft)), draft


@pytest.fixture(params=DOCUMENTS, ids=list(DOCUMENTS))
def document(request, tmp_path) -> tuple[str, Path]:
    source, build, name = DOCUMENTS[request.param]
    return source, build(DOCS / source, tmp_path / name)


@pytest.fixture(scope="module")
def seed_draft(tmp_path_factory) -> dict:
    if not SEED_PLAN_TEXT.exists():
        pytest.fail(f"the seed plan document is missing: {SEED_PLAN_TEXT}")
    ran, draft = imported(SEED_PLAN_TEXT, tmp_path_factory.mktemp("seed"))
    assert ran.returncode == 0, ran.stderr
    return yaml.safe_load(draft.read_text(encoding="utf-8"))


EXAMPLE = yaml.safe_load(EXAMPLE_PLAN.read_text(encoding="utf-8"))


def _rounds(plan: dict) -> list[tuple]:
    return [(r["code"], r["name"], r["start"], r["end"]) for r in plan["rounds"]]


def _anniversaries(plan: dict) -> list[tuple]:
    return [(r["code"], a["date"]) for r in plan["rounds"] for a in r["anniversaries"]]


def _deadlines(plan: dict) -> list[tuple]:
    return [(d["code"], d["kind"], d["round"], d["wording"], d["date"]) for d in plan["deadlines"]]


def _meetings(plan: dict) -> list[tuple]:
    keys = ("round", "date", "before", "after")
    return [tuple(m.get(key) for key in keys) for m in plan["meetings"]]


@pytest.mark.parametrize("items", [_rounds, _anniversaries, _deadlines, _meetings])
def test_the_seed_document_gives_every_item_of_the_example_plan(seed_draft, items):
    assert items(seed_draft) == items(EXAMPLE)


def test_the_seed_document_gives_the_example_plans_bloc_head_and_secretariat(seed_draft):
    assert seed_draft["title"] == EXAMPLE["title"]
    assert seed_draft["bloc"] == EXAMPLE["bloc"]
    assert seed_draft["source"]["number"] == EXAMPLE["source"]["number"]
    assert seed_draft["head"] == EXAMPLE["head"]
    person = ("unit", "name", "title", "phone")
    assert [seed_draft["secretariat"][key] for key in person] == [
        EXAMPLE["secretariat"][key] for key in person
    ]
    dated = [m["wording"] for m in seed_draft["meetings"] if "wording" in m]
    assert dated == [EXAMPLE["meetings"][0]["wording"]]  # the other one the document leaves open


def test_each_document_gives_the_plan_it_states(document, tmp_path):
    source, path = document
    ran, draft = imported(path, tmp_path)
    assert ran.returncode == 0, ran.stderr
    got = yaml.safe_load(draft.read_text(encoding="utf-8"))
    expected_file = DOCS / f"{source.split('.')[0]}.plan.yaml"
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    for key in EXTRACTED:
        if isinstance(expected[key], list):
            assert len(got[key]) == len(expected[key]), key
            for index, (item, wanted) in enumerate(zip(got[key], expected[key], strict=True)):
                assert item == wanted, f"{key}[{index}]"
        else:
            assert got[key] == expected[key], key


def fill_in_member_units(draft: Path) -> Path:
    """What the user does after the import: the member units, their contacts, the deputy."""
    plan = yaml.safe_load(draft.read_text(encoding="utf-8"))
    for unit in plan["units"]:
        focal_point = unit["contacts"]["focal_point"]
        focal_point["name"] = focal_point["name"] or f"Văn phòng {unit['name']}"
        focal_point["emails"] = focal_point["emails"] or [f"vanphong.{unit['code']}@tinh.example"]
    for code, name in [("syt", "Sở Y tế"), ("sxd", "Sở Xây dựng")]:
        contact = {"name": f"Văn phòng {name}", "emails": [f"vanphong.{code}@tinh.example"]}
        plan["units"].append({"code": code, "name": name, "contacts": {"focal_point": contact}})
    plan["deputy"] = plan["deputy"] or "syt"
    filled = draft.with_name("filled.yaml")
    filled.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return filled


def test_each_draft_passes_plan_check_once_the_member_units_are_filled_in(document, tmp_path):
    ran, draft = imported(document[1], tmp_path)
    assert ran.returncode == 0, ran.stderr
    unfilled = thidua("plan", "check", str(draft))
    checked = thidua("plan", "check", str(fill_in_member_units(draft)))
    assert unfilled.returncode == 1 and "units" in unfilled.stderr
    assert checked.returncode == 0, checked.stderr


def test_the_seed_draft_passes_plan_check_once_the_member_units_are_filled_in(tmp_path):
    ran, draft = imported(SEED_PLAN_TEXT, tmp_path)
    checked = thidua("plan", "check", str(fill_in_member_units(draft)))
    assert checked.returncode == 0, checked.stderr


def _quoted_items(draft: str) -> list[tuple[str, str]]:
    """(the «quote» above it, the item's first line) for each item of rounds, deadlines, meetings."""
    found, quote = [], []
    for line in draft.splitlines():
        if line.startswith("  # «") or (quote and line.startswith("  # ") and "»" not in quote[-1]):
            quote.append(line[4:])
        elif line.startswith("  - code:"):
            found.append((" ".join(quote), line))
            quote = []
        elif not line.startswith("  # KIỂM TRA") and not line.startswith("  #    "):
            quote = []
    return found


def test_each_item_stands_under_the_sentence_it_came_from(document, tmp_path):
    source, path = document
    ran, draft = imported(path, tmp_path)
    text = draft.read_text(encoding="utf-8")
    plan = yaml.safe_load(text)
    items = _quoted_items(text[text.index("\nrounds:") : text.index("score_sheet:")])
    words = " ".join(clean((DOCS / source).read_text(encoding="utf-8")).split())
    assert len(items) == sum(len(plan[key]) for key in ("rounds", "deadlines", "meetings")) > 7
    for quote, item in items:
        assert quote.startswith("«") and quote.endswith("»"), item
        assert " ".join(quote[1:-1].split()) in words, item


LETTER = """UBND TỈNH BẮC GIANG
SỞ THÔNG TIN VÀ TRUYỀN THÔNG
Số: 215/STTTT-VP
V/v đề nghị gửi đăng ký thi đua năm 2020
Bắc Giang, ngày 20 tháng 02 năm 2020
Kính gửi: Các cơ quan trong Khối thi đua.
Đề nghị các đơn vị gửi đăng ký thi đua về Sở Thông tin và Truyền thông trước ngày 05/3/2020.
"""
PLAN_WITHOUT_ROUNDS = "KẾ HOẠCH\nCông tác cải cách hành chính năm 2021\nNăm 2021, Sở tập trung...\n"


def _letter_docx(tmp_path: Path) -> Path:
    source = tmp_path / "cong-van.txt"
    source.write_text(LETTER, encoding="utf-8")
    return build_docx(source, tmp_path / "cong-van.docx")


def _write(name: str, content: bytes):
    def write(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


def _zip_bomb(path: Path) -> Path:
    """A .docx whose document expands to 101 MB from about 100 kB."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (101 * 1024 * 1024))
    return path


NOT_PLANS = {
    "a-letter-as-text": (_write("cong-van.txt", LETTER.encode()), "không thấy tiêu đề «KẾ HOẠCH»"),
    "a-letter-as-word": (_letter_docx, "không thấy tiêu đề «KẾ HOẠCH»"),
    "a-plan-of-something-else": (
        _write("cai-cach.md", PLAN_WITHOUT_ROUNDS.encode()),
        "không thấy đợt thi đua nào",
    ),
    "an-empty-file": (_write("rong.txt", b""), "tệp rỗng"),
    "blank-lines-only": (_write("trang.txt", b"\n \n\t\n"), "tệp không có chữ nào"),
    "a-scan-without-text": (lambda p: build_pdf(None, p / "ban-quet.pdf"), "PDF không có chữ"),
    "a-broken-word-file": (_write("hong.docx", b"PK\x03\x04 not a zip"), "không phải tệp Word"),
    "a-zip-bomb-word-file": (lambda p: _zip_bomb(p / "bom.docx"), "giải nén ra quá lớn"),
    "a-broken-pdf": (_write("hong.pdf", b"%PDF-1.4\n garbage"), "PDF hỏng"),
    "not-utf-8": (
        _write("latin1.txt", "Kế hoạch năm".encode("latin-1", "replace") + b"\xe0\xff"),
        "không phải UTF-8",
    ),
    "too-long": (_write("dai.txt", ("KẾ HOẠCH\n" + "Đợt 1. " * 50_000).encode()), "quá dài"),
    "an-odt-file": (_write("ke-hoach.odt", b"x"), "chỉ nhận .docx, .pdf, .txt, .md"),
    "a-missing-file": (lambda p: p / "khong-co.txt", "không mở được tệp"),
}


@pytest.mark.parametrize(("make", "reason"), NOT_PLANS.values(), ids=list(NOT_PLANS))
def test_a_document_that_is_not_a_plan_is_refused_in_one_line_and_nothing_is_written(
    make, reason, tmp_path
):
    document = make(tmp_path)
    ran, draft = imported(document, tmp_path)
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"Lỗi: {document}: ") and reason in ran.stderr
    assert ran.stderr.rstrip().endswith("chưa ghi gì") and ran.stderr.count("\n") == 1
    assert not draft.exists() and not list(tmp_path.glob(".*.tmp"))


def test_an_existing_plan_file_is_kept_unless_force_is_given(tmp_path):
    document = copy_text(DOCS / "thai-nguyen-tong-hop-2021.txt", tmp_path / "ke-hoach.txt")
    existing = tmp_path / "ke-hoach.yaml"  # the default output: beside the document
    existing.write_text("# đã sửa tay\n", encoding="utf-8")
    kept = thidua("plan", "import", str(document))
    assert kept.returncode == 1 and "--force" in kept.stderr
    assert existing.read_text(encoding="utf-8") == "# đã sửa tay\n"
    forced = thidua("plan", "import", str(document), "--force")
    assert forced.returncode == 0, forced.stderr
    assert yaml.safe_load(existing.read_text(encoding="utf-8"))["year"] == 2021


def test_the_summary_says_what_was_found_what_is_left_and_the_next_command(tmp_path):
    document = copy_text(DOCS / "thai-nguyen-tong-hop-2021.txt", tmp_path / "ke-hoach.txt")
    ran, draft = imported(document, tmp_path)
    lines = ran.stdout.splitlines()
    assert (
        lines[0] == "Đã đọc kế hoạch năm 2021 của Khối thi đua các cơ quan Tổng hợp (Thái Nguyên)."
    )
    assert lines[1].startswith(
        "Tìm thấy: 4 đợt thi đua, 7 ngày kỷ niệm, 3 hạn nộp, 3 cuộc họp; "
        "Trưởng khối: Sở Kế hoạch và Đầu tư; đầu mối: Nguyễn Thị Hoa."
    )
    checks = len(re.findall(r"^ *# KIỂM TRA:", draft.read_text(encoding="utf-8"), re.M))
    assert lines[2] == f"Để lại cho người dùng ({checks} chỗ «# KIỂM TRA:» trong tệp):"
    assert "  - deadlines.so-ket: «chậm nhất ngày 15/6» cho nộp cả ngày 15/06/2021" in ran.stdout
    assert "  - units: văn bản không có danh sách đơn vị thành viên" in ran.stdout
    assert lines[-1] == f"Bước tiếp theo: điền các chỗ trên rồi chạy `thidua plan check {draft}`"


def test_hostile_text_near_the_size_limit_is_read_in_bounded_time(tmp_path):
    """Unbounded patterns over a line without the character that ends them took minutes
    (a «Văn phòng (đ/c …» never closed: 10 s at 300 kB, cubic); now every one is bounded."""
    import time

    body = "Sở A (đơn vị Trưởng khối " + "Văn phòng (đ/c x" * 12_000 + " gửi báo cáo" * 5_000
    document = tmp_path / "doc-hai.txt"
    document.write_text(
        "KẾ HOẠCH\nKhối thi đua X năm 2020\nĐợt 1: từ ngày 01/01 đến 30/6\n" + body,
        encoding="utf-8",
    )
    started = time.monotonic()
    ran, _ = imported(document, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert time.monotonic() - started < 10


def test_a_table_of_deadlines_is_read_by_its_columns_and_any_other_table_as_sentences():
    from domain.plan_items import clauses_of

    deadlines = ["| Nội dung | Thời hạn | Nơi nhận |", "|---|---|---|"]
    deadlines.append("| Báo cáo quý I | Trước ngày 10/4 | Sở A |")
    other = ["| 1 | Các đơn vị gửi báo cáo quý I về Sở A trước ngày 10/4 |"]
    [row] = clauses_of(deadlines)
    [sentence] = clauses_of(other)
    assert (row.what, row.recipient, row.text) == (
        "Báo cáo quý I",
        "Sở A",
        "Báo cáo quý I Trước ngày 10/4",
    )
    assert sentence.text == "1 Các đơn vị gửi báo cáo quý I về Sở A trước ngày 10/4"


def test_the_seed_copy_is_the_published_document_but_for_its_email_address():
    if not SEED_ORIGINAL.exists():  # a clone without the project's shared folder beside it
        return
    original = SEED_ORIGINAL.read_text(encoding="utf-8")
    copy = SEED_PLAN_TEXT.read_text(encoding="utf-8")
    assert copy == original.replace("@bacgiang.gov.vn)", "@bacgiang.gov.vn.example)")
    assert copy != original
