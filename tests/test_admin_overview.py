"""The secretariat's overview: deadlines by title and last day, coloured states with the newest
version and when it came, the late and missing filters, the Excel export, and a fixed number
of queries whatever the number of units."""

import io
import re
from datetime import UTC, datetime

import httpx
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.dates import fmt_date, last_day
from models.overview import overview
from models.tables import Deadline, Membership, Obligation, Unit, YearPlan

AS_OF = datetime(2020, 3, 10, 3, tzinfo=UTC)  # after the registration deadline, before the rest


def _record(admin_portal, unit: str, received_at: str) -> None:
    form = {
        "unit": unit,
        "deadline": "dang-ky",
        "received_at": received_at,
        "channel": "paper",
        "csrf": admin_portal.csrf,
    }
    assert admin_portal.post("/quan-tri/ghi-nhan/2020", data=form).status_code == 200


def _row(page: str, unit: str) -> str:
    return page.split(f">{unit}</a></th>", 1)[1].split("</tr>", 1)[0]


def _units_shown(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(
        r'<th scope="row"><a href="/quan-tri/don-vi/2020/[^"]+">([^<]+)</a></th>', body
    )


def _recorded(admin_portal) -> None:
    admin_portal.clock.at = AS_OF
    _record(admin_portal, "syt", "2020-03-01T09:00")
    _record(admin_portal, "syt", "2020-03-02T09:00")  # a second version, still on time
    _record(admin_portal, "bdt", "2020-03-06T14:30")  # after the deadline


def test_the_overview_shows_titles_last_days_coloured_states_and_versions(admin_portal, db):
    _recorded(admin_portal)
    page = admin_portal.get("/quan-tri").text
    with Session(db.engine) as session:
        deadlines = session.exec(select(Deadline).order_by(Deadline.due_at)).all()
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    for deadline in deadlines:
        assert f"{deadline.title}<br>" in head
        assert f"Hạn cuối {fmt_date(last_day(deadline.due_at))}" in head
        assert f">{deadline.code}<" not in head
    syt, bdt = _row(page, "Sở Y tế"), _row(page, "Ban Dân tộc tỉnh")
    assert (
        '<span class="state s-done">Đã nộp</span><br><span class="muted">lần 2, 09:00 02/03/2020'
        in syt
    )
    assert (
        '<span class="state s-late">Nộp muộn</span><br><span class="muted">lần 1, 14:30 06/03/2020'
        in bdt
    )
    assert '<span class="state s-pending">Chưa nộp</span>' in syt  # the later deadlines
    other = _row(page, "Sở Văn hóa, Thể thao và Du lịch")
    assert other.count('<span class="state s-overdue">Quá hạn</span>') == 1
    assert '<span class="muted" title="Không phải nộp">—</span>' in other  # so-ket: syt, bdt only
    admin_portal.clock.at = datetime(2020, 3, 1, 5, tzinfo=UTC)  # 12:00 on 01/03: before v2
    earlier = admin_portal.get("/quan-tri").text
    assert "lần 1, 09:00 01/03/2020" in _row(earlier, "Sở Y tế")
    assert '<span class="state s-pending">Chưa nộp</span>' in _row(earlier, "Ban Dân tộc tỉnh")


def test_the_filters_keep_the_late_or_the_missing_units(admin_portal, db):
    _recorded(admin_portal)
    every = _units_shown(admin_portal.get("/quan-tri").text)
    late = _units_shown(admin_portal.get("/quan-tri?loc=tre").text)
    missing = _units_shown(admin_portal.get("/quan-tri?loc=thieu").text)
    assert len(every) == 9 and "Sở Y tế" in every
    assert "Sở Y tế" not in late and "Ban Dân tộc tỉnh" in late and len(late) == 8
    assert set(missing) == set(every)  # every unit still owes a later deadline
    admin_portal.clock.at = datetime(2020, 12, 31, tzinfo=UTC)
    assert set(_units_shown(admin_portal.get("/quan-tri?loc=tre").text)) == set(every)
    page = admin_portal.get("/quan-tri?loc=khong-co")  # an unknown filter shows everyone
    assert page.status_code == 200 and len(_units_shown(page.text)) == 9


def test_the_overview_downloads_as_excel_with_the_pages_filter(admin_portal, db):
    _recorded(admin_portal)
    download = admin_portal.get("/quan-tri/tong-quan/2020.xlsx?loc=tre")
    assert download.status_code == 200
    assert 'filename="tinh-hinh-nop-ho-so-2020.xlsx"' in download.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert "(nộp muộn hoặc quá hạn)" in sheet["A1"].value
    header = [cell.value for cell in sheet[3]]
    assert header[0] == "Đơn vị"
    assert header[1] == "Gửi đăng ký danh hiệu thi đua năm 2020 (hạn cuối 04/03/2020)"
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=4)}
    assert len(rows) == 8 and "Sở Y tế" not in rows
    late = rows["Ban Dân tộc tỉnh"][1]
    assert late.value == "Nộp muộn – lần 1, 14:30 06/03/2020"
    assert late.fill.fgColor.rgb.endswith("FFF3D6")
    assert admin_portal.get("/quan-tri/tong-quan/2019.xlsx").status_code == 404
    with httpx.Client(base_url=admin_portal.base_url) as stranger:
        assert stranger.get("/quan-tri/tong-quan/2020.xlsx").status_code == 303


def _add_units(db, count: int) -> None:
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        bloc_id = session.exec(select(Unit.bloc_id)).first()
        deadlines = session.exec(select(Deadline.id)).all()
        for number in range(count):
            unit = Unit(bloc_id=bloc_id, code=f"them-{number}", name=f"Đơn vị thêm {number}")
            session.add(unit)
            session.flush()
            session.add(Membership(plan_id=plan.id, unit_id=unit.id))
            session.add_all(Obligation(deadline_id=d, unit_id=unit.id) for d in deadlines)
        session.commit()


def _queries(db) -> tuple[int, int]:
    """(statements, rows) the overview of the plan takes, as of `AS_OF`."""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with Session(db.engine) as session:
            plan = session.exec(select(YearPlan)).one()
            rows = len(overview(session, plan=plan, as_of=AS_OF).rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements), rows


def test_the_overview_takes_as_many_queries_for_300_units_as_for_9(portal, db):
    few, nine = _queries(db)
    _add_units(db, 291)
    many, three_hundred = _queries(db)
    assert (nine, three_hundred) == (9, 300)
    assert many == few <= 12


def _page_queries(client) -> int:
    """The statements the server runs to answer GET /quan-tri (every engine of this process)."""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        assert client.get("/quan-tri").status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    # The server's feed cache refreshes itself every few seconds in another thread (its own
    # transaction and queries); what is left is the page's queries.
    refresh = ("feed", "accesstoken", "begin")
    return len([t for t in statements if not any(word in t.lower() for word in refresh)])


def test_the_workspace_page_takes_as_many_queries_for_300_units_as_for_9(admin_portal, db):
    _page_queries(admin_portal)  # the first answer warms the server's caches
    few = _page_queries(admin_portal)
    _add_units(db, 291)
    many = _page_queries(admin_portal)
    assert 0 < many == few, (few, many)
