"""Request bodies read within bounds, so that no request can fill the server's memory or disk.

`BodyLimit` refuses a body larger than THIDUA_MAX_REQUEST_BYTES as soon as the app reads it: by
its Content-Length before a byte is read, or, for a chunked body, when the running count passes
the bound. A response sent before the body was read closes the connection, so the rest of the
body is never received. `read_form` parses an upload form as it streams, in memory only (nothing
is spooled to disk): each file up to THIDUA_MAX_UPLOAD_BYTES + 1 bytes (enough to say it is too
large), at most MAX_FILES files and MAX_FIELDS text fields of MAX_FIELD_BYTES each.
"""

from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from operations.intake import Upload

MAX_FILES = 100
MAX_FIELDS = 200
MAX_FIELD_BYTES = 100_000  # a note or a score; a whole report comes as a file
MALFORMED = (
    "Dữ liệu biểu mẫu gửi lên không đúng định dạng (multipart/form-data) nên không đọc được. "
    "Vui lòng mở lại trang và gửi lại."
)
CUT_SHORT = "Dữ liệu gửi lên bị cắt ngang, chưa nhận đủ. Vui lòng gửi lại."
NOT_A_FORM = (
    "Dữ liệu phải được gửi dưới dạng biểu mẫu (multipart/form-data hoặc "
    "application/x-www-form-urlencoded), như trang nộp hồ sơ gửi."
)


class RequestRefused(Exception):
    """The request is refused as sent: `status` (400, 413 or 415) and a Vietnamese message that
    says why and what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g}".replace(".", ",") + " MB"


def too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        413,
        f"Dữ liệu gửi lên vượt quá {_megabytes(limit)} cho một lần gửi. Vui lòng giảm dung lượng "
        "tệp (nén, hoặc quét với độ phân giải thấp hơn) rồi gửi lại.",
    )


class BodyLimit:
    """ASGI middleware: reading a request body larger than `max_bytes` raises `too_large`, before
    any byte of it is read when its Content-Length announces it. A response that leaves part of
    the body unread carries `Connection: close`: the server then stops receiving it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        announced = headers.get(b"content-length", b"0")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        unread = chunked or announced != b"0"
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, unread
            if announced.isdigit() and int(announced) > self.max_bytes:
                raise too_large(self.max_bytes)
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise too_large(self.max_bytes)
            unread = message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and unread:
                message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
            await send(message)

        await self.app(scope, limited_receive, closing_send)


async def read_form(
    request: Request, max_file_bytes: int
) -> tuple[dict[str, str], dict[str, list[Upload]]]:
    """Text fields (the last of each name) and uploads by field, read as the body streams. Raises
    RequestRefused: 400 malformed or cut short, 413 too many or too long, 415 not a form."""
    media_type, options = parse_options_header(request.headers.get("content-type"))
    try:
        if media_type == b"multipart/form-data":
            form = _MultipartForm(options.get(b"boundary", b""), max_file_bytes)
            async for chunk in request.stream():
                form.write(chunk)
            return form.finish()
        if media_type == b"application/x-www-form-urlencoded":
            return _urlencoded(await request.body()), {}
    except ClientDisconnect:
        raise RequestRefused(400, CUT_SHORT) from None
    raise RequestRefused(415, NOT_A_FORM)


def _too_many(what: str, limit: int) -> RequestRefused:
    return RequestRefused(413, f"Biểu mẫu có quá nhiều {what} (tối đa {limit} trong một lần gửi).")


def _too_long(name: str) -> RequestRefused:
    return RequestRefused(
        413, f"Trường “{name[:60]}” dài quá {MAX_FIELD_BYTES:,} byte.".replace(",", ".")
    )


def _text(value: bytes, name: str) -> str:
    try:
        return _without_nul(value.decode("utf-8"), f"Trường “{name[:60]}”")
    except UnicodeDecodeError:
        raise RequestRefused(400, f"Trường “{name[:60]}” không phải văn bản UTF-8.") from None


def _without_nul(text: str, what: str) -> str:
    # No database stores a NUL in text (PostgreSQL refuses it), and no form sends one.
    if "\x00" in text:
        raise RequestRefused(400, f"{what} chứa ký tự NUL (mã 0), không hợp lệ.")
    return text


def _urlencoded(body: bytes) -> dict[str, str]:
    if body.count(b"&") >= MAX_FIELDS:
        raise _too_many("trường", MAX_FIELDS)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise RequestRefused(400, "Biểu mẫu gửi lên không phải văn bản UTF-8.") from None
    for name, value in pairs:
        _without_nul(name, f"Tên trường “{name[:60]}”")
        _without_nul(value, f"Trường “{name[:60]}”")
        if len(value.encode()) > MAX_FIELD_BYTES:
            raise _too_long(name)
    return dict(pairs)


class _MultipartForm:
    """The parts of a multipart body, collected from python-multipart's callbacks as it is fed."""

    def __init__(self, boundary: bytes, max_file_bytes: int) -> None:
        if not boundary:
            raise RequestRefused(400, MALFORMED)
        try:
            self.parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._data,
                    "on_part_end": self._end,
                    "on_end": self._finished,
                },
            )
        except (FormParserError, ValueError):  # no boundary, or an overlong one
            raise RequestRefused(400, MALFORMED) from None
        self.max_file_bytes = max_file_bytes
        self.fields: dict[str, str] = {}
        self.uploads: dict[str, list[Upload]] = {}
        self.files = self.texts = 0
        self.complete = False

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except FormParserError:
            raise RequestRefused(400, MALFORMED) from None

    def finish(self) -> tuple[dict[str, str], dict[str, list[Upload]]]:
        if not self.complete:  # the closing boundary never came
            raise RequestRefused(400, CUT_SHORT)
        return self.fields, self.uploads

    def _begin(self) -> None:
        self.header, self.value, self.disposition = b"", b"", b""
        self.content = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        if self.header.lower() == b"content-disposition":
            self.disposition = self.value
        self.header, self.value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise RequestRefused(400, MALFORMED)
        self.name = options[b"name"].decode("utf-8", "replace")
        _without_nul(self.name, f"Tên trường “{self.name[:60]}”")
        filename = options.get(b"filename")
        self.filename = None if filename is None else filename.decode("utf-8", "replace")
        if self.filename:
            _without_nul(self.filename, f"Tên tệp “{self.filename[:60]}”")
        if self.filename is None:
            self.texts += 1
            if self.texts > MAX_FIELDS:
                raise _too_many("trường", MAX_FIELDS)
        else:
            self.files += 1
            if self.files > MAX_FILES:
                raise _too_many("tệp", MAX_FILES)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.filename is None:
            if len(self.content) + end - start > MAX_FIELD_BYTES:
                raise _too_long(self.name)
            self.content += data[start:end]
        else:  # keep one byte past the limit: enough to refuse the file as too large
            room = self.max_file_bytes + 1 - len(self.content)
            self.content += data[start : min(end, start + max(room, 0))]

    def _end(self) -> None:
        if self.filename is None:
            self.fields[self.name] = _text(bytes(self.content), self.name)
        elif self.filename:  # an empty file input sends a part with no name and no content
            criterion = (
                self.name.removeprefix("evidence_") if self.name.startswith("evidence_") else None
            )
            upload = Upload(self.filename, bytes(self.content), criterion)
            self.uploads.setdefault(self.name, []).append(upload)

    def _finished(self) -> None:
        self.complete = True
