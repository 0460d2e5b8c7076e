"""A unit's page shows what it sent (registration, self score, note, files) and fills the form
again with its latest version; the unit downloads its own files through its private link, and
no other link, id or path reaches them. The API carries the same data."""

import re
import socket
from html import unescape

import pytest

from portal.downloads import attachment_header
from tests.conftest import PDF

CRITERIA = [
    *(f"I.{i}" for i in range(1, 6)),
    *(f"II.{i}" for i in range(1, 5)),
    *(f"III.{i}" for i in range(1, 6)),
]
REGISTRATION = {"collective_title": "Tập thể Lao động xuất sắc", "count_1": "42", "count_2": "3"}
SIGNED = "Bản đăng ký đã ký.pdf"


def _section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _register(portal, unit: str = "syt", note: str = "Đăng ký lần đầu"):
    response = portal.post(
        f"{portal.paths[unit]}/nop/2020/dang-ky",
        data={**REGISTRATION, "note": note},
        files=[("files", (SIGNED, PDF, "application/pdf"))],
    )
    assert response.status_code == 200, response.text[:2000]


def _file_link(portal, unit: str = "syt") -> str:
    page = portal.get(portal.paths[unit]).text
    return re.search(r'href="(/don-vi/[^"]+/tep/\d+)"', page).group(1)


def test_the_unit_page_shows_the_registration_sent_and_fills_the_form_again(portal):
    _register(portal, note="Bản nháp")
    _register(portal)  # the correction: version 2 is the one in use
    section = _section(portal.get(portal.paths["syt"]).text, "han-2020-dang-ky")
    text = _text(section)
    assert "Hồ sơ đã gửi" in text and "– bản đang dùng" in text
    assert "Danh hiệu tập thể: Tập thể Lao động xuất sắc" in text
    assert "Lao động tiên tiến: 42 người" in text and "Chiến sĩ thi đua cơ sở: 3 người" in text
    assert "Ghi chú: Đăng ký lần đầu" in text and "Ghi chú: Bản nháp" in text
    assert text.count(SIGNED) == 2  # each version lists its file
    form = section.split("<form", 1)[1]
    assert "<option selected>Tập thể Lao động xuất sắc</option>" in form
    assert 'name="count_1" value="42"' in form and 'name="count_2" value="3"' in form
    assert 'name="count_3" value="0"' in form
    assert ">Đăng ký lần đầu</textarea>" in form  # the latest version's note


def test_the_unit_page_shows_the_self_score_entered_and_fills_the_scores_again(portal):
    scores = {f"score_{code}": "1" for code in CRITERIA} | {"score_I.1": "20,5"}
    scores |= {"score_T.1": "2", "score_P.1": "1", "note": "Kèm minh chứng"}
    evidence = [
        (f"evidence_{code}", ("minh-chung.pdf", PDF, "application/pdf")) for code in CRITERIA
    ]
    response = portal.post(
        f"{portal.paths['syt']}/nop/2020/tong-ket",
        data=scores,
        files=[("files", ("bao-cao.pdf", PDF, "application/pdf")), *evidence],
    )
    assert response.status_code == 200, response.text[:2000]
    section = _section(response.text, "han-2020-tong-ket")
    # 20.5 + 13 criteria at 1 + bonus 2 - one late report (1 point)
    assert "Tổng điểm tự chấm: 34,5" in _text(section)
    assert "I.1. Hoàn thành các chỉ tiêu" in _text(section) and "1 lần (−1 điểm)" in section
    assert "minh-chung.pdf (kiểm chứng tiêu chí III.5, 1 KB)" in _text(section)
    form = section.split("<form", 1)[1]
    assert 'name="score_I.1" value="20,5"' in form and 'name="score_III.5" value="1"' in form
    assert 'name="score_T.1" value="2"' in form and 'name="score_P.1" value="1"' in form
    assert 'name="score_T.2" value=""' in form and ">Kèm minh chứng</textarea>" in form


def test_a_refused_form_comes_back_as_typed_not_as_the_last_version(portal):
    _register(portal)
    refused = portal.post(
        f"{portal.paths['syt']}/nop/2020/dang-ky",
        data={"collective_title": "Cờ thi đua của UBND tỉnh", "count_1": "mười", "note": "Sửa <b>"},
    )
    assert refused.status_code == 422
    form = _section(refused.text, "han-2020-dang-ky").split("<form", 1)[1]
    assert "<option selected>Cờ thi đua của UBND tỉnh</option>" in form
    assert 'name="count_1" value="mười"' in form and 'name="count_2" value="0"' in form
    assert ">Sửa &lt;b&gt;</textarea>" in form
    again = _section(portal.get(portal.paths["syt"]).text, "han-2020-dang-ky")
    assert 'name="count_1" value="42"' in again  # the page itself: the latest accepted version


def test_a_unit_downloads_its_own_file_as_an_attachment(portal):
    _register(portal)
    response = portal.get(_file_link(portal))
    assert response.status_code == 200 and response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Ban_dang_ky_da_ky.pdf\"; filename*=UTF-8''"
        "B%E1%BA%A3n%20%C4%91%C4%83ng%20k%C3%BD%20%C4%91%C3%A3%20k%C3%BD.pdf"
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def _raw_get(portal, path: bytes) -> bytes:
    """A GET sent as written (no client normalises `..` or encodes anything)."""
    host, port = str(portal.base_url).removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_no_other_link_id_or_path_reaches_a_units_file(portal):
    _register(portal, unit="syt")
    _register(portal, unit="bdt")
    own = _file_link(portal, "syt")
    file_id = own.rsplit("/", 1)[1]
    bdt = portal.paths["bdt"]
    for path in [
        f"{bdt}/tep/{file_id}",  # another unit's link, this unit's file
        f"{portal.paths['syt']}x/tep/{file_id}",  # a wrong token
        f"{portal.paths['syt']}/tep/999999",
        f"{portal.paths['syt']}/tep/0",
        f"{portal.paths['syt']}/tep/-1",
        f"{portal.paths['syt']}/tep/{10**22}",
        f"{portal.paths['syt']}/tep/{file_id}.pdf",
        f"{portal.paths['syt']}/tep/..%2F..%2Fthidua.db",
        f"{portal.paths['syt']}/tep/{file_id}?" + "x" * 6_000,
    ]:
        response = portal.get(path)
        expected = 200 if path.endswith("x" * 6_000) else 404
        assert response.status_code == expected, (path[:120], response.text[:200])
        if expected == 404:
            assert "Không tìm thấy" in response.text and response.content != PDF
    for raw in (f"{own}/../../../thidua.db", "/don-vi/../../thidua.db", f"{own}/..%2f..%2f"):
        answer = _raw_get(portal, raw.encode())
        assert answer.startswith(b"HTTP/1.1 404 "), (raw, answer[:200])
        assert PDF not in answer and b"SQLite" not in answer


@pytest.mark.parametrize(
    "name, fallback",
    [
        pytest.param('bao"cao\r\nX-Evil: 1.pdf', "bao_cao_X-Evil_1.pdf", id="quote-and-newline"),
        pytest.param("..\\..\\windows/system.ini", "system.ini", id="folders"),
        pytest.param("Đề án.docx", "De_an.docx", id="vietnamese"),
        pytest.param("...", "tep", id="only-dots"),
    ],
)
def test_a_download_name_carries_no_folder_quote_or_control_character(name, fallback):
    header = attachment_header(name)
    assert f'filename="{fallback}"' in header
    assert "\r" not in header and "\n" not in header and header.count('"') == 2
    assert "/" not in header.split("filename*=UTF-8''", 1)[1]


def test_the_api_carries_the_same_data_as_the_page(portal):
    _register(portal)
    unit = portal.get(f"/api/v1{portal.paths['syt']}").json()
    registration = next(d for d in unit["deadlines"] if d["code"] == "dang-ky")
    version = registration["submissions"][0]
    assert version["note"] == "Đăng ký lần đầu" and version["self_score_total"] is None
    assert version["data"] == {
        "collective_title": "Tập thể Lao động xuất sắc",
        "individuals": {
            "Lao động tiên tiến": 42,
            "Chiến sĩ thi đua cơ sở": 3,
            "Chiến sĩ thi đua cấp tỉnh": 0,
        },
    }
    [attachment] = version["attachments"]
    assert attachment["filename"] == SIGNED and attachment["size"] == len(PDF)
    assert attachment["url"] == _file_link(portal)
    assert portal.get(attachment["url"]).content == PDF
