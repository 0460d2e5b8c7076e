"""What each kind of email is called, in the words a clerk reads in the run tables, the outbox
listing and the digest: a stage code (`overdue-5`) becomes "quá hạn lần 5"."""

NAMES = {
    "due-today": "nhắc đúng hạn",
    "digest": "tổng hợp tình hình",
    "receipt": "xác nhận đã nhận hồ sơ",
    "round-opening": "phát động đợt thi đua",
    "registration-request": "đề nghị đăng ký thi đua",
    "ballot": "mời bỏ phiếu",
    "results": "kết quả thi đua",
    "run-failed": "báo lỗi khi chạy",
    "letter": "thư của Văn phòng khối",
    "links": "gửi lại đường dẫn riêng",
    "run-late": "báo chạy trễ",
}


STATUS_NAMES = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "không gửi được",
    "cancelled": "đã hủy",
}


def kind_name(stage: str) -> str:
    """The Vietnamese name of an email's stage; an unknown one is shown as it is."""
    if stage.startswith("before-"):
        return f"nhắc trước hạn {stage.removeprefix('before-')} ngày làm việc"
    if stage.startswith("overdue-"):
        return f"quá hạn lần {stage.removeprefix('overdue-')}"
    return NAMES.get(stage, stage)
