"""Signing in to the secretariat's page holds: accounts from the CLI, sessions that end,
forms that only this site can send, and sign-ins that slow down a guesser."""

import re
from functools import partial

import httpx
from sqlmodel import Session, select

from models.tables import AuditEvent, Score, StaffSession, Submission
from tests.conftest import ADMIN_AUTH, CSRF, Clock, add_staff, running, sign_in
from tests.test_admin import stored

SIGN_IN = "/quan-tri/dang-nhap"
VERIFY = "/quan-tri/tham-dinh/2020"
RECORD = "/quan-tri/ghi-nhan/2020"
PAPER = {"unit": "bdt", "deadline": "dang-ky", "received_at": "2020-01-02T10:00"}


def _session_cookie(client) -> str:
    return client.cookies["thidua_quan_tri"]


def _fresh(client) -> httpx.Client:
    """Another browser on the same portal: no cookie, the portal's Origin."""
    base = str(client.base_url).rstrip("/")
    return httpx.Client(base_url=base, timeout=30, headers={"Origin": base})


def _verified_score(admin_portal, db) -> None:
    form = {"unit": "syt", "item": "I.1", "value": "30", "reason": "Đủ hồ sơ"}
    form["csrf"] = admin_portal.csrf
    assert admin_portal.post(VERIFY, data=form).status_code == 200
    with Session(db.engine) as session:
        (score,) = session.exec(select(Score).where(Score.verified_points.is_not(None))).all()
    assert score.verified_points == 30


def _changes_nothing(admin_portal, db, send) -> httpx.Response:
    """`send()`'s answer, having checked that it left every table as it was."""
    before = stored(db.engine)
    response = send()
    assert stored(db.engine) == before
    return response


def test_no_page_of_the_workspace_is_reachable_without_a_session(admin_portal, db):
    with _fresh(admin_portal) as stranger:
        for path in ["/quan-tri", f"{VERIFY}/phieu-tham-dinh.xlsx"]:
            response = stranger.get(path)
            assert response.status_code == 303 and response.headers["location"] == SIGN_IN
        for path, form in [(VERIFY, {"unit": "syt", "item": "I.1", "value": "1"}), (RECORD, PAPER)]:
            refused = _changes_nothing(admin_portal, db, partial(stranger.post, path, data=form))
            assert refused.status_code == 401 and "hãy đăng nhập lại" in refused.text


def test_the_session_cookie_is_httponly_strict_and_lives_as_long_as_the_setting(portal, db):
    add_staff(db.engine)
    with running(portal.settings, Clock()) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        cookie = sign_in(client).headers["set-cookie"].split(", thidua_dang_nhap")[0]
    assert cookie.startswith("thidua_quan_tri=")
    assert {"HttpOnly", "Max-Age=28800", "Path=/quan-tri", "SameSite=strict"} <= set(
        cookie.split("; ")
    )
    assert "Secure" not in cookie  # the public address is http here (https: tests/test_secrets)


def test_a_wrong_password_or_unknown_account_is_refused_alike(admin_portal, db):
    cases = [(ADMIN_AUTH[0], "sai-mat-khau-roi"), ("khong-co-ai", ADMIN_AUTH[1]), ("", "")]
    with _fresh(admin_portal) as stranger:
        for name, password in cases:
            refused = sign_in(stranger, name, password)
            assert refused.status_code == 401 and "thidua_quan_tri" not in refused.cookies
            assert "Tên tài khoản hoặc mật khẩu không đúng." in refused.text
            assert stranger.get("/quan-tri").status_code == 303
    with Session(db.engine) as session:
        assert len(session.exec(select(StaffSession)).all()) == 1  # the fixture's own
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "staff.sign_in_refused")
        ).all()
    assert [e.key for e in events] == [name for name, _ in cases]


def test_a_tampered_expired_or_signed_out_session_is_refused(admin_portal, db):
    token = _session_cookie(admin_portal)
    with _fresh(admin_portal) as other:
        for forged in [token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x" * 5000]:
            other.cookies.set("thidua_quan_tri", forged, path="/quan-tri")
            assert other.get("/quan-tri").status_code == 303, forged[:20]
        other.cookies.set("thidua_quan_tri", token, path="/quan-tri")
        assert other.get("/quan-tri").status_code == 200  # the real token, from anywhere
    admin_portal.clock.advance(8 * 3600 - 1)
    assert admin_portal.get("/quan-tri").status_code == 200
    admin_portal.clock.advance(1)
    assert admin_portal.get("/quan-tri").status_code == 303  # eight hours: expired
    admin_portal.clock.advance(-10)
    signed_out = admin_portal.post("/quan-tri/dang-xuat", data={"csrf": admin_portal.csrf})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == SIGN_IN
    with _fresh(admin_portal) as replay:  # the old cookie, kept by someone, opens nothing
        replay.cookies.set("thidua_quan_tri", token, path="/quan-tri")
        assert replay.get("/quan-tri").status_code == 303
    with Session(db.engine) as session:
        assert session.exec(select(StaffSession)).all() == []
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        actors = {
            e.actor for e in session.exec(select(AuditEvent)) if e.action.startswith("staff.s")
        }
    assert actions[-2:] == ["staff.signed_in", "staff.signed_out"] and actors == {"vanphong"}


def test_a_new_password_from_the_cli_ends_the_sessions_of_the_account(admin_portal, db):
    token = _session_cookie(admin_portal)
    ran = db.cli("admin", "password", "vanphong", input="mat-khau-moi-rat-dai\n")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "Đã đặt mật khẩu mới cho vanphong; đã kết thúc 1 phiên đăng nhập."
    with _fresh(admin_portal) as replay:
        replay.cookies.set("thidua_quan_tri", token, path="/quan-tri")
        assert replay.get("/quan-tri").status_code == 303
        assert sign_in(replay).status_code == 401  # the old password
        assert sign_in(replay, password="mat-khau-moi-rat-dai").status_code == 303
        assert replay.get("/quan-tri").status_code == 200


def test_the_cli_adds_an_account_that_signs_in_and_refuses_bad_names_and_passwords(portal, db):
    ran = db.cli("admin", "add", "ke-toan", input="mot-mat-khau-du-dai\n")
    assert ran.returncode == 0, ran.stderr
    assert "Đã tạo tài khoản ke-toan: đăng nhập tại" in ran.stdout
    for args, typed, error in [
        (["add", "ke-toan"], "mot-mat-khau-khac-nua\n", "tài khoản “ke-toan” đã có"),
        (["add", "Kế Toán"], "mot-mat-khau-du-dai\n", "tên tài khoản “Kế Toán” không hợp lệ"),
        (["add", "thu-quy"], "ngan\n", "mật khẩu phải dài từ 10 đến 256 ký tự"),
        (["password", "khong-co"], "mot-mat-khau-du-dai\n", "không có tài khoản “khong-co”"),
    ]:
        failed = db.cli("admin", *args, input=typed)
        assert failed.returncode == 1 and len(failed.stderr.splitlines()) == 1, failed.stderr
        assert failed.stderr.startswith(f"Lỗi: {error}"), failed.stderr
    with running(portal.settings) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        assert sign_in(client, "ke-toan", "mot-mat-khau-du-dai").status_code == 303
        assert "Đang đăng nhập: ke-toan" in client.get("/quan-tri").text


def test_a_cross_site_post_is_refused_and_changes_nothing(admin_portal, db):
    """A page of another site posting with the clerk's cookie (and even a stolen token)."""
    _verified_score(admin_portal, db)
    cut = {"unit": "syt", "item": "I.1", "value": "28", "reason": "x", "csrf": admin_portal.csrf}
    paper = {**PAPER, "channel": "paper", "csrf": admin_portal.csrf}
    for headers in [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame
        {"Origin": "null", "Referer": "https://evil.example/trang"},
        {"Origin": f"{admin_portal.headers['Origin']}.evil.example"},
    ]:
        for path, form in [(VERIFY, cut), (RECORD, paper), ("/quan-tri/dang-xuat", cut)]:
            refused = _changes_nothing(
                admin_portal, db, partial(admin_portal.post, path, data=form, headers=headers)
            )
            assert refused.status_code == 403, (path, headers)
            assert "không được gửi từ trang quản trị của cổng này" in refused.text
    with Session(db.engine) as session:
        assert session.exec(select(Submission)).all() == []
        score = session.exec(select(Score).where(Score.verified_points.is_not(None))).one()
    assert score.verified_points == 30


def test_a_post_without_a_header_saying_where_it_comes_from_is_refused(admin_portal, db):
    del admin_portal.headers["Origin"]
    form = {"unit": "syt", "item": "I.1", "value": "30", "reason": "Đủ hồ sơ"}
    form["csrf"] = admin_portal.csrf
    refused = _changes_nothing(admin_portal, db, lambda: admin_portal.post(VERIFY, data=form))
    assert refused.status_code == 403
    base = str(admin_portal.base_url).rstrip("/")
    kept = admin_portal.post(VERIFY, data=form, headers={"Referer": f"{base}/quan-tri"})
    assert kept.status_code == 200  # a browser that sends only its Referer


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(admin_portal, db):
    _verified_score(admin_portal, db)
    for token in [None, "", "0" * 64, "sai", admin_portal.csrf[:-1]]:
        extra = {} if token is None else {"csrf": token}
        cut = {"unit": "syt", "item": "I.1", "value": "28", "reason": "x", **extra}
        paper = {**PAPER, "channel": "paper", **extra}
        for path, form in [
            (VERIFY, cut),
            (RECORD, paper),
            ("/quan-tri/dang-xuat", {"go": "1", **extra}),
        ]:
            refused = _changes_nothing(
                admin_portal, db, partial(admin_portal.post, path, data=form)
            )
            assert refused.status_code == 403 and "thiếu mã xác thực" in refused.text, path
    with Session(db.engine) as session:
        assert session.exec(select(Submission)).all() == []
        assert session.exec(select(Score.verified_points)).all() == [30]
    assert admin_portal.get("/quan-tri").status_code == 200  # still signed in


def test_the_sign_in_form_refuses_a_post_without_its_own_token(admin_portal, db):
    with _fresh(admin_portal) as stranger:
        data = {"name": ADMIN_AUTH[0], "password": ADMIN_AUTH[1], "csrf": "doan-bua"}
        refused = _changes_nothing(admin_portal, db, lambda: stranger.post(SIGN_IN, data=data))
        assert refused.status_code == 403 and "thidua_quan_tri" not in refused.cookies


def test_wrong_passwords_delay_the_account_until_the_wait_is_over(admin_portal):
    clock = admin_portal.clock
    with _fresh(admin_portal) as guesser:
        for _ in range(3):  # three mistakes cost nothing yet
            assert sign_in(guesser, password="doan-sai-mat-khau").status_code == 401
        refused = sign_in(guesser)  # the right password, too soon
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
        assert "Thử lại sau 5 giây." in refused.text and "thidua_quan_tri" not in refused.cookies
        clock.advance(4)
        assert sign_in(guesser).status_code == 429
        clock.advance(1)
        assert sign_in(guesser, password="doan-sai-lan-nua").status_code == 401
        clock.advance(5)
        assert "Thử lại sau 5 giây." in sign_in(guesser).text  # the wait doubled: 10 s
        clock.advance(5)
        assert sign_in(guesser).status_code == 303
        guesser.cookies.clear()
        assert sign_in(guesser, password="sai-sau-khi-vao").status_code == 401  # count restarted


def test_many_accounts_guessed_from_one_address_delay_that_address(admin_portal):
    with _fresh(admin_portal) as guesser:
        for number in range(10):
            assert sign_in(guesser, f"ten-doan-{number}", "mat-khau-doan").status_code == 401
        refused = sign_in(guesser)  # a real account, from the guessing address
        assert refused.status_code == 429 and "Thử lại sau 5 giây." in refused.text
        admin_portal.clock.advance(5)
        assert sign_in(guesser).status_code == 303


def test_oversized_sign_in_fields_are_refused_without_an_error(admin_portal, db):
    with _fresh(admin_portal) as stranger:
        form = stranger.get(SIGN_IN)
        (csrf,) = CSRF.findall(form.text)
        for data, status in [
            ({"name": "a" * 200_000, "password": "x"}, 413),
            ({"name": ADMIN_AUTH[0], "password": "x" * 90_000}, 401),
            ({"name": "a" * 90_000, "password": ADMIN_AUTH[1]}, 401),
        ]:
            answer = stranger.post(SIGN_IN, data={**data, "csrf": csrf})
            assert answer.status_code == status and '<html lang="vi">' in answer.text
            assert "Traceback" not in answer.text and "thidua_quan_tri" not in answer.cookies
            csrf = CSRF.findall(answer.text)[0] if status == 401 else csrf  # the form's new one
    with Session(db.engine) as session:
        keys = [e.key for e in session.exec(select(AuditEvent)) if "refused" in e.action]
    assert all(len(key) <= 64 for key in keys)


def test_every_admin_action_is_audited_with_the_account_that_did_it(admin_portal, db):
    _verified_score(admin_portal, db)
    paper = {**PAPER, "channel": "paper", "csrf": admin_portal.csrf}
    assert admin_portal.post(RECORD, data=paper).status_code == 200
    with Session(db.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.actor == "vanphong")).all()
    assert {e.action for e in events} >= {
        "staff.signed_in",
        "verify_score",
        "submission.accepted",
    }


def test_the_sign_in_page_is_vietnamese_labelled_and_never_framed(admin_portal):
    with _fresh(admin_portal) as stranger:
        page = stranger.get(SIGN_IN)
    assert page.status_code == 200 and "Đăng nhập trang quản trị" in page.text
    assert re.search(r'<label for="name">Tên tài khoản</label>', page.text)
    assert re.search(r'<label for="password">Mật khẩu</label>', page.text)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_password_hashed_with_older_parameters_is_rehashed_at_sign_in(portal, db):
    from argon2 import PasswordHasher

    from models.tables import StaffAccount

    add_staff(db.engine)
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash(ADMIN_AUTH[1])
    with Session(db.engine) as session:
        account = session.exec(select(StaffAccount)).one()
        account.password_hash = old
        session.add(account)
        session.commit()
    with running(portal.settings) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        assert sign_in(client).status_code == 303
    with Session(db.engine) as session:
        stored_hash = session.exec(select(StaffAccount.password_hash)).one()
    assert stored_hash != old and not PasswordHasher().check_needs_rehash(stored_hash)
    assert PasswordHasher().verify(stored_hash, ADMIN_AUTH[1])
