"""The secretariat's mail page in a real browser (Debian chromium): a letter written,
previewed, sent and then listed as sent; a failed email resent. Screenshots at a desktop and a
phone width go where tests/test_browser.py puts its own (build/screenshots/)."""

import email
from datetime import UTC, datetime
from email.policy import default

from sqlmodel import Session, select

from models.tables import OutboxMessage, Unit, YearPlan
from tests.test_admin_mail import _settled
from tests.test_browser import (  # noqa: F401 (the fixtures)
    SCREENSHOTS,
    browser,
    page,
    sign_in_staff,
)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(browser_page, name: str, db) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{db.engine.dialect.name}.png"
    browser_page.screenshot(path=path, full_page=True)


def _failed_email(db) -> None:
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        syt = session.exec(select(Unit).where(Unit.code == "syt")).one()
        session.add(
            OutboxMessage(
                key="test:failed",
                plan_id=plan.id,
                unit_id=syt.id,
                stage="overdue-1",
                recipient="vanphong.syt@bacgiang.gov.vn.example",
                subject="[Thi đua 2020] Quá hạn: Gửi đăng ký danh hiệu thi đua năm 2020",
                text="-",
                message_id="<test-failed@thidua.example>",
                status="failed",
                attempts=1,
                last_error="550 5.1.1 Recipient address rejected: mailbox unavailable",
                created_at=datetime(2020, 3, 5, 1, 0, tzinfo=UTC),
            )
        )
        session.commit()


def test_a_clerk_writes_previews_and_sends_a_letter_then_sees_it_sent(portal, page, db):  # noqa: F811
    _failed_email(db)
    page.set_viewport_size(DESKTOP)
    base = sign_in_staff(page, portal, db, "/quan-tri")
    page.get_by_role(
        "link", name="Thư điện tử: hộp thư đi, gửi lại, soạn thư gửi các đơn vị"
    ).click()
    assert page.url == base + "/quan-tri/thu/2020"
    assert "Lý do: 550 5.1.1" in page.locator("#hop-thu-di").inner_text()

    page.get_by_label("Chỉ các đơn vị được đánh dấu dưới đây").check()
    page.get_by_label("Sở Y tế").check()
    page.get_by_label("Ban Dân tộc tỉnh").check()
    page.get_by_label("Tiêu đề (tối đa 200 ký tự)").fill("Giấy mời họp giao ban 6 tháng")
    page.get_by_label("Nội dung").fill(
        "Văn phòng Khối trân trọng kính mời đại diện lãnh đạo đơn vị dự họp giao ban\n"
        "lúc 08:00 ngày 10/07/2020 tại Hội trường Sở Thông tin và Truyền thông.\n\n"
        "Đề nghị đơn vị xác nhận thành phần tham dự trước ngày 08/07/2020."
    )
    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator("#xem-truoc").inner_text()
    assert "Gửi đến 2 đơn vị (2 địa chỉ email đầu mối)" in preview
    assert "Kính gửi: Sở Y tế" in preview and "Trân trọng./." in preview
    _shot(page, "quan-tri-thu-xem-truoc-may-tinh", db)
    page.set_viewport_size(PHONE)
    _shot(page, "quan-tri-thu-xem-truoc-dien-thoai", db)
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Gửi thư").click()
    assert "Đã đưa 2 thư vào hàng gửi" in page.locator("[role=status]").inner_text()
    _settled(db)
    page.get_by_label("Loại thư").select_option(label="Thư của Văn phòng khối")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.mail tbody tr")
    assert rows.count() == 2
    assert all("Đã gửi" in text for text in rows.all_inner_texts())
    assert "Giấy mời họp giao ban 6 tháng" in rows.first.inner_text()
    _shot(page, "quan-tri-thu-da-gui-may-tinh", db)

    page.goto(base + "/quan-tri/thu/2020?trang_thai=loi")
    page.get_by_role("button", name="Gửi lại thư tới vanphong.syt@bacgiang.gov.vn.example").click()
    assert "Đã đưa thư vào hàng gửi lại" in page.locator("[role=status]").inner_text()
    _settled(db)
    page.reload()  # the browser posts the resend form again: nothing more is queued
    assert "đã được gửi lại trước đó" in page.locator("[role=status]").inner_text()
    page.set_viewport_size(PHONE)
    page.goto(base + "/quan-tri/thu/2020")
    _shot(page, "quan-tri-thu-dien-thoai", db)

    # The portal's settings write to the .eml folder instead of an SMTP server.
    written = [
        email.message_from_bytes(path.read_bytes(), policy=default)
        for path in portal.settings.eml_dir.glob("*.eml")
    ]
    assert len(written) == 3  # the letter to two units, the failed email once again
    (to_bdt,) = [m for m in written if m["To"] == "vanphong.bdt@bacgiang.gov.vn.example"]
    text = to_bdt.get_body(("plain",)).get_content()
    assert text.startswith("Kính gửi: Ban Dân tộc tỉnh\n\n")
    assert "giao ban\nlúc 08:00 ngày 10/07/2020" in text  # the line break kept through preview
