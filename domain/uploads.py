"""What an uploaded file really is, judged by its structure rather than its name or first bytes;
and whether an Office file (a zip) is safe to unpack, or a workbook safe to parse.

A zip's central directory states how many entries it has and how large they unpack; those
numbers are checked before anything is decompressed, and Python's zipfile never inflates an
entry past its stated size, so a zip bomb is refused at the cost of reading its directory.
"""

import io
import re
import struct
import unicodedata
import zipfile
import zlib
from typing import IO
from xml.parsers import expat

KINDS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
    "jpg": "image/jpeg",
}
LABEL = "PDF, Word (DOC/DOCX), Excel (XLS/XLSX), ảnh PNG/JPG"

MAX_ENTRIES = 1_000  # a Word or Excel file has tens; a few hundred with many pictures
MAX_DIRECTORY_BYTES = 1_000_000  # the central directory, parsed whole by zipfile
MAX_UNPACKED_BYTES = 200_000_000  # any Office file: ten times the default upload limit
MAX_RATIO = 200  # unpacked / packed; Office files 3 to 40, zip bombs about a thousand
WORKBOOK_UNPACKED_BYTES = 10_000_000  # a workbook we parse: our templates unpack to kilobytes
WORKBOOK_ELEMENTS = 200_000  # XML elements in all its parts: what openpyxl turns into objects
ROW_CELLS = 1_000  # cells in one row (openpyxl builds a whole row before we pick our columns)
CONTENT_TYPES_BYTES = 100_000  # [Content_Types].xml lists a few dozen parts in a kilobyte or two
OOXML_MAIN_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
OLE2_STREAMS = {  # the stream that makes a compound file a Word or an Excel file
    "doc": "WordDocument".encode("utf-16-le"),
    "xls": "Workbook".encode("utf-16-le"),
}


# How a damaged zip fails in zipfile and zlib; each means "not a readable zip".
ZIP_FAULTS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


class UnsafeFile(Exception):
    """The file is refused before it is unpacked or parsed; the message (Vietnamese, without
    the file's name) says which bound it exceeds."""


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.0f}".replace(",", ".")


TOO_MANY_ENTRIES = f"tệp nén chứa quá nhiều thành phần (tối đa {MAX_ENTRIES:,})".replace(",", ".")


def _directory(content: bytes) -> tuple[int, int]:
    """(entries, bytes) of the central directory, as the end record states them (what zipfile
    will parse); a zip64 archive states 0xFFFF and 0xFFFFFFFF, which no bound accepts."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 0xFFFF))
    if end < 0 or len(content) < end + 22:
        raise zipfile.BadZipFile("no end of central directory record")
    entries, size = struct.unpack_from("<HI", content, end + 10)
    return entries, size


def open_zip(content: bytes, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> zipfile.ZipFile:
    """The archive, opened only after its directory shows few entries, an unpacked size of at
    most `max_unpacked` and an ordinary compression ratio. Raises UnsafeFile, or BadZipFile
    when it is not a readable zip."""
    entries, directory = _directory(content)
    if entries > MAX_ENTRIES or directory > MAX_DIRECTORY_BYTES:
        raise UnsafeFile(TOO_MANY_ENTRIES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except ZIP_FAULTS as error:
        raise zipfile.BadZipFile(str(error)) from None
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    packed = max(sum(info.compress_size for info in infos), 1)
    problem = None
    if len(infos) > MAX_ENTRIES:
        problem = TOO_MANY_ENTRIES
    elif unpacked > max_unpacked:
        problem = (
            f"giải nén ra {_mb(unpacked)} MB, vượt giới hạn {_mb(max_unpacked)} MB "
            "(có thể là tệp độc hại kiểu “zip bomb”)"
        )
    elif unpacked > MAX_RATIO * packed:
        problem = (
            f"tỉ lệ nén bất thường ({unpacked // packed:,}:1, tối đa {MAX_RATIO}:1), "
            "có thể là tệp độc hại kiểu “zip bomb”"
        ).replace(",", ".")
    if problem:
        archive.close()
        raise UnsafeFile(problem)
    return archive


def check_workbook(content: bytes) -> None:
    """Raise UnsafeFile (or BadZipFile) unless openpyxl can open the workbook in bounded memory
    and time: the zip bounds with a workbook's budget, then every XML part streamed through
    expat (never built): no DTD (entity expansion), few elements in all, few cells a row."""
    with open_zip(content, max_unpacked=WORKBOOK_UNPACKED_BYTES) as archive:
        budget = _ElementBudget()
        for info in archive.infolist():
            if info.filename.endswith((".xml", ".rels")):
                try:
                    with archive.open(info) as part:
                        budget.scan(part, info.filename)
                except ZIP_FAULTS as error:
                    raise zipfile.BadZipFile(str(error)) from None


class _ElementBudget:
    """Counts elements across the parts of one workbook while expat streams through them."""

    def __init__(self) -> None:
        self.elements = 0

    def scan(self, part: IO[bytes], name: str) -> None:
        """Stream `part` (named `name`) through expat; raise UnsafeFile at the first excess."""
        parser = expat.ParserCreate()
        depth, row_depth, cells = 0, -1, 0

        def start(tag: str, _attributes) -> None:
            nonlocal depth, row_depth, cells
            depth += 1
            self.elements += 1
            if self.elements > WORKBOOK_ELEMENTS:
                raise UnsafeFile(
                    f"bảng tính có quá nhiều ô (phần {name}: hơn {WORKBOOK_ELEMENTS:,} thành phần)".replace(
                        ",", "."
                    )
                )
            if depth == row_depth + 1:
                cells += 1
                if cells > ROW_CELLS:
                    raise UnsafeFile(
                        f"một hàng có hơn {ROW_CELLS:,} ô (phần {name})".replace(",", ".")
                    )
            if tag.rsplit(":", 1)[-1] == "row":
                row_depth, cells = depth, 0

        def end(_tag: str) -> None:
            nonlocal depth, row_depth
            if depth == row_depth:
                row_depth = -1
            depth -= 1

        def doctype(*_args) -> None:
            raise UnsafeFile(
                f"phần {name} có khai báo DTD, điều tệp Office không có (có thể là tệp độc hại)"
            )

        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.StartDoctypeDeclHandler = doctype
        try:
            while chunk := part.read(65536):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise UnsafeFile(f"phần {name} không phải XML hợp lệ") from None


def detect_kind(content: bytes) -> str | None:
    """The file's real type from its structure: None when it is none of KINDS or is damaged.
    Raises UnsafeFile for an Office file (zip) that is unsafe to unpack."""
    if content.startswith(b"%PDF-"):
        return "pdf" if _is_pdf(content) else None
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png" if _is_png(content) else None
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg" if _is_jpeg(content) else None
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole2_kind(content)
    if content.startswith(b"PK\x03\x04"):
        return _ooxml_kind(content)
    return None


PDF_OBJECT = re.compile(rb"\d{1,10}\s{1,4}\d{1,5}\s{1,4}obj\b")  # "12 0 obj"


def _is_pdf(content: bytes) -> bool:
    """An object near the start, and a trailer ending in %%EOF within the last kilobyte (where
    readers look for it)."""
    return (
        PDF_OBJECT.search(content, 0, 65536) is not None
        and b"endobj" in content
        and (b"startxref" in content[-2048:] or b"trailer" in content)
        and b"%%EOF" in content[-1024:]
    )


def _is_png(content: bytes) -> bool:
    """The chunk chain from IHDR (first) to IEND (last, at the very end) holds together."""
    at, first = 8, True
    while at + 12 <= len(content):
        (length,) = struct.unpack_from(">I", content, at)
        kind = content[at + 4 : at + 8]
        if first and (kind != b"IHDR" or length != 13):
            return False
        first = False
        at += 12 + length
        if kind == b"IEND":
            return at == len(content)
    return False


def _is_jpeg(content: bytes) -> bool:
    """Marker segments with consistent lengths from SOI to a frame header and the start of
    scan, then an EOI after the scan (a phone's motion photo may carry data after it)."""
    at, frame = 2, False
    while at + 4 <= len(content) and content[at] == 0xFF:
        marker = content[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        (length,) = struct.unpack_from(">H", content, at + 2)
        if length < 2:
            return False
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return frame and content.find(b"\xff\xd9", at + 2 + length) > 0
        frame |= marker in range(0xC0, 0xD0) and marker not in (0xC4, 0xC8, 0xCC)
        at += 2 + length
    return False


def _ole2_kind(content: bytes) -> str | None:
    """A compound file header (version 3 or 4, little-endian, its sector sizes) holding a Word
    or an Excel stream."""
    if len(content) < 512:
        return None
    major, order, sector, mini = struct.unpack_from("<HHHH", content, 26)
    if (major, sector) not in ((3, 9), (4, 12)) or order != 0xFFFE or mini != 6:
        return None
    if OLE2_STREAMS["xls"] in content:
        return "xls"
    if OLE2_STREAMS["doc"] in content:
        return "doc"
    return None


def _ooxml_kind(content: bytes) -> str | None:
    """A zip that is safe to unpack, with a readable [Content_Types].xml and the main part of a
    Word document or an Excel workbook."""
    try:
        with open_zip(content) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            if archive.getinfo("[Content_Types].xml").file_size > CONTENT_TYPES_BYTES:
                return None
            archive.read("[Content_Types].xml")  # its data inflate and match their checksum
    except ZIP_FAULTS:
        return None
    return next((kind for kind, main in OOXML_MAIN_PARTS.items() if main in names), None)


def safe_filename(name: str, kind: str) -> str:
    """A name safe to show and store: no folders, no control characters, the real extension."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", base).strip(" .") or "tep"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[:120]}.{kind}"
