"""Hostile and broken requests against a real server: nothing fills its memory or its disk, and
every error a browser or a client can provoke is answered in Vietnamese (a page, JSON under /api/).

The memory tests run the app in its own process (uvicorn, as in production) so that its RSS can
be read from /proc, with TMPDIR pointing at a folder of the test.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlmodel import Session, select

from calendars.publish import publish_feeds
from config.settings import Settings
from models.db import session_scope
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Submission, Unit, YearPlan
from tests.conftest import PDF, PG_ADMIN_URL, ROOT, free_port, running

MB = 1_000_000
BOUNDARY = "hostile-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
# The server's bounds in these tests: small, so that the attacks stay small too.
UPLOAD_LIMIT, REQUEST_LIMIT = 2 * MB, 5 * MB
MEMORY_BOUND = 40 * MB  # growth of the server's peak RSS allowed while it refuses the attacks


@dataclass
class ServerProcess:
    """`uvicorn portal.app:create_app --factory` in its own process."""

    process: subprocess.Popen
    port: int
    temp: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def memory(self, field: str = "VmRSS") -> int:
        """VmRSS (now) or VmHWM (peak) of the server, in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} for the server")

    def spooled(self) -> int:
        """Bytes in the temp folder: its files, and the files the server holds open there (a
        spooled upload is unlinked at once but keeps its disk space while open)."""
        held = 0
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                if os.readlink(fd).startswith(str(self.temp)):
                    held += os.stat(fd).st_size
            except OSError:  # closed meanwhile
                pass
        return held + sum(p.stat().st_size for p in self.temp.rglob("*") if p.is_file())


@contextmanager
def serve(db, tmp_path: Path, **env: str) -> Iterator[ServerProcess]:
    """The app on `db` in a uvicorn process, its temp folder under `tmp_path`."""
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    port = free_port()
    variables = {**os.environ, **db.env, "TMPDIR": str(temp), **env}
    command = [sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=variables, stdout=log, stderr=log)
    server = ServerProcess(process, port, temp)
    try:
        limit = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(f"{server.url}/openapi.json", timeout=5).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < limit, "server did not start"
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Watch:
    """Samples the server's RSS and temp-folder bytes every few milliseconds, in a thread."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.peak_rss = server.memory()
        self.peak_spooled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.server.memory())
            self.peak_spooled = max(self.peak_spooled, self.server.spooled())
            time.sleep(0.005)

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


def load_example(db, plan_text: str, write_plan) -> dict[str, str]:
    """The example plan, active (so-ket owed by syt and bdt only); each unit's page path."""
    text = plan_text.replace(
        "    date: 2020-06-20\n", "    date: 2020-06-20\n    owed_by: [syt, bdt]\n"
    )
    settings = Settings(data_dir=db.data_dir, database_url=db.url)
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(text)), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
        links = Links("", settings.signing_key())
        units = session.exec(select(Unit)).all()
        return {unit.code: links.submit_url(session, unit.id) for unit in units}


def multipart_body(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart body of (field, filename or None for a text field, content) parts."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def streamed_files(count: int, size: int) -> tuple[int, Iterator[bytes]]:
    """(length, chunks) of a multipart body of `count` PDF-looking files of `size` bytes, made
    as it is sent (the test holds one megabyte of it at a time)."""
    block = PDF + b"0" * (MB - len(PDF))

    def head(i: int) -> bytes:
        return (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="f{i}.pdf"\r\n\r\n'
        ).encode()

    tail = f"--{BOUNDARY}--\r\n".encode()
    length = sum(len(head(i)) + size + 2 for i in range(count)) + len(tail)

    def chunks() -> Iterator[bytes]:
        for i in range(count):
            yield head(i)
            for start in range(0, size, MB):
                yield block[: min(MB, size - start)]
            yield b"\r\n"
        yield tail

    return length, chunks()


def send_files(url: str, count: int, size: int, chunked: bool = False) -> httpx.Response:
    length, chunks = streamed_files(count, size)
    headers = {"Content-Type": MULTIPART}
    if not chunked:
        headers["Content-Length"] = str(length)
    with httpx.Client(timeout=120) as client:
        return client.post(url, content=chunks, headers=headers)


def answer_to_head(port: int, path: str, length: int, headers: str = "") -> tuple[str, float]:
    """Send only a request's head, announcing `length` body bytes that never come: the answer
    (status line to end) and the seconds it took; a server that waits for the body times out."""
    start = time.monotonic()
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {MULTIPART}\r\n"
    head += f"Content-Length: {length}\r\n{headers}"
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(5)
        connection.sendall((head + "\r\n").encode())
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            return answer.decode("utf-8", "replace") or "no answer", time.monotonic() - start
    return answer.decode("utf-8", "replace"), time.monotonic() - start


def submissions(db) -> list[Submission]:
    with Session(db.engine) as session:
        return list(session.exec(select(Submission)).all())


@pytest.fixture
def server(db, tmp_path, plan_text, write_plan):
    paths = load_example(db, plan_text, write_plan)
    limits = {
        "THIDUA_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "THIDUA_MAX_REQUEST_BYTES": str(REQUEST_LIMIT),
    }
    with serve(db, tmp_path, **limits) as server:
        server.paths = paths
        yield server


def test_bogus_links_and_oversized_bodies_are_refused_without_filling_memory_or_disk(server, db):
    syt = server.paths["syt"]
    # Warm up (the first upload imports what the form reading needs), then measure from here.
    warm = httpx.post(f"{server.url}{syt}/nop/2020/so-ket", files={"files": ("a.pdf", PDF)})
    assert warm.status_code == 200
    baseline = server.memory("VmHWM")
    attacks = [  # (url, files of 1 MB, chunked)
        *[(f"{server.url}/api/v1/don-vi/not-a-token/nop/2020/so-ket", 40, False)] * 2,
        *[(f"{server.url}/don-vi/not-a-token/nop/2020/so-ket", 40, True)] * 2,
        *[(f"{server.url}/api/v1{syt}/nop/2020/so-ket", 40, False)] * 2,  # over the bound
        *[(f"{server.url}{syt}/nop/2020/so-ket", 40, True)] * 2,  # over it, and no length
    ]
    with Watch(server) as watch, ThreadPoolExecutor(len(attacks)) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda a: send_files(a[0], a[1], MB, chunked=a[2]), attacks))
        elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [404] * 4 + [413] * 4
    assert answers[0].json() == {"detail": "Không tìm thấy."}
    assert "Không tìm thấy trang" in answers[2].text
    too_large = "Dữ liệu gửi lên vượt quá 5 MB cho một lần gửi."
    assert answers[4].json()["detail"].startswith(too_large)
    assert (
        answers[6].headers["content-type"].startswith("text/html") and too_large in answers[6].text
    )
    assert server.memory("VmHWM") - baseline < MEMORY_BOUND, (baseline, watch.peak_rss)
    assert watch.peak_spooled == 0 and list(server.temp.iterdir()) == []
    assert elapsed < 30  # 320 MB offered; refused long before it could be sent
    assert len(submissions(db)) == 1  # only the warm-up


def test_a_refusal_comes_before_the_body_is_sent(server, db):
    syt = server.paths["syt"]
    for path, expected in [
        ("/api/v1/don-vi/not-a-token/nop/2020/so-ket", "404"),
        ("/don-vi/not-a-token/nop/2020/so-ket", "404"),
        (f"{syt}/nop/2019/so-ket", "404"),  # no such year
        (f"{syt}/nop/2020/so-ket", "413"),  # announced over the bound
        (f"/api/v1{syt}/nop/2020/so-ket", "413"),
    ]:
        answer, seconds = answer_to_head(server.port, path, 2_000 * MB)
        assert answer.startswith(f"HTTP/1.1 {expected} "), (path, answer[:200])
        assert seconds < 5, path
    assert submissions(db) == []


def test_admin_upload_checks_origin_session_and_year_before_reading_the_body(admin_portal):
    port = admin_portal.base_url.port
    path = "/quan-tri/tham-dinh/{year}/tai-len"
    session = admin_portal.cookies["thidua_quan_tri"]
    good, stale = (
        f"Origin: http://test\r\nCookie: thidua_quan_tri={t}\r\n" for t in (session, "x")
    )
    elsewhere = f"Origin: https://evil.example\r\nCookie: thidua_quan_tri={session}\r\n"
    for year, headers, expected in [
        (2020, "Origin: http://test\r\n", "401"),
        (2020, stale, "401"),
        (2020, elsewhere, "403"),
        (2019, good, "404"),  # no plan that year
        (10**22, good, "404"),  # no such year (a database integer would overflow)
        (2020, good, "413"),  # announced over the bound (50 MB by default)
    ]:
        answer, seconds = answer_to_head(port, path.format(year=year), 2_000 * MB, headers)
        assert answer.startswith(f"HTTP/1.1 {expected} "), (year, answer[:200])
        assert seconds < 5 and '<html lang="vi">' in answer


def _broken_requests(portal) -> list[tuple[str, str, str, dict, int, str]]:
    """(case, method, path, httpx arguments, status, words of the Vietnamese answer)."""
    syt = portal.paths["syt"]
    form = {"headers": {"Content-Type": MULTIPART}}
    return [
        ("unknown address", "GET", "/khong-co-trang-nay", {}, 404, "Không tìm thấy"),
        ("unknown address under a page", "GET", f"{syt}/khong-co", {}, 404, "Không tìm thấy"),
        ("year not a number", "GET", f"{syt}/bang-diem/abc.xlsx", {}, 404, "Không tìm thấy"),
        ("year not a number", "POST", f"{syt}/nop/hai-nghin/so-ket", {}, 404, "Không tìm thấy"),
        ("year out of range", "GET", f"{syt}/bang-diem/{10**22}.xlsx", {}, 404, "Không tìm thấy"),
        ("year out of range", "POST", f"{syt}/nop/{10**22}/so-ket", {}, 404, "Không tìm thấy"),
        ("wrong method", "GET", f"{syt}/nop/2020/so-ket", {}, 405, "không nhận yêu cầu kiểu GET"),
        ("wrong method", "DELETE", syt, {}, 405, "không nhận yêu cầu kiểu DELETE"),
        ("not a form", "POST", f"{syt}/nop/2020/so-ket", {"json": {"files": []}}, 415, "biểu mẫu"),
        ("no body", "POST", f"{syt}/nop/2020/so-ket", {}, 415, "biểu mẫu"),
        (
            "multipart without boundary",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {"headers": {"Content-Type": "multipart/form-data"}, "content": b"x"},
            400,
            "không đúng định dạng",
        ),
        (
            "another boundary than announced",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {
                **form,
                "content": multipart_body([("note", None, b"x")]).replace(b"hostile", b"other"),
            },
            400,
            "không đúng định dạng",
        ),
        (
            "body cut short",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([("files", "a.pdf", PDF)])[:-30]},
            400,
            "bị cắt ngang",
        ),
        (
            "part without a name",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {
                **form,
                "content": multipart_body([("note", None, b"x")]).replace(b' name="note"', b""),
            },
            400,
            "không đúng định dạng",
        ),
        (
            "too many files",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([("files", f"{i}.pdf", PDF) for i in range(101)])},
            413,
            "quá nhiều tệp (tối đa 100",
        ),
        (
            "too many fields",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([(f"f{i}", None, b"1") for i in range(201)])},
            413,
            "quá nhiều trường (tối đa 200",
        ),
        (
            "too many fields (urlencoded)",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {"data": {f"f{i}": "1" for i in range(201)}},
            413,
            "quá nhiều trường (tối đa 200",
        ),
        (
            "a field too long",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([("note", None, b"x" * 100_001)])},
            413,
            "Trường “note” dài quá 100.000 byte",
        ),
        (
            "a NUL in a field (no database stores it)",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([("note", None, b"ghi\x00chu")])},
            400,
            "Trường “note” chứa ký tự NUL",
        ),
        (
            "a field not UTF-8",
            "POST",
            f"{syt}/nop/2020/so-ket",
            {**form, "content": multipart_body([("note", None, "ghi chú".encode("utf-16"))])},
            400,
            "Trường “note” không phải văn bản UTF-8",
        ),
    ]


def test_every_broken_request_to_a_page_gets_a_vietnamese_page(portal, db):
    for case, method, path, arguments, status, words in _broken_requests(portal):
        response = portal.request(method, path, **arguments)
        assert response.status_code == status, (case, response.text[:300])
        assert response.headers["content-type"].startswith("text/html"), case
        assert '<html lang="vi">' in response.text and words in response.text, case
        assert "Not Found" not in response.text and '"detail"' not in response.text, case
    assert "POST" in portal.get(f"{portal.paths['syt']}/nop/2020/so-ket").headers["allow"]
    assert submissions(db) == []  # no broken request left a version behind


def test_every_broken_request_to_the_api_gets_vietnamese_json(portal, db):
    for case, method, path, arguments, status, words in _broken_requests(portal):
        response = portal.request(method, "/api/v1" + path, **arguments)
        assert response.status_code == status, (case, response.text[:300])
        assert words in response.json()["detail"], case
    unknown = portal.get("/api/v1/khong-co")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Không tìm thấy."}
    assert submissions(db) == []


def test_a_failure_while_storing_gets_a_vietnamese_500_and_stores_nothing(portal, db):
    # A real fault: the file store's folder is a file, so storing the upload fails.
    files_dir = portal.settings.files_dir
    files_dir.parent.mkdir(parents=True, exist_ok=True)
    files_dir.write_bytes(b"")
    for path in (portal.paths["syt"], "/api/v1" + portal.paths["syt"]):
        response = portal.post(f"{path}/nop/2020/so-ket", files={"files": ("a.pdf", PDF)})
        assert response.status_code == 500
        text = response.json()["detail"] if path.startswith("/api/") else response.text
        assert "Máy chủ gặp lỗi khi xử lý yêu cầu" in text
        assert "Internal Server Error" not in response.text
        assert response.headers["x-frame-options"] == "DENY"  # sent around the middleware
        assert response.headers["cache-control"] == "no-store"
    assert submissions(db) == []


def test_an_unreachable_database_gets_a_vietnamese_503_with_retry_after(tmp_path):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:9/thidua"  # nothing listens on port 9
    with running(Settings(data_dir=tmp_path, database_url=unreachable)) as client:
        page = client.get("/don-vi/" + "x" * 43)
        api = client.get("/api/v1/don-vi/" + "x" * 43)
        upload = client.post("/don-vi/" + "x" * 43 + "/nop/2020/so-ket", files={"f": ("a", b"")})
    for response in (page, api, upload):
        assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert "Tạm ngừng phục vụ" in page.text and '<html lang="vi">' in page.text
    assert "không truy cập được cơ sở dữ liệu" in api.json()["detail"]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_database_lost_while_running_gets_503_pages_while_the_feeds_keep_serving(
    db, plan_text, write_plan
):
    paths = load_example(db, plan_text, write_plan)
    settings = Settings(data_dir=db.data_dir, database_url=db.url, feed_refresh_seconds=0.1)
    with session_scope(db.engine) as session:
        publish_feeds(session, settings=settings, as_of=datetime.now(UTC))
    db.engine.dispose()
    with running(settings) as client:
        feed = client.get("/calendars/bg-vhxh/2020.ics")
        assert feed.status_code == 200 and client.get(paths["syt"]).status_code == 200
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{db.url.rsplit("/", 1)[1]}" WITH (FORCE)')
        page = client.get(paths["syt"])
        assert page.status_code == 503 and page.headers["retry-after"] == "30"
        assert "Tạm ngừng phục vụ" in page.text and '<html lang="vi">' in page.text
        time.sleep(0.3)  # the refreshes fail meanwhile: the last good copy is served
        again = client.get("/calendars/bg-vhxh/2020.ics")
        assert again.status_code == 200 and again.content == feed.content
