"""What an uploaded file really is, judged by its content rather than its name."""

import io
import re
import unicodedata
import zipfile

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


def detect_kind(content: bytes) -> str | None:
    """The file's real type from its first bytes (and, for Office files, its inner layout)."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: legacy Word or Excel
        return "xls" if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in content else "doc"
    if content.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        except zipfile.BadZipFile:
            return None
        if any(name.startswith("word/") for name in names):
            return "docx"
        if any(name.startswith("xl/") for name in names):
            return "xlsx"
    return None


def safe_filename(name: str, kind: str) -> str:
    """A name safe to show and store: no folders, no control characters, the real extension."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", base).strip(" .") or "tep"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[:120]}.{kind}"
