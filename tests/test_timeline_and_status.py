"""`plan show` reproduces the seed plan's dates; `status` shows who submitted, late or not."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from domain.dates import due_instant, fmt_day, last_day
from domain.status import SubmissionState, submission_state
from models.tables import Deadline, Submission, Unit
from tests.conftest import EXAMPLE_PLAN

# Each date of the seed plan (shared/seed/000_b3a95254fba87560.txt), with its weekday from a
# printed 2020 calendar and what happens on it. "trước ngày D" is shown on its last day, D-1,
# as in the feeds and emails: a deadline on its last day to submit, an undated meeting on the
# latest day it can be held.
SEED_DATES = [
    ("Thứ Tư, 01/01/2020", "Bắt đầu Đợt thi đua thứ nhất (01/01/2020 – 30/06/2020)"),
    ("Thứ Hai, 03/02/2020", "Kỷ niệm 90 năm ngày thành lập Đảng Cộng sản Việt Nam"),
    (
        "Thứ Tư, 04/03/2020",
        "Hạn nộp: Gửi đăng ký danh hiệu thi đua năm 2020, gửi Sở Thông tin và Truyền thông trước ngày 05/3/2020 (hạn cuối: hết ngày 04/03/2020)",
    ),
    ("Thứ Năm, 30/04/2020", "Kỷ niệm 45 năm giải phóng miền Nam thống nhất đất nước"),
    ("Thứ Ba, 19/05/2020", "Kỷ niệm 130 năm ngày sinh Chủ tịch Hồ Chí Minh"),
    (
        "Thứ Sáu, 19/06/2020",
        "Hạn nộp: Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020, gửi Sở Thông tin và Truyền thông trước ngày 20/6/2020 (hạn cuối: hết ngày 19/06/2020)",
    ),
    ("Thứ Ba, 30/06/2020", "Kết thúc Đợt thi đua thứ nhất"),
    ("Thứ Tư, 01/07/2020", "Bắt đầu Đợt thi đua thứ hai (01/07/2020 – 31/12/2020)"),
    (
        "Thứ Năm, 09/07/2020",
        "Họp: Giao ban Khối thi đua và sơ kết công tác thi đua, khen thưởng 6 tháng đầu năm 2020 (Sở Thông tin và Truyền thông chủ trì; trước ngày 10/7/2020) — chưa ấn định ngày, chậm nhất ngày 09/07/2020",
    ),
    ("Thứ Tư, 19/08/2020", "Kỷ niệm 75 năm ngày Cách mạng tháng Tám"),
    ("Thứ Tư, 02/09/2020", "Kỷ niệm 75 năm Quốc khánh nước CHXHCN Việt Nam"),
    (
        "Thứ Tư, 09/12/2020",
        "Hạn nộp: Báo cáo tổng kết công tác thi đua, khen thưởng năm 2020 và bảng tự chấm điểm, gửi Sở Thông tin và Truyền thông trước ngày 10/12/2020 (hạn cuối: hết ngày 09/12/2020)",
    ),
    (
        "Thứ Năm, 10/12/2020",
        "Họp: Họp Khối: kiểm tra, chấm điểm thi đua; tổng kết, bình xét thi đua, đề xuất khen thưởng năm 2020; bầu Trưởng khối, Phó Trưởng khối thi đua năm 2021",
    ),
    ("Thứ Năm, 31/12/2020", "Kết thúc Đợt thi đua thứ hai"),
]


@pytest.fixture(scope="module")
def shown(templates, tmp_path_factory) -> list[str]:
    """`thidua plan show` output for the example plan, on SQLite (both backends: test below)."""
    import shutil

    from models.db import make_engine
    from tests.conftest import Database

    folder = tmp_path_factory.mktemp("show")
    shutil.copy(templates["sqlite"], folder / "thidua.db")
    url = f"sqlite:///{folder / 'thidua.db'}"
    database = Database(url, make_engine(url), folder, {"THIDUA_DATABASE_URL": url})
    database.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    return database.cli("plan", "show", check=True).stdout.splitlines()


@pytest.mark.parametrize(
    ("day", "text"), SEED_DATES, ids=[f"{d[-10:]}-{t[:12]}" for d, t in SEED_DATES]
)
def test_plan_show_lists_seed_date(shown, day, text):
    assert any(line.startswith(day) and text in line for line in shown), "\n".join(shown)


def test_plan_show_lists_exactly_the_seed_dates(shown):
    listed = {
        m.group(1)
        for line in shown
        if (m := re.match(r"Thứ \w+, (\d\d/\d\d/2020)|Chủ nhật, (\d\d/\d\d/2020)", line))
    }
    assert listed == {day[-10:] for day, _ in SEED_DATES}


def test_plan_show_heads_with_head_deputy_and_contact(shown):
    assert (
        shown[0] == "KẾ HOẠCH HOẠT ĐỘNG KHỐI THI ĐUA CÁC CƠ QUAN LĨNH VỰC VĂN HÓA - XÃ HỘI NĂM 2020"
    )
    assert "Trưởng khối: Sở Thông tin và Truyền thông" in shown
    assert any(
        line.startswith("Đầu mối: Bùi Linh Đồng") and "0913.818.656" in line for line in shown
    )


def test_plan_show_on_each_backend(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    out = db.cli("plan", "show", "--year", "2020", check=True).stdout
    assert out.count("\nThứ ") + out.count("\nChủ nhật") == len(SEED_DATES)


def test_plan_show_without_a_plan_says_what_to_do(db):
    result = db.cli("plan", "show")
    assert result.returncode == 1
    assert result.stderr.strip() == "Lỗi: chưa có kế hoạch nào: nạp bằng `thidua plan load TỆP`"


def test_commands_on_a_database_never_upgraded_say_to_upgrade(tmp_path):
    from tests.conftest import Database

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = Database(url, None, tmp_path, {"THIDUA_DATABASE_URL": url}).cli("plan", "show")
    assert result.returncode == 1
    assert "chạy `thidua db upgrade`" in result.stderr and "Traceback" not in result.stderr


def _submit(session: Session, unit_code: str, deadline_code: str, at: datetime, status="accepted"):
    unit = session.exec(select(Unit).where(Unit.code == unit_code)).one()
    deadline = session.exec(select(Deadline).where(Deadline.code == deadline_code)).one()
    session.add(
        Submission(
            deadline_id=deadline.id,
            unit_id=unit.id,
            version=1,
            channel="paper",
            status=status,
            received_at=at,
        )
    )


def test_status_shows_submitted_late_missing_and_not_yet_due(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    with Session(db.engine) as session:
        _submit(
            session, "syt", "dang-ky", datetime(2020, 3, 4, 16, 59, tzinfo=UTC)
        )  # 23:59 04/03 VN
        _submit(
            session, "sgddt", "dang-ky", datetime(2020, 3, 4, 17, 0, tzinfo=UTC)
        )  # 00:00 05/03 VN
        _submit(session, "bdt", "dang-ky", datetime(2020, 3, 1, tzinfo=UTC), status="rejected")
        _submit(session, "syt", "so-ket", datetime(2020, 7, 1, tzinfo=UTC))  # after the as-of
        session.commit()
    out = db.cli("status", "--as-of", "2020-06-25", check=True).stdout
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert re.search(r"Đã nộp\s+Quá hạn\s+Chưa nộp$", rows["syt"])
    assert re.search(r"Nộp muộn\s+Quá hạn\s+Chưa nộp$", rows["sgddt"])
    assert re.search(r"Quá hạn\s+Quá hạn\s+Chưa nộp$", rows["bdt"])
    assert "Tổng: Đã nộp: 1; Nộp muộn: 1; Chưa nộp: 9; Quá hạn: 16" in out
    assert "tình hình lúc 00:00 25/06/2020" in out


@pytest.mark.parametrize(
    ("rule", "due", "last"),
    [
        ("exclusive", datetime(2020, 3, 4, 17, tzinfo=UTC), date(2020, 3, 4)),
        ("inclusive", datetime(2020, 3, 5, 17, tzinfo=UTC), date(2020, 3, 5)),
    ],
)
def test_truoc_ngay_d_becomes_midnight_in_ho_chi_minh_city(rule, due, last):
    assert due_instant(date(2020, 3, 5), rule) == due
    assert last_day(due) == last


def test_unknown_deadline_rule_is_refused():
    with pytest.raises(ValueError, match="unknown deadline rule"):
        due_instant(date(2020, 3, 5), "sometimes")


DUE = datetime(2020, 3, 4, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "as_of", "state"),
    [
        pytest.param(
            [], datetime(2020, 3, 1, tzinfo=UTC), SubmissionState.PENDING, id="nothing-before-due"
        ),
        pytest.param([], DUE, SubmissionState.OVERDUE, id="nothing-at-due"),
        pytest.param(
            [datetime(2020, 3, 1, tzinfo=UTC)], DUE, SubmissionState.SUBMITTED, id="on-time"
        ),
        pytest.param([DUE], DUE, SubmissionState.LATE, id="at-due-is-late"),
        pytest.param(
            [DUE, datetime(2020, 3, 1, tzinfo=UTC)],
            DUE,
            SubmissionState.SUBMITTED,
            id="any-on-time",
        ),
        pytest.param(
            [datetime(2020, 3, 10, tzinfo=UTC)],
            datetime(2020, 3, 9, tzinfo=UTC),
            SubmissionState.OVERDUE,
            id="future-submission-unknown",
        ),
    ],
)
def test_submission_state(received, as_of, state):
    assert submission_state(DUE, received, as_of) is state


def test_weekday_names_are_vietnamese():
    assert [fmt_day(date(2020, 6, d)) for d in (15, 20, 21)] == [
        "Thứ Hai, 15/06/2020",
        "Thứ Bảy, 20/06/2020",
        "Chủ nhật, 21/06/2020",
    ]
