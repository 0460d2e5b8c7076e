"""An uploaded file is judged by its structure, not by its first bytes: a PDF, PNG, JPEG, Word or
Excel header glued to something else (here, an executable) is refused, the real thing accepted."""

import base64
import io
import struct
import zipfile
import zlib

import docx
import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models.tables import Submission
from operations.intake import Upload, check_uploads

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(1000)
NOT_ALLOWED = "nội dung không phải PDF, Word (DOC/DOCX), Excel (XLS/XLSX), ảnh PNG/JPG."


def pdf() -> bytes:
    """A real one-page PDF: header, objects, cross-reference table with their offsets, trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f\r\n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n\r\n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


# CPython's test picture (Lib/test/imghdrdata/python.jpg), 16 x 16.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJ"
    "DRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAA"
    "AQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAA"
    "AAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSl"
    "H9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO"
    "1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gE"
    "KcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KOp1KM6iCNvngZHwetf//Z"
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A real 1 x 1 grey PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _chunk(b"IEND", b"")
    )


def office(make) -> bytes:
    buffer = io.BytesIO()
    make().save(buffer)
    return buffer.getvalue()


def zipped(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
    return buffer.getvalue()


OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize(
    ("name", "real", "forged"),
    [
        pytest.param("bao-cao.pdf", pdf(), b"%PDF-1.7\n" + ELF, id="pdf"),
        pytest.param("anh.png", png(), b"\x89PNG\r\n\x1a\n" + ELF, id="png"),
        pytest.param("anh.png", png(), png()[:-12] + ELF, id="png-without-iend"),
        pytest.param("anh.jpg", JPEG, b"\xff\xd8\xff\xe0" + ELF, id="jpg"),
        # A phone's motion photo carries a video after the picture's end: still a JPEG.
        pytest.param("anh.jpg", JPEG + b"\x00\x00\x00\x18ftypmp42", JPEG[:200] + ELF, id="jpg-cut"),
        pytest.param(
            "bao-cao.docx", office(docx.Document), zipped(["word/document.xml"]), id="docx"
        ),
        pytest.param(
            "bang.xlsx", office(Workbook), zipped(["[Content_Types].xml", "xl/a.exe"]), id="xlsx"
        ),
        pytest.param("bao-cao.doc", None, OLE2_SIGNATURE + ELF, id="doc"),
        pytest.param(
            "bang.xls",
            None,
            OLE2_SIGNATURE
            + bytes(18)
            + b"\x3e\x00\x03\x00\xfe\xff"
            + ELF
            + "Workbook".encode("utf-16-le"),
            id="xls",
        ),
    ],
)
def test_a_forged_file_is_refused_and_the_real_one_accepted(name, real, forged):
    kept, errors = check_uploads([Upload(name, forged)], 1_000_000)
    assert kept == [] and errors == [f"Tệp “{name}”: {NOT_ALLOWED}"]
    if real is not None:
        kept, errors = check_uploads([Upload(name, real)], 1_000_000)
        assert [kind for _, kind in kept] == [name.rsplit(".", 1)[1]] and errors == []


def test_a_pdf_header_glued_to_a_program_is_refused_on_the_page_and_kept_as_rejected(portal, db):
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/so-ket",
        files=[("files", ("bao-cao.pdf", b"%PDF-1.7\n" + ELF, "application/pdf"))],
    )
    assert response.status_code == 422 and f"Tệp “bao-cao.pdf”: {NOT_ALLOWED}" in response.text
    with Session(db.engine) as session:
        (submission,) = session.exec(select(Submission)).all()
    assert submission.status == "rejected"
