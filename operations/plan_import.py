"""Reading a plan document (.docx, .pdf, .txt, .md) into a draft plan file: the edge of
`thidua plan import`. The text is read here; what it means is read by `domain.plan_text`.

python-docx and pypdf are imported by the function that reads their kind of file only.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

from domain.plan_draft import Draft, render_draft
from domain.plan_text import NotAPlan, PlanText, read_plan_text, reflow

MAX_BYTES = 20 * 1024 * 1024  # a plan is a few pages: tens of kB as text, a few MB as a PDF
MAX_UNZIPPED = 100 * 1024 * 1024  # what a .docx may expand to (a zip bomb is refused)
MAX_PAGES = 200
DEFAULTS = Path(__file__).parent / "templates" / "plan_defaults.yaml"
KINDS = {".docx": "Word", ".pdf": "PDF", ".txt": "văn bản", ".md": "văn bản"}


class DocumentError(ValueError):
    """The document cannot be read or is not a plan; the message is for the user, in Vietnamese."""


@dataclass(frozen=True)
class Imported:
    plan: PlanText
    draft: Draft


def import_plan(path: Path) -> Imported:
    """The plan `path` describes and its draft plan file; DocumentError when there is none."""
    text = read_document(path)
    try:
        plan = read_plan_text(text)
    except NotAPlan as error:
        raise DocumentError(str(error)) from None
    defaults = DEFAULTS.read_text(encoding="utf-8")
    return Imported(plan, render_draft(plan, source_file=path.name, defaults=defaults))


def read_document(path: Path) -> str:
    """The text of a .docx, .pdf, .txt or .md file."""
    kind = path.suffix.lower()
    if kind not in KINDS:
        raise DocumentError(
            f"không đọc được tệp «{path.suffix or path.name}»: chỉ nhận .docx, .pdf, .txt, .md"
        )
    try:
        size = path.stat().st_size
    except OSError as error:
        raise DocumentError(f"không mở được tệp: {error.strerror or error}") from None
    if size > MAX_BYTES:
        raise DocumentError("tệp quá lớn (hơn 20 MB); một kế hoạch chỉ vài trang")
    if size == 0:
        raise DocumentError("tệp rỗng")
    reader = {".docx": _docx_text, ".pdf": _pdf_text}.get(kind, _plain_text)
    return reader(path)


def _plain_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"tệp không phải UTF-8 (byte {error.start}): lưu lại dưới dạng UTF-8"
        ) from None


def _docx_text(path: Path) -> str:
    """Paragraphs and tables in the order they stand; a table as `| cell | cell |` lines."""
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise DocumentError("tệp .docx hỏng hoặc không phải tệp Word") from None
    if unzipped > MAX_UNZIPPED:
        raise DocumentError("tệp Word giải nén ra quá lớn (hơn 100 MB); không đọc")
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError):
        raise DocumentError("tệp .docx hỏng hoặc không phải tệp Word") from None
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(block.text)
        lines.append("")
    return "\n".join(lines)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [] if reader.is_encrypted else list(reader.pages)
        if len(pages) <= MAX_PAGES:
            text = "\n".join(page.extract_text() or "" for page in pages)
    except (PdfReadError, ValueError, KeyError, TypeError):
        raise DocumentError("tệp PDF hỏng, không đọc được") from None
    if reader.is_encrypted:
        raise DocumentError("tệp PDF có mật khẩu: cần bản không khóa")
    if len(pages) > MAX_PAGES:
        raise DocumentError(f"tệp PDF quá dài (hơn {MAX_PAGES} trang); một kế hoạch chỉ vài trang")
    if not text.strip():
        raise DocumentError(
            "tệp PDF không có chữ (có lẽ là bản quét ảnh): cần bản PDF có chữ, bản Word hoặc .txt"
        )
    return reflow(text)  # a PDF's lines are wrapped to the page
