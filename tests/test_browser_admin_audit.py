"""The audit page, a pause and an extension in a real browser (Debian chromium): a clerk
pauses a unit's reminders, finds it in the audit log filtered by unit and account, and takes
the pause away with its "Hủy" button; a clerk gives a unit more time and its feed and
reminders follow. Screenshots at phone and desktop widths."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from calendars.publish import publish_all
from models.db import session_scope
from models.tables import ReminderPause
from tests.test_browser import (  # noqa: F401 (the fixtures)
    SCREENSHOTS,
    browser,
    page,
    sign_in_staff,
)
from tests.test_extensions import _feed_body, _unit_id

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shots(browser_page, name: str, db, part=None) -> None:
    """The page (or only `part`, a locator) at desktop then phone width (the viewport the
    test goes on with)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("may-tinh", DESKTOP), ("dien-thoai", PHONE)):
        browser_page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}-{db.engine.dialect.name}.png"
        if part is None:
            browser_page.screenshot(path=path, full_page=True)
        else:
            part.screenshot(path=path)


def test_a_clerk_filters_the_audit_log_and_cancels_a_pause_in_a_browser(portal, page, db):  # noqa: F811
    base = sign_in_staff(page, portal, db)
    assert page.url == base + "/quan-tri"

    page.locator("#p-unit-2020").select_option("syt")
    page.locator("#p-from-2020").fill("2020-02-24")
    page.locator("#p-to-2020").fill("2020-02-26")
    page.locator("#p-reason-2020").fill("Đơn vị chuyển trụ sở")
    page.get_by_role("button", name="Tạm dừng nhắc").click()
    assert "Đã tạm dừng nhắc hạn cho Sở Y tế" in page.locator("[role=status]").inner_text()

    page.get_by_role("link", name="Nhật ký thao tác").click()
    assert page.url == base + "/quan-tri/nhat-ky"
    page.get_by_label("Đơn vị").select_option(label="Sở Y tế")
    page.get_by_label("Tài khoản thực hiện").fill("vanphong")
    page.get_by_role("button", name="Lọc nhật ký").click()
    assert "don_vi=" in page.url and "tai_khoan=vanphong" in page.url
    summary = page.locator("[role=status]").inner_text()
    assert summary.startswith("1 thao tác về Sở Y tế của tài khoản vanphong")
    entry = page.locator("ol.audit > li").first.inner_text()
    assert entry.startswith("tạm dừng nhắc hạn: Sở Y tế") and "Từ ngày: 24/02/2020" in entry
    _shots(page, "quan-tri-nhat-ky-loc", db)

    page.get_by_role("link", name="Tình hình nộp hồ sơ").click()
    cancel = page.get_by_role("button", name="Hủy tạm dừng nhắc của Sở Y tế")
    _shots(page, "quan-tri-gia-han-tam-dung-dang-co", db, page.locator("ul.changes"))
    cancel.click()
    message = page.locator("[role=status]").inner_text()
    assert "Đã hủy tạm dừng nhắc hạn cho Sở Y tế từ ngày 24/02/2020" in message
    assert "chưa có lần tạm dừng nhắc nào" in page.content()
    with Session(db.engine) as session:
        assert session.exec(select(ReminderPause)).all() == []

    page.goto(base + "/quan-tri/nhat-ky")
    assert (
        page.locator("ol.audit > li")
        .first.inner_text()
        .startswith("hủy tạm dừng nhắc hạn: Sở Y tế")
    )
    _shots(page, "quan-tri-nhat-ky", db)


def test_a_clerk_grants_an_extension_in_a_browser_and_the_units_row_and_feed_follow(
    portal,
    page,  # noqa: F811
    db,
):
    """Sở Y tế is given until 11/03 on the registration from the workspace's form: its row says
    so and its private feed moves the day. (The chase following it is proven over HTTP in
    test_extensions: the chase cannot run inside Playwright's event loop.)"""
    with session_scope(db.engine) as session:
        publish_all(session, as_of=datetime.now(UTC))
    feed_key = f"unit/{_unit_id(db, 'syt')}"
    assert b"DTSTART;VALUE=DATE:20200311" not in _feed_body(db, feed_key)
    sign_in_staff(page, portal, db)

    page.locator("#e-unit-2020").select_option("syt")
    page.locator("#e-deadline-2020").select_option("dang-ky")
    page.locator("#e-until-2020").fill("2020-03-11")
    page.locator("#e-reason-2020").fill("Đơn vị có văn bản xin gia hạn")
    page.get_by_role("button", name="Gia hạn", exact=True).click()
    message = page.locator("[role=status]").inner_text()
    assert "cho Sở Y tế đến hết ngày 11/03/2020" in message
    row = page.locator("tr", has_text="Sở Y tế").first.inner_text()
    assert "Gia hạn đến 11/03/2020" in row
    _shots(page, "quan-tri-gia-han", db, page.locator("[role=status]"))

    assert b"DTSTART;VALUE=DATE:20200311" in _feed_body(db, feed_key)  # its private feed
