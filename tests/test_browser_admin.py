"""The secretariat's sign-in in a real browser (Debian chromium): signing in, a form that
works, a form posted by another origin that is refused, signing out. Screenshots go where
tests/test_browser.py puts its own (build/screenshots/ or $THIDUA_SCREENSHOTS)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from models.tables import Score
from tests.conftest import ADMIN_AUTH, add_staff
from tests.test_browser import SCREENSHOTS, browser, page  # noqa: F401 (the fixtures)


@pytest.fixture
def other_origin():
    """A page on another port of the same host (same site, another origin) whose form posts
    to the portal: `.url` serves `.html`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = server.html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_port}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _shot(browser_page, name: str, db) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(
        path=SCREENSHOTS / f"{name}-{db.engine.dialect.name}.png", full_page=True
    )


def _verified(db) -> list:
    with Session(db.engine) as session:
        return session.exec(select(Score.verified_points)).all()


def test_staff_sign_in_verify_a_score_and_sign_out_in_a_browser(portal, page, db, other_origin):  # noqa: F811
    add_staff(db.engine)
    base = str(portal.base_url).rstrip("/")
    page.goto(base + "/quan-tri")  # no session: the sign-in form
    assert page.url == base + "/quan-tri/dang-nhap"
    page.get_by_label("Tên tài khoản").fill(ADMIN_AUTH[0])
    page.get_by_label("Mật khẩu").fill("sai-mat-khau-roi")
    page.get_by_role("button", name="Đăng nhập").click()
    assert "Tên tài khoản hoặc mật khẩu không đúng." in page.locator("[role=alert]").inner_text()
    _shot(page, "quan-tri-dang-nhap-sai", db)
    page.get_by_label("Mật khẩu").fill(ADMIN_AUTH[1])
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.url == base + "/quan-tri" and "Đang đăng nhập: vanphong" in page.content()
    page.get_by_role("link", name="Nộp muộn hoặc quá hạn").click()
    assert page.url == base + "/quan-tri?loc=tre"
    _shot(page, "quan-tri-tong-quan-tre", db)
    page.get_by_role("link", name="Tất cả đơn vị").click()

    page.locator("#v-unit-2020").select_option("syt")
    page.get_by_label("Điểm thẩm định (mục trừ: số lần)").fill("30")
    page.get_by_label("Lý do (bắt buộc khi khác điểm tự chấm)").fill("Đủ hồ sơ kiểm chứng")
    page.get_by_role("button", name="Ghi điểm thẩm định").click()
    assert "Đã ghi điểm thẩm định: Sở Y tế, I.1 = 30." in page.locator("[role=status]").inner_text()
    _shot(page, "quan-tri-tham-dinh", db)

    # A page of another origin on the same site: the browser sends the cookie (SameSite allows
    # it) and the form's token is even known; the Origin check alone refuses it.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    other_origin.html = (
        f'<form method="post" action="{base}/quan-tri/tham-dinh/2020">'
        f'<input name="csrf" value="{csrf}"><input name="unit" value="syt">'
        '<input name="item" value="I.1"><input name="value" value="1">'
        '<input name="reason" value="x"><button>Gửi</button></form>'
    )
    page.goto(other_origin.url)
    page.get_by_role("button", name="Gửi").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Không được phép"
    _shot(page, "quan-tri-tu-choi-trang-khac", db)
    assert _verified(db) == [30]

    page.goto(base + "/quan-tri")
    page.get_by_role("button", name="Đăng xuất").click()
    assert page.url == base + "/quan-tri/dang-nhap"
    page.goto(base + "/quan-tri")
    assert page.url == base + "/quan-tri/dang-nhap"  # the session ended
