"""The secretariat's plan page in a real browser (Debian chromium): a plan file with an error,
then a good one previewed and applied. Screenshots at phone and desktop width go where
tests/test_browser.py puts its own (build/screenshots/ or $THIDUA_SCREENSHOTS)."""

from datetime import date

from tests.test_admin_plan import SO_KET, loaded_text, moved, so_ket_day
from tests.test_browser import (  # noqa: F401 (the fixtures)
    SCREENSHOTS,
    browser,
    page,
    sign_in_staff,
)

DESKTOP = {"width": 1280, "height": 900}


def _shots(browser_page, name: str, db) -> None:
    """The page at the phone width the fixture opens with, then at a desktop's."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = browser_page.viewport_size
    suffix = db.engine.dialect.name
    browser_page.screenshot(path=SCREENSHOTS / f"{name}-dien-thoai-{suffix}.png", full_page=True)
    browser_page.set_viewport_size(DESKTOP)
    browser_page.screenshot(path=SCREENSHOTS / f"{name}-may-tinh-{suffix}.png", full_page=True)
    browser_page.set_viewport_size(phone)


def _choose(browser_page, name: str, text: str) -> None:
    files = browser_page.get_by_label("Tệp kế hoạch năm 2020 (.yaml, tối đa 1 MB)")
    files.set_input_files({"name": name, "mimeType": "application/yaml", "buffer": text.encode()})
    browser_page.get_by_role("button", name="Kiểm tra tệp").click()


def test_staff_upload_a_bad_plan_then_a_good_one_and_apply_it_in_a_browser(
    portal,
    page,  # noqa: F811
    db,
    plan_text,
):
    base = sign_in_staff(page, portal, db)
    page.get_by_role("link", name="Kế hoạch năm").click()
    assert page.url == base + "/quan-tri/ke-hoach"
    assert f"Hạn nộp: {SO_KET}" in page.content()
    _shots(page, "quan-tri-ke-hoach", db)

    bad = loaded_text(plan_text).replace("    date: 2020-06-20\n", "    date: 2020-02-30\n")
    line = bad.splitlines().index("    date: 2020-02-30") + 1
    _choose(page, "ke-hoach-loi.yaml", bad)
    alert = page.locator("[role=alert]").inner_text()
    assert (
        f"Tệp ke-hoach-loi.yaml, dòng {line}, trường deadlines[1].date: "
        "ngày không có thật: 2020-02-30" in alert
    )
    _shots(page, "quan-tri-ke-hoach-loi", db)

    _choose(page, "ke-hoach-moi.yaml", moved(plan_text))
    preview = page.locator("#xem-truoc-2020").inner_text()
    assert f"Hạn nộp “{SO_KET}”: hạn cuối 19/06/2020 → 26/06/2020" in preview
    assert so_ket_day(db) == date(2020, 6, 20)
    _shots(page, "quan-tri-ke-hoach-xem-truoc", db)

    page.get_by_role("button", name="Áp dụng tệp ke-hoach-moi.yaml").click()
    assert "Đã áp dụng ke-hoach-moi.yaml cho kế hoạch năm 2020: 3 thay đổi." in (
        page.locator("[role=status]").inner_text()
    )
    assert so_ket_day(db) == date(2020, 6, 27)
    _shots(page, "quan-tri-ke-hoach-da-ap-dung", db)
