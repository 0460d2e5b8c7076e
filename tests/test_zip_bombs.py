"""Zip bombs and XML bombs as uploaded workbooks (the self-score template, the verification
sheet) and as ordinary Office files: refused from the zip's directory, or from a streamed scan of
its XML, before openpyxl opens them; with a Vietnamese message, and bounded memory."""

import io
import struct
import zipfile
import zlib

import docx
import httpx
import pytest

from documents.verification_sheet import UnreadableSheet, read_verification_sheet
from operations.intake import Upload, check_uploads
from portal.score_workbook import build_template, read_workbook
from tests.conftest import CSRF, PDF, add_staff, same_site_client, sign_in
from tests.test_hostile_requests import MB, MEMORY_BOUND, Watch, load_example, serve

SHEET = "xl/worksheets/sheet1.xml"
ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
BOMB_UNPACKED = 1_000 * MB


def template() -> bytes:
    """A genuine self-score template of Sở Y tế, 2020, as the portal makes it."""
    return build_template(
        bloc_code="bg-vhxh",
        bloc_name="Khối",
        year=2020,
        unit_code="syt",
        unit_name="Sở Y tế",
        groups=[],
        bonus=[],
        penalties=[],
        bonus_cap=10,
    )


def with_part(content: bytes, name: str, data: bytes, *, stored: bool = False) -> bytes:
    """The zip with part `name` replaced by `data` (stored, or deflated as usual)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = data if info.filename == name else source.read(info)
            method = (
                zipfile.ZIP_STORED if stored and info.filename == name else zipfile.ZIP_DEFLATED
            )
            target.writestr(info.filename, body, compress_type=method)
    return out.getvalue()


def with_entries(content: bytes, count: int) -> bytes:
    """The zip with `count` more (empty) entries."""
    out = io.BytesIO(content)
    with zipfile.ZipFile(out, "a") as archive:
        for i in range(count):
            archive.writestr(f"customXml/item{i}.bin", b"")
    return out.getvalue()


def sheet_with(content: bytes, rows: bytes, prolog: bytes = b"", stored: bool = False) -> bytes:
    """The workbook whose first sheet holds `rows` (and `prolog` before its root element)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read(SHEET)
    xml = xml.replace(b"<sheetData>", b"<sheetData>" + rows, 1)
    xml = xml.replace(b"<worksheet", prolog + b"<worksheet", 1)
    return with_part(content, SHEET, xml, stored=stored)


def raw_zip(parts: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, CRC-32, unpacked size) entries, written field by field:
    zipfile cannot store data compressed elsewhere."""
    out, directory = b"", b""
    for name, data, crc, size in parts:
        encoded = name.encode()
        fields = struct.pack("<5H3I2H", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        directory += b"PK\x01\x02" + struct.pack("<H", 20) + fields
        directory += struct.pack("<3H2I", 0, 0, 0, 0, len(out)) + encoded
        out += b"PK\x03\x04" + fields + encoded + data
    count = len(parts)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
    return out + directory + end


def deflated(data: bytes) -> tuple[bytes, int, int]:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush(), zlib.crc32(data), len(data)


def bomb(
    content: bytes, *, part: str = SHEET, at: bytes = b"<sheetData>", row: bytes = ROW
) -> bytes:
    """`content` whose `part` gets BOMB_UNPACKED bytes of `row`s inserted after `at` (still
    valid XML), and a zip that says so: one megabyte of rows compressed once and repeated (after
    a full flush deflate compresses the same block to the same bytes), made in about a second."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    head, _, tail = parts[part].partition(at)
    head += at
    block = row * (MB // len(row))
    count = BOMB_UNPACKED // len(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    unit = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.compress(tail) + deflate.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    bombed = (
        start + unit * count + end,
        zlib.crc32(tail, crc),
        len(head + tail) + count * len(block),
    )
    return raw_zip(
        [(name, *(bombed if name == part else deflated(data))) for name, data in parts.items()]
    )


UNIT = {"bloc_code": "bg-vhxh", "year": 2020, "unit_code": "syt"}
# Nested entities: a few hundred bytes that a parser expanding them turns into a gigabyte.
LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY a "'
    + b"a" * 100
    + b'">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(7))
    + b"]>"
)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda: bomb(template()), "giải nén ra 1.000 MB, vượt giới hạn 10 MB", id="zip-bomb"
        ),
        pytest.param(
            lambda: sheet_with(template(), ROW * 180_000),  # 9 MB that deflate to kilobytes
            "tỉ lệ nén bất thường",
            id="compression-ratio",
        ),
        pytest.param(
            lambda: with_entries(template(), 1_000),
            "quá nhiều thành phần (tối đa 1.000)",
            id="entries",
        ),
        pytest.param(
            lambda: sheet_with(
                template(), b'<row><c t="inlineStr"><is><t>&h;</t></is></c></row>', LAUGHS
            ),
            "có khai báo DTD",
            id="entity-expansion",
        ),
        pytest.param(
            lambda: sheet_with(template(), b"<row>" + b"<c/>" * 1_001 + b"</row>"),
            "một hàng có hơn 1.000 ô",
            id="wide-row",
        ),
        pytest.param(
            lambda: sheet_with(template(), b"<row/>" * 200_000, stored=True),
            "bảng tính có quá nhiều ô",
            id="many-elements",
        ),
        pytest.param(
            lambda: with_part(template(), SHEET, b"<worksheet><sheetData>"),
            "không phải XML hợp lệ",
            id="broken-xml",
        ),
    ],
)
def test_a_dangerous_self_score_workbook_is_refused_before_openpyxl_opens_it(make, reason):
    entries, errors = read_workbook(make(), **UNIT)
    assert entries == {} and len(errors) == 1, errors
    assert errors[0].startswith("Tệp bảng điểm bị từ chối: ") and reason in errors[0]


def test_a_zip_bomb_verification_sheet_is_refused_by_file_name_and_reason():
    with pytest.raises(UnreadableSheet, match="^phieu.xlsx: tệp bị từ chối: giải nén ra 1.000 MB"):
        read_verification_sheet(
            bomb(template()), bloc_code="bg-vhxh", year=2020, filename="phieu.xlsx"
        )


def test_a_zip_bomb_as_a_report_file_is_refused_by_name_and_reason():
    document = io.BytesIO()
    docx.Document().save(document)
    content = bomb(document.getvalue(), part="word/document.xml", at=b"<w:body>", row=b"<w:p/>")
    kept, errors = check_uploads([Upload("bao-cao.docx", content)], 20 * MB)
    assert kept == [] and len(errors) == 1
    assert errors[0].startswith("Tệp “bao-cao.docx”: giải nén ra 1.00")  # and the other parts
    assert errors[0].endswith(" MB, vượt giới hạn 200 MB (có thể là tệp độc hại kiểu “zip bomb”).")


def test_zip_bomb_uploads_are_refused_while_the_server_stays_within_its_memory_bound(
    db, tmp_path, plan_text, write_plan
):
    syt = load_example(db, plan_text, write_plan)["syt"]
    add_staff(db.engine)
    with serve(db, tmp_path) as server, same_site_client(server.url) as admin:
        assert sign_in(admin).status_code == 303
        (csrf,) = set(CSRF.findall(admin.get("/quan-tri").text))
        # The downloads import openpyxl in the server: measure from after them.
        own = httpx.get(f"{server.url}{syt}/bang-diem/2020.xlsx").content
        sheet = admin.get("/quan-tri/tham-dinh/2020/phieu-tham-dinh.xlsx").content
        bombs = bomb(own), bomb(sheet)
        baseline = server.memory("VmHWM")
        with Watch(server):
            self_score = httpx.post(
                f"{server.url}{syt}/nop/2020/tong-ket",
                files=[("score_file", ("bang-diem.xlsx", bombs[0])), ("files", ("bc.pdf", PDF))],
                timeout=60,
            )
            verification = admin.post(
                "/quan-tri/tham-dinh/2020/tai-len",
                files={"sheet": ("phieu.xlsx", bombs[1])},
                data={"csrf": csrf},
                timeout=60,
            )
        growth = server.memory("VmHWM") - baseline
    assert self_score.status_code == 422
    assert "Tệp bảng điểm bị từ chối: giải nén ra 1.000 MB, vượt giới hạn 10 MB" in self_score.text
    assert verification.status_code == 422
    assert "phieu.xlsx: tệp bị từ chối: giải nén ra 1.000 MB" in verification.text
    assert growth < MEMORY_BOUND, growth
