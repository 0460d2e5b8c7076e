"""End to end in a real browser (Debian chromium, driven by Playwright, one launch for the
module) on a phone's screen: the bloc's home page, a unit that registers, fills the Excel
self-score template, uploads it, sees what it sent and finds its form filled again, and the
not-found page. Each page is saved as a screenshot in build/screenshots/ (or
$THIDUA_SCREENSHOTS) for a person to look at."""

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

from tests.conftest import ADMIN_AUTH, PDF, ROOT, add_staff

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SCREENSHOTS = Path(os.environ.get("THIDUA_SCREENSHOTS") or ROOT / "build" / "screenshots")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, accept_downloads=True, locale="vi-VN"
    )  # a phone
    yield context.new_page()
    context.close()


def sign_in_staff(page, portal, db, start: str = "/quan-tri/dang-nhap") -> str:
    """Make the secretariat's account and sign in through the form at `start` (the workspace
    sends a visitor without a session there), as a clerk does; returns the portal's address."""
    add_staff(db.engine)
    base = str(portal.base_url).rstrip("/")
    page.goto(base + start)
    page.get_by_label("Tên tài khoản").fill(ADMIN_AUTH[0])
    page.get_by_label("Mật khẩu").fill(ADMIN_AUTH[1])
    page.get_by_role("button", name="Đăng nhập").click()
    return base


def screenshot(page, name: str) -> Path:
    """The whole page as `name`.png in the screenshots folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_unit_registers_and_uploads_its_self_score_in_a_browser(portal, page, tmp_path):
    base = str(portal.base_url).rstrip("/")
    page.goto(base + portal.paths["syt"])
    assert page.locator("h1").inner_text() == "Sở Y tế"

    registration = page.locator("section#han-2020-dang-ky")
    registration.locator("select[name=collective_title]").select_option("Tập thể Lao động xuất sắc")
    registration.locator("input[name=count_1]").fill("42")
    registration.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert (
        "Đã nhận hồ sơ: Gửi đăng ký danh hiệu thi đua năm 2020, lần 1"
        in page.locator("[role=status]").inner_text()
    )

    annual = page.locator("section#han-2020-tong-ket")
    with page.expect_download() as download:
        annual.get_by_text("tải mẫu Excel của đơn vị").click()
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)
    workbook = load_workbook(template)
    sheet = workbook["Tự chấm điểm"]
    for row in range(6, sheet.max_row + 1):
        code = sheet[f"A{row}"].value
        if code and not sheet[f"D{row}"].protection.locked:
            sheet[f"D{row}"] = sheet[f"C{row}"].value if str(code).startswith("I") else 0
            if str(code).startswith("I"):  # a criterion: its evidence, as the plan requires
                sheet[f"E{row}"] = f"Quyết định số 12/QĐ-SYT, mục {code}"
    filled = io.BytesIO()
    workbook.save(filled)
    (tmp_path / "bang-diem.xlsx").write_bytes(filled.getvalue())
    (tmp_path / "bao-cao.pdf").write_bytes(PDF)

    annual = page.locator("section#han-2020-tong-ket")
    annual.locator("input[name=score_file]").set_input_files(str(tmp_path / "bang-diem.xlsx"))
    annual.locator("input[name=files]").set_input_files(str(tmp_path / "bao-cao.pdf"))
    annual.locator("button[type=submit]").click()
    page.wait_for_load_state()
    receipt = page.locator("[role=status]").inner_text()
    assert (
        "Đã nhận hồ sơ: Báo cáo tổng kết công tác thi đua, khen thưởng năm 2020 và bảng tự chấm điểm, lần 1"
        in receipt
    )
    history = page.locator("section#han-2020-tong-ket ol.versions").inner_text()
    assert "bang-diem.xlsx" in history and "bao-cao.pdf" in history
    assert "Tổng điểm tự chấm: 100" in history  # every criterion at its maximum, no bonus
    page.locator("section#han-2020-tong-ket").get_by_text("Xem điểm từng mục đã nhập").click()
    history = page.locator("section#han-2020-tong-ket ol.versions").inner_text()
    assert "Kiểm chứng: Quyết định số 12/QĐ-SYT, mục I.1" in history  # column E, kept
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("section#han-2020-tong-ket ol.versions").screenshot(
        path=str(SCREENSHOTS / "unit-self-score-sent.png")
    )


def test_the_home_page_shows_the_timeline_and_the_subscribe_buttons(portal, page):
    base = str(portal.base_url).rstrip("/")
    response = page.goto(base + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Khối thi đua các cơ quan lĩnh vực Văn hóa - Xã hội"
    assert page.get_by_text("hạn cuối: hết ngày Thứ Tư, 04/03/2020").is_visible()
    for button in ("iPhone, iPad, máy Mac (Lịch)", "Google Calendar (Android)", "Outlook"):
        assert page.get_by_role("link", name=button).is_visible()
    assert (
        page.get_by_role("link", name="Outlook")
        .get_attribute("href")
        .startswith("https://outlook.live.com/calendar/0/addfromweb?url=http")
    )
    assert not page.locator(".qr").is_visible()  # a phone cannot scan its own screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot(page, "home")
    page.set_viewport_size({"width": 1280, "height": 900})  # a desktop: the code to scan
    qr = page.locator(".qr svg").bounding_box()
    assert qr["width"] >= 150 and qr["width"] == qr["height"]
    page.locator(".subscribe").screenshot(path=str(SCREENSHOTS / "home-subscribe-desktop.png"))


def test_a_unit_sees_what_it_sent_and_its_form_filled_again(portal, page, tmp_path):
    base = str(portal.base_url).rstrip("/")
    page.goto(base + portal.paths["bdt"])
    (tmp_path / "Bản đăng ký.pdf").write_bytes(PDF)
    registration = page.locator("section#han-2020-dang-ky")
    registration.locator("select[name=collective_title]").select_option("Tập thể Lao động xuất sắc")
    registration.locator("input[name=count_1]").fill("35")
    registration.locator("input[name=count_2]").fill("4")
    registration.locator("input[name=files]").set_input_files(str(tmp_path / "Bản đăng ký.pdf"))
    registration.locator("textarea[name=note]").fill("Bản đăng ký có chữ ký của Trưởng ban")
    registration.locator("button[type=submit]").click()
    page.wait_for_load_state()

    registration = page.locator("section#han-2020-dang-ky")
    sent = registration.locator("ol.versions").inner_text()
    assert "Danh hiệu tập thể: Tập thể Lao động xuất sắc" in sent
    assert "Lao động tiên tiến: 35 người" in sent and "Chiến sĩ thi đua cơ sở: 4 người" in sent
    assert "Ghi chú: Bản đăng ký có chữ ký của Trưởng ban" in sent
    form = registration.locator("form")
    assert form.locator("select[name=collective_title]").input_value() == (
        "Tập thể Lao động xuất sắc"
    )
    assert form.locator("input[name=count_1]").input_value() == "35"
    assert form.locator("textarea[name=note]").input_value().startswith("Bản đăng ký có chữ ký")
    with page.expect_download() as download:
        registration.get_by_role("link", name="Bản đăng ký.pdf").click()
    assert download.value.suggested_filename == "Bản đăng ký.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "unit-after-submission")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    registration.screenshot(path=str(SCREENSHOTS / "unit-registration-sent.png"))


def test_an_unknown_address_shows_the_not_found_page(portal, page):
    response = page.goto(str(portal.base_url).rstrip("/") + "/don-vi/da-doi/khong-co")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Không tìm thấy trang"
    screenshot(page, "not-found")
