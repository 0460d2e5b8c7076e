"""Nhật ký in the words a clerk reads: what each recorded action is called, how its details
read, and how an event names the unit it concerns. Pure: the audit page (portal.admin_audit)
and its query (models.audit) use them."""

import re
from datetime import date

from domain.dates import fmt_date

ACTION_NAMES = {
    "plan.created": "nạp kế hoạch mới",
    "plan.updated": "cập nhật kế hoạch",
    "plan.activated": "đưa kế hoạch vào thực hiện",
    "calendar.rotated": "cấp lại đường dẫn lịch riêng",
    "portal.rotated": "cấp lại đường dẫn nộp hồ sơ",
    "links.sent": "gửi lại đường dẫn riêng cho đơn vị",
    "letter": "gửi thư của Văn phòng khối",
    "resend": "gửi lại một thư",
    "submission.accepted": "nhận hồ sơ",
    "submission.rejected": "hồ sơ không hợp lệ",
    "extend": "gia hạn",
    "extend.removed": "hủy gia hạn",
    "pause": "tạm dừng nhắc hạn",
    "pause.removed": "hủy tạm dừng nhắc hạn",
    "verify_score": "thẩm định điểm",
    "paper_tally": "nhập kết quả kiểm phiếu giấy",
    "approve-results": "phê duyệt kết quả cuối năm",
    "reject-results": "không phê duyệt kết quả cuối năm",
    "close": "kết thúc năm thi đua",
    "staff.added": "tạo tài khoản quản trị",
    "staff.password_set": "đặt mật khẩu mới",
    "staff.removed": "gỡ tài khoản quản trị",
    "staff.signed_in": "đăng nhập",
    "staff.signed_out": "đăng xuất",
    "staff.sign_in_refused": "đăng nhập sai",
}

DETAIL_LABELS = {
    "unit": "Đơn vị",
    "deadline": "Hạn nộp",
    "last_day": "Hạn cuối của kế hoạch",
    "until": "Gia hạn đến hết ngày",
    "previous_until": "Gia hạn trước đó đến",
    "from": "Từ ngày",
    "to": "Đến hết ngày",
    "reason": "Lý do",
    "channel": "Hình thức",
    "files": "Tệp",
    "errors": "Lỗi",
    "before": "Điểm trước",
    "after": "Điểm sau",
    "file": "Tệp kế hoạch",
    "changes": "Thay đổi",
    "note": "Ghi chú",
    "head": "Trưởng khối",
    "deputy": "Phó Trưởng khối",
    "returned": "Số phiếu thu về",
    "invalid": "Số phiếu không hợp lệ",
    "votes": "Số phiếu bầu",
    "address": "Địa chỉ máy",
    "sessions_ended": "Số phiên đăng nhập kết thúc",
    "recipients": "Người nhận",
    "recipient": "Người nhận",
    "title": "Tiêu đề",
    "subject": "Tiêu đề",
    "units": "Gửi tới đơn vị",
    "emails": "Số thư",
    "message": "Thư số",
}

CHANNELS = {
    "portal": "cổng nộp hồ sơ",
    "api": "API",
    "paper": "văn bản giấy",
    "dispatch": "công văn",
    "import": "nhập từ biểu mẫu",
}

# Details never shown, whatever an event holds: anything that could sign someone in.
SECRET = re.compile(r"token|password|hash|secret|sha256|csrf|cookie", re.IGNORECASE)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TEXT = 300

# How an event's key names the unit it concerns, per entity (a SQL LIKE pattern around the
# unit's code): an extension "deadline/unit", a pause of one unit "unit", a submission
# "deadline/unit/vN", a verified score "unit:item", a rotated link "unit".
UNIT_KEYS = {
    "Deadline": "%/{}",
    "ReminderPause": "{}",
    "Submission": "%/{}/v%",
    "score": "{}:%",
    "Unit": "{}",
}


def action_name(action: str) -> str:
    """The Vietnamese name of a recorded action; an unknown one is shown as it is."""
    return ACTION_NAMES.get(action, action)


def readable_details(details: dict) -> list[tuple[str, str]]:
    """An event's details as (label, text) lines in Vietnamese, dates dd/mm/yyyy, without
    empty values and without anything secret."""
    lines = []
    for key, value in details.items():
        if SECRET.search(key) or value in (None, "", [], {}):
            continue
        lines.append((DETAIL_LABELS.get(key, key), _text(key, value)))
    return lines


def _text(key: str, value) -> str:
    if key == "channel":
        return CHANNELS.get(value, str(value))
    if key == "address":
        return str(value).removeprefix("address:")
    if key == "units" and value == "*":
        return "mọi đơn vị"
    if isinstance(value, list):
        return "; ".join(_text("", v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text('', v)}" for k, v in value.items() if not SECRET.search(k))
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return fmt_date(date.fromisoformat(value))
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def like_pattern(template: str, code: str) -> str:
    """`template` (from UNIT_KEYS) around `code`, its LIKE wildcards escaped with '\\'."""
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return template.format(escaped)


def subject_parts(entity: str, key: str) -> dict[str, str]:
    """What an event's key names, by part: unit, deadline, version, item, account, text."""
    if entity == "Deadline" and key.count("/") == 1:
        deadline, unit = key.split("/")
        return {"deadline": deadline, "unit": unit}
    if entity == "Submission" and key.count("/") == 2:
        deadline, unit, version = key.split("/")
        return {"deadline": deadline, "unit": unit, "version": version.removeprefix("v")}
    if entity == "score" and ":" in key:
        unit, item = key.split(":", 1)
        return {"unit": unit, "item": item}
    if entity in ("ReminderPause", "Unit"):
        return {"unit": key} if key != "*" else {"text": "mọi đơn vị"}
    if entity == "StaffAccount":
        return {"account": key}
    return {"text": key}
