"""A unit's own files, downloaded through its private link: another unit's file, an unknown
id or a file missing from the store is not found; the name is made safe for the header."""

import logging
import re
import unicodedata
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import FileResponse, Response
from sqlmodel import select

from models.access import unit_for_token
from models.db import session_scope
from models.filestore import path_of
from models.tables import Submission, SubmissionFile
from portal.pages import not_found

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
# A file id in an address; a larger number would overflow the database's integer (a 500).
FileId = Annotated[int, FastAPIPath(ge=1, le=2**31 - 1)]


def attachment_header(name: str) -> str:
    """Content-Disposition for a download named `name`: an ASCII fallback and the UTF-8 name
    (RFC 6266), with no folder, quote or control character in either."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f":;*?<>|]+', "_", name).strip(" ._") or "tep"
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = re.sub(r"[^A-Za-z0-9.-]+", "_", plain.encode("ascii", "ignore").decode()).strip("_")
    return f"attachment; filename=\"{plain or 'tep'}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/don-vi/{token}/tep/{file_id}")
def download(token: str, file_id: FileId, request: Request) -> Response:
    """One of the unit's own files; another unit's file, or an unknown one, is not found."""
    with session_scope(request.app.state.engine) as session:
        unit_id = unit_for_token(session, token=token, purpose="portal")
        if unit_id is None:
            return not_found()
        file = session.exec(
            select(SubmissionFile)
            .join(Submission, Submission.id == SubmissionFile.submission_id)
            .where(SubmissionFile.id == file_id, Submission.unit_id == unit_id)
        ).one_or_none()
    return file_response(request, file)


def file_response(request: Request, file: SubmissionFile | None) -> Response:
    """The stored file as an attachment under its own name; not found when there is no file or
    its content is missing from the store."""
    if file is None or not re.fullmatch(r"[0-9a-f]{64}", file.sha256):
        return not_found()
    path = path_of(request.app.state.settings.files_dir, file.sha256)
    if not path.is_file():
        log.error("file %s of submission %s missing from the store", file.id, file.submission_id)
        return not_found()
    headers = {"Content-Disposition": attachment_header(file.filename)}
    return FileResponse(path, media_type=file.content_type, headers=headers)
