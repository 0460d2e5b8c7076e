"""Every message renders in Vietnamese from its template pair; HTML is escaped; nothing undefined."""

import unicodedata
from datetime import date

import pytest
from jinja2 import UndefinedError

from notifications.render import MESSAGES, render

DEADLINE = {
    "title": "Báo cáo sơ kết phong trào thi đua",
    "wording": "trước ngày 20/6/2020",
    "last_day": date(2020, 6, 19),
    "extended": False,
    "recipient": "Sở Thông tin và Truyền thông",
    "documents": ["Báo cáo sơ kết của đơn vị"],
}
COMMON = {
    "year": 2020,
    "addressee": "Sở Y tế",
    "unit": "Sở Y tế",
    "bloc": {"name": "Khối thi đua các cơ quan lĩnh vực Văn hóa - Xã hội"},
    "secretariat": {
        "name": "Bùi Linh Đồng",
        "title": "Văn phòng Sở",
        "phone": "0913.818.656",
        "email": "vp@example.gov.vn",
    },
    "links": {
        "submit_url": "https://thidua.example.gov.vn/don-vi/T",
        "calendar_url": "https://thidua.example.gov.vn/calendars/private/C.ics",
    },
}
CONTEXTS = {
    "round_opening": {
        "round": {
            "name": "Đợt thi đua thứ nhất",
            "starts_on": date(2020, 1, 1),
            "ends_on": date(2020, 6, 30),
            "theme": "Chào mừng",
            "anniversaries": [{"on": date(2020, 2, 3), "name": "90 năm"}],
            "deadlines": [DEADLINE],
        }
    },
    "registration_request": {"deadline": DEADLINE},
    "reminder_before": {"deadline": DEADLINE, "working_days_left": 3},
    "due_today": {"deadline": DEADLINE, "today": date(2020, 6, 19)},
    "overdue": {"deadline": DEADLINE, "working_days_late": 2, "escalated": True},
    "receipt": {
        "deadline": DEADLINE,
        "version": 2,
        "received_at": "09:15 18/06/2020",
        "late": False,
        "files": ["bao-cao.pdf"],
        "details": ["Tổng điểm tự chấm: 95,5 điểm"],
        "note": "Bản đã ký",
    },
    "digest": {
        "today": date(2020, 6, 22),
        "columns": [
            {
                "title": "Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020",
                "last_day": date(2020, 6, 19),
            }
        ],
        "rows": [{"unit": "Sở Y tế", "cells": ["Quá hạn"]}],
        "admin_url": "https://thidua.example/quan-tri",
        "failures": [
            {"recipient": "x@example.gov.vn", "subject": "Nhắc hạn", "error": "550 no such user"}
        ],
        "waiting": [{"count": 12, "error": "Tạm dừng gửi: máy chủ SMTP không trả lời"}],
    },
    "ballot_invitation": {
        "polls": [
            {"title": "Bầu Trưởng khối năm 2021", "seats": 1, "candidates": ["Sở Y tế"]},
            {
                "title": "Bình xét đề nghị tặng Bằng khen",
                "seats": 3,
                "candidates": ["Báo Bắc Giang"],
            },
        ],
        "closes_at": "17:00 18/12/2020",
        "ballot_url": "https://thidua.example.gov.vn/don-vi/T#bo-phieu",
    },
    "results": {
        "ranking": [{"rank": 1, "unit": "Sở Thông tin và Truyền thông", "total": "96,5"}],
        "proposals": [
            {"title": "Cờ thi đua của UBND tỉnh", "units": ["Sở Y tế"], "referred": []},
            {"title": "Bằng khen", "units": [], "referred": ["Báo Bắc Giang", "Sở Y tế"]},
        ],
        "head": "Sở Văn hóa, Thể thao và Du lịch",
        "deputy": "Sở Giáo dục và Đào tạo",
        "rotation": False,
    },
    "run_failed": {
        "run": {
            "title": "nhắc nộp hồ sơ",
            "name": "amber-fox",
            "at": "00:10 04/03/2020",
            "error": "OperationalError: unable to open database file",
            "url": "http://127.0.0.1:4200/runs/flow-run/0d6b",
            "crashed": False,
        }
    },
    "letter": {
        "title": "Giấy mời họp giao ban",
        "paragraphs": [["Kính mời đại diện lãnh đạo đơn vị dự họp", "lúc 08:00"], ["Đề nghị."]],
    },
    "unit_links": {},
    "run_late": {
        "run": {
            "title": "nhắc nộp hồ sơ",
            "name": "amber-fox",
            "expected": "08:00 04/03/2020",
            "started": "11:20 04/03/2020",
            "delay": "3 giờ 20 phút",
            "url": "http://127.0.0.1:4200/runs/flow-run/0d6b",
        }
    },
}


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_renders_text_and_html(name):
    message = render(name, {**COMMON, **CONTEXTS[name]})
    assert message.subject.startswith("[Thi đua 2020] ") and "\n" not in message.subject
    assert message.text.startswith("Kính gửi: ") and "Trân trọng./." in message.text
    assert "<strong>Kính gửi: " in message.html and "</html>" in message.html
    for text in (message.subject, message.text, message.html):
        assert unicodedata.is_normalized("NFC", text)
    if name not in ("digest", "run_failed", "run_late"):
        assert (
            COMMON["links"]["submit_url"] in message.text
            and COMMON["links"]["calendar_url"] in message.html
        )


def test_deadline_messages_show_the_plans_wording_and_the_last_day():
    message = render("reminder_before", {**COMMON, **CONTEXTS["reminder_before"]})
    assert "trước ngày 20/6/2020 (hạn cuối: hết ngày Thứ Sáu, 19/06/2020)" in message.text
    assert "Còn 3 ngày làm việc" in message.text


def test_html_is_escaped_and_text_is_not():
    context = {**COMMON, **CONTEXTS["overdue"], "unit": "<script>alert(1)</script>"}
    message = render("overdue", context)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "<script>alert(1)</script>" in message.text


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        render("due_today", {**COMMON, "deadline": DEADLINE})  # no "today"
