"""End to end in a real browser (Debian chromium, driven by Playwright): a unit opens its link,
registers, fills the Excel self-score template, uploads it, and sees the receipts."""

import io
import shutil

import pytest
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

from tests.conftest import PDF

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


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, accept_downloads=True
        )  # a phone
        yield context.new_page()
        browser.close()


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
