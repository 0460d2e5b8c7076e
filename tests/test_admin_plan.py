"""The secretariat's plan page: the plan in force, an edited file checked (errors with line and
field), previewed (what would change), applied (as `thidua plan load`); hostile files refused."""

import re
import time
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlmodel import Session, select

from calendars.publish import publish_all
from domain.plan_changes import plan_changes
from domain.plan_schema import DeadlineRule
from models.db import session_scope
from models.links import Links
from models.plan_file import read_plan
from models.tables import AuditEvent, Deadline, Unit, YearPlan
from tests.conftest import CSRF, EXAMPLE_PLAN, Clock, add_staff, running, same_site_client, sign_in
from tests.test_admin import stored
from tests.test_plan_hostile import alias_bomb

PAGE = "/quan-tri/ke-hoach"
SO_KET = "Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020"


def loaded_text(plan_text: str) -> str:
    """The plan the `portal` fixture loaded (so-ket owed by syt and bdt only)."""
    return plan_text.replace(
        "    date: 2020-06-20\n", "    date: 2020-06-20\n    owed_by: [syt, bdt]\n"
    )


def moved(plan_text: str) -> str:
    """That plan with so-ket due before 27/06 instead of 20/06 (last day 26/06, not 19/06)."""
    return (
        loaded_text(plan_text)
        .replace("    date: 2020-06-20\n", "    date: 2020-06-27\n")
        .replace("wording: trước ngày 20/6/2020", "wording: trước ngày 27/6/2020")
    )


def upload(client, text: str | bytes, name: str = "ke-hoach.yaml", **extra) -> httpx.Response:
    content = text.encode() if isinstance(text, str) else text
    data = {"csrf": client.csrf, **extra}
    return client.post(
        f"{PAGE}/2020/kiem-tra", data=data, files={"plan": (name, content, "application/yaml")}
    )


def apply_form(page: str) -> dict[str, str]:
    """The hidden fields of the apply form the preview shows."""
    form = page.split('action="/quan-tri/ke-hoach/2020/ap-dung"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))


def pending_files(db) -> list[str]:
    folder = db.data_dir / "plans" / "uploaded"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def so_ket_day(db) -> date:
    with Session(db.engine) as session:
        return session.exec(select(Deadline.due_on).where(Deadline.code == "so-ket")).one()


def feed_url(portal, db, code: str) -> str:
    """The unit's private feed address (its token issued, and kept, if it had none yet)."""
    with session_scope(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == code)).one()
        return Links("", portal.settings.signing_key()).unit_feed_url(session, unit_id)


def served_feed(client, url: str, containing: str) -> str:
    """The feed at `url` as the portal serves it, once it holds `containing` (the portal
    reloads the published feeds every `feed_refresh_seconds`)."""
    for _ in range(50):
        body = client.get(url).text
        if containing in body:
            break
        time.sleep(0.1)
    return body


def test_the_plan_page_shows_the_plan_in_force_and_its_file_round_trips(admin_portal, db):
    assert 'href="/quan-tri/ke-hoach"' in admin_portal.get("/quan-tri").text
    page = admin_portal.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert f"Hạn nộp: {SO_KET}" in text and "hạn cuối: hết ngày 19/06/2020" in text
    assert "Thứ Sáu, 19/06/2020" in text and "Trưởng khối: " in text
    assert "Nhắc trước hạn 7, 3, 1 ngày làm việc" in text
    assert "Ban Dân tộc tỉnh" in text and "Đơn vị thành viên (9)" in text
    download = admin_portal.get(f"{PAGE}/2020.yaml")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        'attachment; filename="ke-hoach-bg-vhxh-2020.yaml"'
    )
    before = stored(db.engine)
    again = upload(admin_portal, download.content)  # the downloaded file, unchanged
    assert again.status_code == 200 and "Tệp không làm kế hoạch thay đổi gì." in again.text
    assert "/ap-dung" not in again.text and stored(db.engine) == before


def test_a_plan_with_an_error_is_shown_with_line_and_field_and_nothing_changes(
    admin_portal, db, plan_text
):
    text = loaded_text(plan_text).replace("    date: 2020-06-20\n", "    date: 2020-02-30\n")
    line = text.splitlines().index("    date: 2020-02-30") + 1
    before = stored(db.engine)
    page = upload(admin_portal, text, "ke-hoach-sua.yaml")
    assert page.status_code == 422
    assert (
        f"Tệp ke-hoach-sua.yaml, dòng {line}, trường <code>deadlines[1].date</code>: "
        "ngày không có thật: 2020-02-30" in page.text
    )
    assert "/ap-dung" not in page.text
    assert stored(db.engine) == before and pending_files(db) == []


def test_a_good_edit_is_previewed_then_applied_and_the_database_and_feed_follow(
    admin_portal, portal, db, plan_text
):
    url = feed_url(portal, db, "syt")
    with session_scope(db.engine) as session:  # the feeds as the plan was put in force
        publish_all(session, as_of=datetime.now(UTC))
    assert "DTSTART;VALUE=DATE:20200619" in served_feed(admin_portal, url, "VEVENT")
    before = stored(db.engine)
    page = upload(admin_portal, moved(plan_text), "ke-hoach-moi.yaml")
    assert page.status_code == 200
    assert f"Hạn nộp “{SO_KET}”: hạn cuối 19/06/2020 → 26/06/2020" in page.text
    assert stored(db.engine) == before and so_ket_day(db) == date(2020, 6, 20)  # nothing yet
    form = apply_form(page.text)
    applied = admin_portal.post(f"{PAGE}/2020/ap-dung", data=form)
    assert applied.status_code == 200
    assert "Đã áp dụng ke-hoach-moi.yaml cho kế hoạch năm 2020" in applied.text
    assert so_ket_day(db) == date(2020, 6, 27) and "hết ngày 26/06/2020" in applied.text
    with Session(db.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "plan.updated")).one()
        assert (event.actor, event.details["file"]) == ("vanphong", "ke-hoach-moi.yaml")
        assert session.exec(select(YearPlan.content_sha256)).one() == form["digest"]
    feed = served_feed(admin_portal, url, "DTSTART;VALUE=DATE:20200626")
    assert "DTSTART;VALUE=DATE:20200626" in feed and "DTSTART;VALUE=DATE:20200619" not in feed
    assert pending_files(db) == []


def test_a_replayed_or_stale_apply_is_refused_and_changes_nothing(admin_portal, db, plan_text):
    first = apply_form(upload(admin_portal, moved(plan_text)).text)
    later = moved(plan_text).replace("date: 2020-06-27\n", "date: 2020-06-30\n")
    stale = apply_form(upload(admin_portal, later).text)  # previewed against the same plan
    assert admin_portal.post(f"{PAGE}/2020/ap-dung", data=first).status_code == 200
    before = stored(db.engine)
    for form in (first, stale):  # the same apply again; one previewed before it
        refused = admin_portal.post(f"{PAGE}/2020/ap-dung", data=form)
        assert refused.status_code == 409
        assert "Kế hoạch đang thực hiện đã thay đổi sau khi tệp này được kiểm tra" in refused.text
    forged = admin_portal.post(f"{PAGE}/2020/ap-dung", data={**stale, "digest": "../" * 20})
    assert forged.status_code == 409
    assert stored(db.engine) == before and so_ket_day(db) == date(2020, 6, 27)


def test_the_plan_forms_refuse_no_session_no_token_and_another_origin(
    admin_portal, portal, db, plan_text
):
    form = apply_form(upload(admin_portal, moved(plan_text)).text)
    before = stored(db.engine)
    base = str(admin_portal.base_url).rstrip("/")
    with same_site_client(base) as stranger:  # no session
        assert stranger.get(PAGE).headers["location"] == "/quan-tri/dang-nhap"
        assert stranger.get(f"{PAGE}/2020.yaml").status_code == 303
        assert stranger.post(f"{PAGE}/2020/ap-dung", data=form).status_code == 401
    no_token = {**form, "csrf": ""}
    assert admin_portal.post(f"{PAGE}/2020/ap-dung", data=no_token).status_code == 403
    assert upload(admin_portal, moved(plan_text), csrf="x").status_code == 403
    cross = admin_portal.post(
        f"{PAGE}/2020/ap-dung", data=form, headers={"Origin": "https://example.org"}
    )
    assert cross.status_code == 403 and "không được gửi từ trang quản trị" in cross.text
    assert stored(db.engine) == before and so_ket_day(db) == date(2020, 6, 20)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"year: 2020\n" + b"#" * 1_100_000 + b"\n", "tệp quá lớn (hơn 1 MB)"),
        (bytes(range(256)) * 40, "tệp không phải UTF-8"),
        (alias_bomb().encode(), "bí danh"),
        (EXAMPLE_PLAN.read_text(encoding="utf-8").encode("utf-16"), "tệp không phải UTF-8"),
        ("năm: 2020\n".encode("cp1258"), "tệp không phải UTF-8"),
        (b"", "tệp kế hoạch rỗng"),
    ],
    ids=["huge", "binary", "alias-bomb", "utf-16", "windows-1258", "empty"],
)
def test_a_hostile_plan_file_gets_a_vietnamese_error_and_stores_nothing(
    admin_portal, db, content, message
):
    before = stored(db.engine)
    page = upload(admin_portal, content)
    assert page.status_code == 422 and message in page.text, page.text[-3000:]
    assert "Traceback" not in page.text
    assert stored(db.engine) == before and pending_files(db) == []


def test_a_plan_of_another_year_is_refused(admin_portal, db, plan_text):
    other = loaded_text(plan_text).replace("year: 2020\n", "year: 2021\n").replace("2020-", "2021-")
    before = stored(db.engine)
    page = upload(admin_portal, other)
    assert page.status_code == 422
    assert "không phải kế hoạch đang thực hiện năm 2020" in page.text
    assert stored(db.engine) == before


def test_the_summary_lists_moved_meetings_and_units_and_items_added_or_removed():
    old = read_plan(EXAMPLE_PLAN).document
    meeting = old.meetings[0].model_copy(update={"before": None, "date": date(2020, 12, 30)})
    renamed = old.units[-1].model_copy(update={"code": "snn", "name": "Sở Nông nghiệp"})
    new = old.model_copy(
        update={
            "meetings": [meeting, *old.meetings[1:]],
            "deadlines": old.deadlines[1:],
            "units": [*old.units[:-1], renamed],
        }
    )
    changes = plan_changes(old, new)
    assert changes.moved == [  # held before 10/07 in the example plan
        f"Cuộc họp “{meeting.title}”: trước ngày 10/07/2020 → 30/12/2020"
    ]
    assert changes.added == ["Thêm đơn vị Sở Nông nghiệp"]
    assert changes.removed == [
        f"Bỏ hạn nộp “{old.deadlines[0].title}” (hạn cuối 04/03/2020)",
        f"Bỏ đơn vị {old.units[-1].name}",
    ]


def test_a_changed_deadline_rule_moves_every_last_day_in_the_summary():
    old = read_plan(EXAMPLE_PLAN).document  # "trước ngày D": the last day is D - 1
    new = old.model_copy(update={"deadline_rule": DeadlineRule.INCLUSIVE})  # D itself
    moved_lines = plan_changes(old, new).moved
    assert len(moved_lines) == len(old.deadlines)
    assert moved_lines[0] == f"Hạn nộp “{old.deadlines[0].title}”: hạn cuối 04/03/2020 → 05/03/2020"


def test_an_applied_plan_runs_the_apps_plan_change_hook_once(portal, db, plan_text):
    """`thidua serve` passes the Prefect schedule sync as the hook; a refused apply skips it."""
    add_staff(db.engine)
    engines = []
    with running(portal.settings, Clock(), on_plan_change=engines.append) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        assert sign_in(client).status_code == 303
        (client.csrf,) = set(CSRF.findall(client.get(PAGE).text))
        form = apply_form(upload(client, moved(plan_text)).text)
        assert client.post(f"{PAGE}/2020/ap-dung", data=form).status_code == 200
        assert client.post(f"{PAGE}/2020/ap-dung", data=form).status_code == 409
    assert [engine.url.database for engine in engines] == [db.engine.url.database]


def test_a_last_day_on_a_day_off_is_previewed_with_its_warning_and_a_missing_file_is_asked_for(
    admin_portal, db, plan_text
):
    sunday = loaded_text(plan_text).replace("    date: 2020-06-20\n", "    date: 2020-06-22\n")
    line = sunday.splitlines().index("    date: 2020-06-22") + 1
    page = upload(admin_portal, sunday)  # "trước ngày 22/06": the last day is Sunday 21/06
    assert page.status_code == 200 and "Cần lưu ý" in page.text
    assert (
        f"Dòng {line}, trường <code>deadlines[1].date</code>: hạn cuối nộp Chủ nhật, 21/06/2020 "
        "là ngày nghỉ; ngày làm việc liền trước: Thứ Sáu, 19/06/2020" in page.text
    )
    before = stored(db.engine)
    missing = upload(admin_portal, b"", name="")  # the form sent with no file chosen
    assert missing.status_code == 422 and "Hãy chọn một tệp kế hoạch (.yaml)." in missing.text
    assert stored(db.engine) == before
