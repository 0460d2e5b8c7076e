"""The JSON API for integrations: the same unit token and the same form fields as the page."""

from datetime import UTC, datetime

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import select

from domain.dates import last_day
from domain.extensions import unit_due_at
from domain.status import submission_state
from models import queries
from models.db import session_scope
from models.scores import SheetView, self_total, sheet_view
from models.submissions import history
from models.tables import Submission, SubmissionFile
from notifications.mailer import send_outbox
from portal.limits import read_form
from portal.pages import PlanYear, accept_form, locate, owes, unit_and_plans
from portal.sent import file_url

router = APIRouter(prefix="/api/v1", tags=["Đơn vị"])
NOT_FOUND = "Không tìm thấy."


class ErrorOut(BaseModel):
    detail: str  # what is wrong and what to do, in Vietnamese


NOT_FOUND_RESPONSE = {"model": ErrorOut, "description": "Đường dẫn không đúng hoặc đã được thay."}
UNAVAILABLE = {"model": ErrorOut, "description": "Cơ sở dữ liệu tạm thời không truy cập được."}
FILE = {"type": "string", "format": "binary"}
COUNT = {"type": "integer", "minimum": 0}
# The form read by portal.limits.read_form, as the submission page sends it.
SUBMISSION_FORM = {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": FILE, "description": "Tệp hồ sơ"},
        "note": {"type": "string", "description": "Ghi chú"},
        "collective_title": {"type": "string", "description": "Danh hiệu tập thể đăng ký"},
        "count_1": {**COUNT, "description": "Số Lao động tiên tiến"},
        "count_2": {**COUNT, "description": "Số Chiến sĩ thi đua cơ sở"},
        "count_3": {**COUNT, "description": "Số Chiến sĩ thi đua cấp tỉnh"},
        "score_file": {**FILE, "description": "Bảng tự chấm điểm (mẫu Excel của đơn vị)"},
    },
    "patternProperties": {
        "^score_.+$": {"type": "string", "description": "Điểm tự chấm của một tiêu chí"},
        "^evidence_.+$": {"type": "array", "items": FILE, "description": "Tài liệu kiểm chứng"},
    },
}


class FileOut(BaseModel):
    filename: str
    content_type: str
    size: int  # bytes
    url: str  # the unit's private download address, relative to the portal


class SubmissionOut(BaseModel):
    version: int
    status: str  # accepted | rejected
    channel: str
    received_at: datetime
    late: bool
    files: list[str]
    errors: list[str]
    note: str | None
    # registration: collective_title, individuals {title: count}; self score: scores
    # {item: points}, occurrences {penalty item: times}, evidence {item: reference}
    data: dict
    self_score_total: float | None  # by the sheet's rules, for a self-score version
    attachments: list[FileOut]


def submission_out(
    submission: Submission,
    files: list[SubmissionFile],
    *,
    due_at: datetime,
    token: str,
    view: SheetView,
) -> SubmissionOut:
    """A version as the API gives it: the same data as the unit's page shows (`due_at`: when
    the unit's time ran out, its extension included)."""
    data = submission.data or {}
    return SubmissionOut(
        version=submission.version,
        status=submission.status,
        channel=submission.channel,
        received_at=submission.received_at,
        late=submission.received_at >= due_at,
        files=[f.filename for f in files],
        errors=submission.errors,
        note=submission.note,
        data=data,
        self_score_total=self_total(data, view) if "scores" in data else None,
        attachments=[
            FileOut(
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                url=file_url(token, f),
            )
            for f in files
        ],
    )


class DeadlineOut(BaseModel):
    year: int
    code: str
    kind: str
    title: str
    wording: str
    last_day: str  # YYYY-MM-DD, the last full day to submit (Asia/Ho_Chi_Minh)
    due_at: datetime
    state: str  # Đã nộp | Nộp muộn | Chưa nộp | Quá hạn
    documents: list[str]
    submissions: list[SubmissionOut]


class UnitOut(BaseModel):
    code: str
    name: str
    deadlines: list[DeadlineOut]


@router.get(
    "/don-vi/{token}",
    response_model=UnitOut,
    summary="Hạn nộp và hồ sơ đã gửi của đơn vị",
    responses={404: NOT_FOUND_RESPONSE, 503: UNAVAILABLE},
)
def unit_status(token: str, request: Request) -> UnitOut:
    now = datetime.now(UTC)
    with session_scope(request.app.state.engine) as session:
        found = unit_and_plans(session, token)
        if found is None:
            raise HTTPException(404, NOT_FOUND)
        unit, plans = found
        deadlines = []
        for plan in plans:
            owed = queries.obligations(session=session, plan=plan)
            rows = [
                d
                for d in queries.plan_events(session=session, plan=plan)[2]
                if not d.cancelled and (d.id, unit.id) in owed
            ]
            past = history(session, unit_id=unit.id, deadline_ids=[d.id for d in rows])
            view = sheet_view(session, plan=plan)
            extended = queries.extensions(session=session, plan=plan, only={unit.id})
            for d in rows:
                due_at = unit_due_at(d.due_at, extended.get((d.id, unit.id)))
                entries = past.get(d.id, [])
                received = [s.received_at for s, _ in entries if s.status == "accepted"]
                deadlines.append(
                    DeadlineOut(
                        year=plan.year,
                        code=d.code,
                        kind=d.kind,
                        title=d.title,
                        wording=d.wording,
                        last_day=last_day(due_at).isoformat(),
                        due_at=due_at,
                        state=submission_state(due_at, received, now).value,
                        documents=d.documents,
                        submissions=[
                            submission_out(s, files, due_at=due_at, token=token, view=view)
                            for s, files in entries
                        ],
                    )
                )
        return UnitOut(code=unit.code, name=unit.name, deadlines=deadlines)


@router.post(
    "/don-vi/{token}/nop/{year}/{code}",
    response_model=SubmissionOut,
    status_code=201,
    summary="Gửi hồ sơ cho một hạn nộp",
    description=(
        "multipart/form-data với cùng các trường như trang nộp hồ sơ: `files` (tệp hồ sơ), "
        "`note`; đăng ký thi đua: `collective_title`, `count_1`…`count_3` (Lao động tiên tiến, "
        "Chiến sĩ thi đua cơ sở, Chiến sĩ thi đua cấp tỉnh); tự chấm điểm: `score_file` (mẫu Excel) "
        "hoặc `score_<mã tiêu chí>`, và `evidence_<mã tiêu chí>` (tài liệu kiểm chứng: bắt buộc "
        "cho mỗi tiêu chí tự chấm trên 0 điểm khi bảng điểm yêu cầu, trừ khi cột E của mẫu Excel "
        "đã ghi đường dẫn hay số, ký hiệu văn bản). "
        "Hồ sơ không hợp lệ vẫn được lưu (status = rejected) và trả về 422 kèm `errors`."
    ),
    responses={
        400: {"model": ErrorOut, "description": "Biểu mẫu hỏng hoặc bị cắt ngang"},
        404: NOT_FOUND_RESPONSE,
        413: {"model": ErrorOut, "description": "Quá lớn, quá nhiều tệp hoặc trường"},
        415: {"model": ErrorOut, "description": "Không phải biểu mẫu"},
        422: {"model": SubmissionOut, "description": "Hồ sơ không hợp lệ"},
        503: UNAVAILABLE,
    },
    openapi_extra={
        "requestBody": {"content": {"multipart/form-data": {"schema": SUBMISSION_FORM}}}
    },
)
async def submit(
    token: str, year: PlanYear, code: str, request: Request, background: BackgroundTasks
):
    settings = request.app.state.settings
    if not await owes(request, token, year, code):  # refused before a byte of the body is read
        raise HTTPException(404, NOT_FOUND)
    fields, uploads = await read_form(request, settings.max_upload_bytes)

    def record() -> tuple[int, dict] | None:
        with session_scope(request.app.state.engine) as session:
            found = locate(session, token, year, code)
            if found is None:
                return None
            unit, _, plan, deadline = found
            submission = accept_form(
                session,
                settings,
                unit=unit,
                plan=plan,
                deadline=deadline,
                fields=fields,
                uploads=uploads,
                channel="api",
            )
            files = session.exec(
                select(SubmissionFile).where(SubmissionFile.submission_id == submission.id)
            ).all()
            accepted = submission.status == "accepted"
            view = sheet_view(session, plan=plan)
            body = submission_out(
                submission,
                files if accepted else [],
                due_at=queries.due_at_for(session=session, deadline=deadline, unit=unit),
                token=token,
                view=view,
            )
            return (201 if submission.status == "accepted" else 422), body.model_dump(mode="json")

    result = await to_thread.run_sync(record)
    if result is None:
        raise HTTPException(404, NOT_FOUND)
    status, body = result
    if status == 201:
        background.add_task(send_outbox, request.app.state.engine, settings)
    return JSONResponse(body, status_code=status)
