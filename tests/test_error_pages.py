"""Every error a browser can meet is the site's Vietnamese page, through the real server: 404,
401, 413, 422, 500 and 503, on the home page, a unit's page and the secretariat's page."""

import socket

from config.settings import Settings
from tests.conftest import PDF, running


def _head_only(client, path: str, length: int) -> str:
    """The answer to a POST whose head announces `length` body bytes that are never sent."""
    host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"{head}Content-Length: {length}\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer.decode()


def _is_site_page(response, status: int, *words: str) -> None:
    assert response.status_code == status, (status, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in response.text and '"detail"' not in response.text
    for word in words:
        assert word in response.text, (status, word)


def test_each_error_a_browser_meets_is_the_sites_vietnamese_page(portal):
    syt = portal.paths["syt"]
    _is_site_page(portal.get("/khong-co-trang-nay"), 404, "Không tìm thấy trang")
    _is_site_page(portal.get("/don-vi/sai-ma/tep/1"), 404, "Không tìm thấy trang")
    assert portal.get("/quan-tri").headers["location"] == "/quan-tri/dang-nhap"  # a page: sign in
    own = {"Origin": str(portal.base_url).rstrip("/")}  # the site's own form, without a session
    signed_out = portal.post("/quan-tri/ghi-nhan/2020", data={"unit": "syt"}, headers=own)
    _is_site_page(signed_out, 401, "Mã lỗi 401", "hãy đăng nhập lại tại /quan-tri/dang-nhap")
    oversized = _head_only(portal, f"{syt}/nop/2020/so-ket", 10**12)
    assert oversized.startswith("HTTP/1.1 413 ") and '<html lang="vi">' in oversized
    assert "Dữ liệu gửi lên vượt quá 50 MB" in oversized
    malformed = portal.post(f"{syt}/nop/2020/dang-ky", data={"count_1": "mười"})
    _is_site_page(malformed, 422, "Hồ sơ chưa được chấp nhận", "phải là số nguyên từ 0")
    too_big = portal.post(f"{syt}/nop/2020/so-ket", files={"files": ("a.pdf", PDF * 5_000)})
    _is_site_page(too_big, 422, "lớn hơn giới hạn")
    # A real fault: the file store's folder is a file, so storing an upload fails.
    portal.settings.files_dir.parent.mkdir(parents=True, exist_ok=True)
    portal.settings.files_dir.write_bytes(b"")
    failed = portal.post(f"{syt}/nop/2020/so-ket", files={"files": ("a.pdf", PDF)})
    _is_site_page(failed, 500, "Lỗi máy chủ", "Mã lỗi 500")


def test_the_home_page_without_its_database_is_the_503_page(tmp_path):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:9/thidua"  # nothing listens on port 9
    with running(Settings(data_dir=tmp_path, database_url=unreachable)) as client:
        page = client.get("/")
    _is_site_page(page, 503, "Tạm ngừng phục vụ", "Mã lỗi 503")
    assert page.headers["retry-after"] == "30"
