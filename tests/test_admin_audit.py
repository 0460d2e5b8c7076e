"""The workspace's audit page (/quan-tri/nhat-ky): newest first, paged, filtered by unit and by
account, actions and details in Vietnamese, nothing secret; and every action the code records
has a Vietnamese name."""

import ast
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from domain.audit import ACTION_NAMES
from models.tables import AuditEvent, Unit, YearPlan
from tests.conftest import ROOT
from tests.test_admin_overview import _add_units

LOG = "/quan-tri/nhat-ky"


def _record(db, **fields) -> None:
    with Session(db.engine) as session:
        plan_id = session.exec(select(YearPlan.id)).one()
        values = {"actor": "vanphong", "entity": "Unit", "key": "syt", "plan_id": plan_id}
        session.add(AuditEvent(**{**values, **fields}))
        session.commit()


def _entries(page: str) -> list[str]:
    """The page's events, each as its text without tags, in the page's order."""
    body = page.split('<ol class="audit">', 1)[1].split("</ol>", 1)[0]
    items = [re.sub(r"</?(div|ul|li)[^>]*>", " ", item) for item in body.split("<li>\n")[1:]]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def _unit_id(db, code: str) -> int:
    with Session(db.engine) as session:
        return session.exec(select(Unit.id).where(Unit.code == code)).one()


def test_the_log_shows_the_forms_changes_newest_first_in_vietnamese_with_local_times(
    admin_portal, db
):
    csrf = admin_portal.csrf
    extend = {"unit": "syt", "deadline": "dang-ky", "until": "2020-03-11", "reason": "Dịch bệnh"}
    assert admin_portal.post("/quan-tri/gia-han/2020", data={**extend, "csrf": csrf}).is_success
    admin_portal.clock.advance(60)
    pause = {"unit": "bdt", "from": "2020-03-02", "to": "2020-03-06", "reason": "Nghỉ bù"}
    assert admin_portal.post("/quan-tri/tam-dung/2020", data={**pause, "csrf": csrf}).is_success
    # 17:30 UTC is 00:30 the next day in Vietnam
    _record(db, at=datetime(2020, 3, 4, 17, 30, tzinfo=UTC), actor="an", action="portal.rotated")

    page = admin_portal.get(LOG)
    assert page.status_code == 200 and "Nhật ký thao tác" in page.text
    entries = _entries(page.text)
    paused, extended = entries[0], entries[1]
    assert paused.startswith("tạm dừng nhắc hạn: Ban Dân tộc tỉnh")
    assert "Từ ngày: 02/03/2020" in paused and "Đến hết ngày: 06/03/2020" in paused
    assert extended.startswith("gia hạn: Sở Y tế, Gửi đăng ký danh hiệu thi đua năm 2020")
    assert "Gia hạn đến hết ngày: 11/03/2020" in extended and "Lý do: Dịch bệnh" in extended
    assert re.search(r"\d\d:\d\d \d\d/\d\d/\d{4} · vanphong", extended), extended
    assert "cấp lại đường dẫn nộp hồ sơ: Sở Y tế 00:30 05/03/2020 · an" in entries
    assert ">extend<" not in page.text and "2020-03-11" not in page.text


def test_the_log_never_shows_a_token_or_a_password_hash(admin_portal, db):
    _record(
        db,
        action="staff.password_set",
        entity="StaffAccount",
        key="vanphong",
        details={
            "token": "bi-mat-cua-phien-1234",
            "password_hash": "$argon2id$v=19$m=65536$bi-mat",
            "nested": {"csrf": "ma-csrf-bi-mat", "note": "ghi chú thường"},
            "reason": "Quên mật khẩu",
        },
    )
    page = admin_portal.get(LOG).text
    (entry,) = [e for e in _entries(page) if e.startswith("đặt mật khẩu mới: tài khoản vanphong")]
    assert "Lý do: Quên mật khẩu" in entry and "note: ghi chú thường" in entry
    for secret in ("bi-mat-cua-phien", "argon2", "ma-csrf-bi-mat"):
        assert secret not in page


def test_the_log_filters_by_unit_and_by_account(admin_portal, db):
    _record(db, action="submission.accepted", entity="Submission", key="dang-ky/syt/v1")
    _record(db, action="verify_score", entity="score", key="syt:I.1", actor="binh")
    _record(db, action="extend", entity="Deadline", key="dang-ky/bdt", actor="binh")
    _record(db, action="calendar.rotated", entity="Unit", key="syt_x")  # not syt
    _record(db, action="pause", entity="ReminderPause", key="*")  # the whole bloc

    syt = _entries(admin_portal.get(LOG, params={"don_vi": _unit_id(db, "syt")}).text)
    assert [e.split(":")[0] for e in syt] == ["thẩm định điểm", "nhận hồ sơ"]
    binh = _entries(admin_portal.get(LOG, params={"tai_khoan": "binh"}).text)
    assert [e.split(":")[0] for e in binh] == ["gia hạn", "thẩm định điểm"]
    both = admin_portal.get(LOG, params={"don_vi": _unit_id(db, "bdt"), "tai_khoan": "binh"})
    assert [e.split(":")[0] for e in _entries(both.text)] == ["gia hạn"]
    assert "1 thao tác về Ban Dân tộc tỉnh của tài khoản binh" in both.text
    nobody = admin_portal.get(LOG, params={"don_vi": "abc", "tai_khoan": "khong-ai", "trang": "x"})
    assert nobody.status_code == 200 and "Không có thao tác nào." in nobody.text


def test_the_log_is_paged_fifty_at_a_time_newest_first(admin_portal, db):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with Session(db.engine) as session:
        session.exec(delete(AuditEvent))  # the plan's load, the sign-in: only these 120
        for number in range(120):
            session.add(
                AuditEvent(
                    at=start + timedelta(minutes=number),
                    actor=f"nguoi-{number:03}",
                    action="staff.signed_out",
                    entity="StaffAccount",
                    key=f"nguoi-{number:03}",
                )
            )
        session.commit()
    filtered = {"tai_khoan": "nguoi-000"}
    assert len(_entries(admin_portal.get(LOG, params=filtered).text)) == 1

    def actors(page: str) -> list[str]:
        return re.findall(r"· (nguoi-\d+)", page)

    first = admin_portal.get(LOG).text
    assert actors(first) == [f"nguoi-{n:03}" for n in range(119, 69, -1)]
    assert "trang 1/3" in first and "Trang sau" in first and "Trang trước" not in first
    last = admin_portal.get(LOG, params={"trang": "3"}).text
    assert actors(last) == [f"nguoi-{n:03}" for n in range(19, -1, -1)] and "Trang trước" in last
    assert admin_portal.get(LOG, params={"trang": "999"}).text == last.replace("\r", "")


def test_the_log_needs_a_session_and_is_linked_from_the_workspace(portal, admin_portal):
    anonymous = httpx.get(str(portal.base_url).rstrip("/") + LOG, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/quan-tri/dang-nhap"
    assert f'href="{LOG}"' in admin_portal.get("/quan-tri").text


def _page_queries(client, params: dict) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        assert client.get(LOG, params=params).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    refresh = ("feed", "accesstoken", "begin")
    return len([t for t in statements if not any(word in t.lower() for word in refresh)])


def test_the_log_takes_as_many_queries_for_300_units_as_for_9(admin_portal, db):
    for number in range(60):
        _record(db, action="verify_score", entity="score", key=f"syt:I.{number}")
    params = {"don_vi": _unit_id(db, "syt")}
    _page_queries(admin_portal, params)
    few = _page_queries(admin_portal, params)
    _add_units(db, 291)
    assert 0 < _page_queries(admin_portal, params) == few


def _recorded_actions() -> set[str]:
    """Every action string the code writes into the audit log: `action=` with a literal (or a
    choice of literals), and the one built from a purpose (`{purpose}.rotated`)."""
    found = set()
    for path in [*ROOT.glob("*/*.py")]:
        if path.parts[-2] in ("tests", ".venv", "bench") or path.name.startswith("test_"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "action":
                values = [node.value]
                if isinstance(node.value, ast.IfExp):
                    values = [node.value.body, node.value.orelse]
                for value in values:
                    if isinstance(value, ast.Name):  # passed on: its callers give the literal
                        continue
                    if isinstance(value, ast.Constant):
                        found.add(value.value)
                    elif ast.unparse(value) == "f'{purpose}.rotated'":  # calendar | portal
                        found.update({"calendar.rotated", "portal.rotated"})
                    else:
                        found.add(ast.unparse(value))  # unknown: named nowhere, so it fails
    return found


def test_every_action_the_code_records_has_a_vietnamese_name():
    recorded = _recorded_actions()
    assert {"extend", "pause", "staff.signed_in", "plan.activated"} <= recorded
    assert recorded - ACTION_NAMES.keys() == set()
