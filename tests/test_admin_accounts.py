"""Staff accounts from the command line: `thidua admin list` and `thidua admin remove` (the
account signs in no more, its open sessions end at once, its audit history stays readable),
and the warning about the retired HTTP Basic settings."""

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from models.tables import AuditEvent, StaffAccount
from tests.conftest import add_staff, free_port, same_site_client, sign_in

VERIFY = {"unit": "syt", "item": "I.1", "value": "30", "reason": "Đủ hồ sơ"}


def test_a_removed_accounts_live_session_is_refused_at_once_and_it_cannot_sign_in(admin_portal, db):
    ran = db.cli("admin", "remove", "vanphong")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "Đã gỡ tài khoản vanphong; đã kết thúc 1 phiên đăng nhập."
    assert admin_portal.get("/quan-tri").status_code == 303  # to the sign-in form
    refused = admin_portal.post(
        "/quan-tri/tham-dinh/2020", data={**VERIFY, "csrf": admin_portal.csrf}
    )
    assert refused.status_code == 401
    assert sign_in(admin_portal).status_code == 401
    with Session(db.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "staff.removed"))
        account = session.exec(select(StaffAccount).where(StaffAccount.name == "vanphong")).one()
    assert (event.key, event.details) == ("vanphong", {"sessions_ended": 1})
    assert account.removed_at is not None  # kept: the audit log still names it


def test_a_removed_accounts_history_stays_in_the_audit_page(admin_portal, db):
    verified = admin_portal.post(
        "/quan-tri/tham-dinh/2020", data={**VERIFY, "csrf": admin_portal.csrf}
    )
    assert verified.status_code == 200
    assert db.cli("admin", "remove", "vanphong").returncode == 0
    add_staff(db.engine, "truong-phong", "mot-mat-khau-du-dai")
    with same_site_client(admin_portal.base_url) as other:
        assert sign_in(other, "truong-phong", "mot-mat-khau-du-dai").status_code == 303
        page = other.get("/quan-tri/nhat-ky", params={"tai_khoan": "vanphong"}).text
        everyone = other.get("/quan-tri/nhat-ky").text
    assert "2 thao tác của tài khoản vanphong" in page
    assert "thẩm định điểm</strong>: Sở Y tế, tiêu chí I.1" in page
    assert "đăng nhập</strong>: tài khoản vanphong" in page
    assert "gỡ tài khoản quản trị</strong>: tài khoản vanphong" in everyone


def test_admin_list_shows_each_account_its_last_sign_in_and_whether_removed(admin_portal, db):
    assert db.cli("admin", "add", "ke-toan", input="mot-mat-khau-du-dai\n").returncode == 0
    assert db.cli("admin", "remove", "ke-toan").returncode == 0
    ran = db.cli("admin", "list")
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    ke_toan, vanphong = ran.stdout.splitlines()
    assert ke_toan.startswith("ke-toan ") and "chưa đăng nhập" in ke_toan and "đã gỡ" in ke_toan
    assert vanphong.startswith("vanphong") and "đang dùng" in vanphong
    assert "đăng nhập gần nhất: " in vanphong and "chưa đăng nhập" not in vanphong


def test_remove_refuses_an_unknown_or_removed_account_in_one_line(portal, db):
    add_staff(db.engine, "ke-toan", "mot-mat-khau-du-dai")
    assert db.cli("admin", "remove", "ke-toan").returncode == 0
    for args, typed, error in [
        (["remove", "khong-co"], None, "không có tài khoản “khong-co”"),
        (["remove", "ke-toan"], None, "tài khoản “ke-toan” đã bị gỡ"),
        (["password", "ke-toan"], "mot-mat-khau-khac-nua\n", "tài khoản “ke-toan” đã bị gỡ"),
        (["add", "ke-toan"], "mot-mat-khau-khac-nua\n", "tài khoản “ke-toan” đã bị gỡ"),
    ]:
        failed = db.cli("admin", *args, input=typed)
        assert failed.returncode == 1 and len(failed.stderr.splitlines()) == 1, failed.stderr
        assert failed.stderr.startswith(f"Lỗi: {error}"), failed.stderr
    with same_site_client(portal.base_url) as client:
        assert sign_in(client, "ke-toan", "mot-mat-khau-du-dai").status_code == 401


def test_admin_list_with_no_account_says_how_to_make_one(db):
    ran = db.cli("admin", "list")
    assert ran.stdout.strip() == "Chưa có tài khoản nào: tạo bằng `thidua admin add TÊN`."


WARNING = "Cảnh báo: THIDUA_ADMIN_USER / THIDUA_ADMIN_PASSWORD"


def test_admin_list_warns_when_the_retired_basic_settings_are_set(db):
    assert WARNING not in db.cli("admin", "list").stderr
    for name in ("THIDUA_ADMIN_USER", "THIDUA_ADMIN_PASSWORD"):
        db.env[name] = "cu"
        ran = db.cli("admin", "list")
        del db.env[name]
        assert ran.returncode == 0 and WARNING in ran.stderr
        assert "`thidua admin add TÊN`" in ran.stderr


def test_serve_warns_at_start_when_the_retired_basic_setting_is_set(db):
    env = {**os.environ, **db.env, "THIDUA_ADMIN_USER": "admin"}
    command = [str(Path(sys.executable).parent / "thidua"), "serve", "--port", str(free_port())]
    seen = ""
    with (
        subprocess.Popen(
            command, env=env, cwd=db.data_dir, stderr=subprocess.PIPE, text=True
        ) as server,
        selectors.DefaultSelector() as selector,
    ):
        try:
            selector.register(server.stderr, selectors.EVENT_READ)
            limit = time.monotonic() + 30
            while WARNING not in seen and time.monotonic() < limit:
                if selector.select(timeout=1):
                    seen += server.stderr.readline()
        finally:
            server.terminate()
    assert WARNING in seen and "`thidua admin add TÊN`" in seen
