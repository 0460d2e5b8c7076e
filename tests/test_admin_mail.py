"""The secretariat's mail page (/quan-tri/thu/YEAR): the outbox with its filters, resending one
email, and a letter to all units or some, previewed then sent by the normal sender to a real
SMTP server (aiosmtpd). Signed in, on both databases."""

import asyncio
import email
import html
import re
import time
from datetime import UTC, datetime, timedelta
from email.policy import default

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from models.tables import AuditEvent, Contact, OutboxMessage, Unit, YearPlan
from notifications.mailer import send_outbox
from tests.conftest import ROOT, Clock, add_staff, running, same_site_client, sign_in
from tests.test_admin import stored
from tests.test_admin_overview import _add_units

MAIL = "/quan-tri/thu/2020"
CODE = re.compile(r'name="code" value="([^"]+)"')
EML = ROOT / "build" / "mail"


@pytest.fixture
def mail_portal(portal, db, smtp_server):
    """The portal signed in, its settings sending to the real SMTP server `.smtp`."""
    add_staff(db.engine)
    settings = portal.settings.model_copy(update={"smtp_url": smtp_server.url + "?timeout=5"})
    with running(settings, Clock()) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        assert sign_in(client).status_code == 303
        client.csrf = re.findall(r'name="csrf" value="([^"]+)"', client.get(MAIL).text)[0]
        client.settings = settings
        client.smtp = smtp_server.handler
        yield client


def _ids(db) -> tuple[int, dict[str, int]]:
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        return plan.id, {u.code: u.id for u in session.exec(select(Unit)).all()}


def _add(db, **fields) -> int:
    """One outbox row as the flows leave it (sent, failed, pending), with what `fields` says."""
    plan_id, _ = _ids(db)
    n = fields.pop("n")
    row = OutboxMessage(
        key=f"test:{n}",
        plan_id=plan_id,
        message_id=f"<test-{n}@thidua.example>",
        text="Nội dung thư\n",
        **fields,
    )
    with Session(db.engine) as session:
        session.add(row)
        session.commit()
        return row.id


def _rows(page: str) -> list[str]:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]


def _settled(db, seconds: float = 30) -> list[OutboxMessage]:
    """The outbox once the background sender has nothing pending or being sent."""
    limit = time.monotonic() + seconds
    while True:
        with Session(db.engine) as session:
            rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        if all(r.status not in ("pending", "sending") for r in rows):
            return list(rows)
        assert time.monotonic() < limit, [(r.key, r.status, r.last_error) for r in rows]
        time.sleep(0.1)


def _audit(db, action: str) -> list[AuditEvent]:
    with Session(db.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _received(client) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=default) for raw in client.smtp.accepted]


def test_the_outbox_lists_the_plans_emails_newest_first_with_filters_and_the_failure_reason(
    mail_portal, db
):
    _, units = _ids(db)
    march = datetime(2020, 3, 5, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội
    _add(
        db,
        n=1,
        unit_id=units["bdt"],
        stage="receipt",
        recipient="vanphong.bdt@x.example",
        subject="Đã nhận hồ sơ",
        status="sent",
        created_at=march,
        sent_at=march,
    )
    _add(
        db,
        n=2,
        unit_id=units["syt"],
        stage="overdue-1",
        recipient="vanphong.syt@x.example",
        subject="Quá hạn đăng ký",
        status="failed",
        created_at=march + timedelta(hours=1),
        last_error="550 5.1.1 <vanphong.syt@x.example>: Recipient address rejected",
    )
    _add(db, n=3, unit_id=units["syt"], stage="due-today", recipient="vanphong.syt@x.example",
         subject="Hôm nay là hạn", status="pending", created_at=march + timedelta(hours=2),
         not_before=march + timedelta(days=3650))  # fmt: skip
    page = mail_portal.get(MAIL).text
    first, second, third = _rows(page)
    assert "Hôm nay là hạn" in first and "Quá hạn đăng ký" in second and "Đã nhận hồ sơ" in third
    assert "09:30 05/03/2020" in third and "Ban Dân tộc tỉnh" in third and "Đã gửi" in third
    assert "Lý do: 550 5.1.1" in second and "Không gửi được" in second and "Sở Y tế" in second
    assert "Quá hạn lần 1" in page and "Xác nhận đã nhận hồ sơ" in page  # kinds by their names
    assert "Gửi lại" in second and "Gửi lại" in third and "Gửi lại" not in first

    def subjects(**query) -> list[str]:
        rows = _rows(mail_portal.get(MAIL, params=query).text)
        return [
            s
            for s in ("Hôm nay là hạn", "Quá hạn đăng ký", "Đã nhận hồ sơ")
            for r in rows
            if s in r
        ]

    assert subjects(trang_thai="loi") == ["Quá hạn đăng ký"]
    assert subjects(trang_thai="cho-gui") == ["Hôm nay là hạn"]
    assert subjects(trang_thai="da-gui") == ["Đã nhận hồ sơ"]
    assert subjects(loai="receipt") == ["Đã nhận hồ sơ"]
    assert subjects(don_vi="syt") == ["Hôm nay là hạn", "Quá hạn đăng ký"]
    assert subjects(don_vi="syt", trang_thai="da-gui") == []
    assert (
        "Không có thư nào."
        in mail_portal.get(MAIL, params={"don_vi": "bdt", "loai": "ballot"}).text
    )


def test_the_outbox_is_shown_fifty_emails_a_page(mail_portal, db):
    plan_id, units = _ids(db)
    start = datetime(2020, 4, 1, tzinfo=UTC)
    rows = [
        OutboxMessage(key=f"k{i}", plan_id=plan_id, unit_id=units["syt"], stage="digest",
                      recipient="a@x.example", subject=f"Thư số {i:03d}", text="-",
                      message_id=f"<m{i}@x>", status="sent", created_at=start + timedelta(minutes=i))
        for i in range(120)
    ]  # fmt: skip
    with Session(db.engine) as session:
        session.add_all(rows)
        session.commit()
    first = mail_portal.get(MAIL).text
    assert len(_rows(first)) == 50 and "Thư số 119" in first and "Thư số 069" not in first
    assert "120 thư, trang 1/3" in first and "trang=2" in first
    last = mail_portal.get(MAIL, params={"trang": 3}).text
    assert len(_rows(last)) == 20 and "Thư số 019" in last and "Thư số 020" not in last


def test_a_failed_email_is_resent_once_through_the_outbox_to_the_smtp_server(mail_portal, db):
    _, units = _ids(db)
    failed = _add(db, n=1, unit_id=units["syt"], stage="overdue-1", status="failed",
                  recipient="vanphong.syt@x.example", subject="Quá hạn đăng ký thi đua",
                  last_error="451 hộp thư đầy", created_at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    form = {"csrf": mail_portal.csrf}
    answers = [mail_portal.post(f"{MAIL}/gui-lai/{failed}", data=form) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "Đã đưa thư vào hàng gửi lại" in answers[0].text
    assert all("đã được gửi lại trước đó" in a.text for a in answers[1:])
    rows = _settled(db)
    asyncio.run(send_outbox(db.engine, mail_portal.settings))  # a later mail run: nothing left
    (message,) = _received(mail_portal)
    assert message["To"] == "vanphong.syt@x.example"
    assert message["Subject"] == "Quá hạn đăng ký thi đua"
    assert [r.status for r in rows] == ["failed", "sent"] and rows[1].key == f"resend:{failed}"
    (event,) = _audit(db, "resend")
    assert event.actor == "vanphong" and event.details["message"] == failed
    page = mail_portal.get(MAIL).text
    copy, original = _rows(page)
    assert "Đã gửi lại" in original and "Gửi lại</button>" not in original
    assert "Gửi lại</button>" in copy  # the copy can be resent in its turn

    pending = _add(db, n=2, unit_id=units["bdt"], stage="digest", status="pending",
                   recipient="b@x.example", subject="Chờ", created_at=datetime.now(UTC),
                   not_before=datetime.now(UTC) + timedelta(days=1))  # fmt: skip
    before = stored(db.engine)
    for target in (pending, 999_999):
        refused = mail_portal.post(f"{MAIL}/gui-lai/{target}", data=form)
        assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "đang chờ gửi" in mail_portal.post(f"{MAIL}/gui-lai/{pending}", data=form).text
    assert stored(db.engine) == before


def _letter(**extra) -> dict[str, str]:
    return {
        "to": "some",
        "u:syt": "1",
        "u:sgddt": "1",
        "title": "Giấy mời họp giao ban 6 tháng",
        "body": "Văn phòng Khối trân trọng kính mời đại diện lãnh đạo đơn vị dự họp\n"
        "lúc 08:00 ngày 10/07/2020 tại Hội trường Sở Thông tin và Truyền thông.\n\n"
        "Đề nghị đơn vị xác nhận thành phần tham dự trước ngày 08/07/2020 & <mang theo> báo cáo.",
        **extra,
    }


def test_a_letter_to_chosen_units_is_previewed_then_sent_once_to_their_focal_points(
    mail_portal, db
):
    everyone = mail_portal.post(
        f"{MAIL}/xem-truoc", data={**_letter(), "to": "all", "csrf": mail_portal.csrf}
    )
    assert (
        everyone.status_code == 200
        and "Gửi đến 9 đơn vị (10 địa chỉ email đầu mối)" in everyone.text
    )
    form = {**_letter(), "csrf": mail_portal.csrf}
    shown = mail_portal.post(f"{MAIL}/xem-truoc", data=form)
    assert shown.status_code == 200 and "Gửi đến 2 đơn vị (3 địa chỉ email đầu mối)" in shown.text
    assert "[Thi đua 2020] Giấy mời họp giao ban 6 tháng" in shown.text
    assert "Kính gửi: Sở Giáo dục và Đào tạo" in shown.text
    assert "&amp; &lt;mang theo&gt;" in shown.text  # the clerk's text, escaped
    assert _settled(db) == [] and mail_portal.smtp.accepted == []  # a preview sends nothing
    (code,) = CODE.findall(shown.text)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', shown.text)
    hidden = {name: html.unescape(value) for name, value in fields}  # as a browser reads them
    assert hidden["code"] == code and hidden["to"] == "some"
    sent = [mail_portal.post(f"{MAIL}/gui", data=hidden) for _ in range(2)]  # and a replay
    assert sent[0].status_code == 200 and "Đã đưa 3 thư vào hàng gửi" in sent[0].text
    assert "đã được đưa vào hàng gửi trước đó" in sent[1].text
    rows = _settled(db)
    asyncio.run(send_outbox(db.engine, mail_portal.settings))
    assert [r.status for r in rows] == ["sent"] * 3 and {r.stage for r in rows} == {"letter"}
    received = {m["To"]: m for m in _received(mail_portal)}
    assert sorted(received) == [
        "thiduakhenthuong.sgddt@bacgiang.gov.vn.example",
        "vanphong.sgddt@bacgiang.gov.vn.example",
        "vanphong.syt@bacgiang.gov.vn.example",
    ]
    message = received["vanphong.syt@bacgiang.gov.vn.example"]
    assert message["Subject"] == "[Thi đua 2020] Giấy mời họp giao ban 6 tháng"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Kính gửi: Sở Y tế\n\nVăn phòng Khối trân trọng kính mời")
    assert "dự họp\nlúc 08:00 ngày 10/07/2020" in text and "& <mang theo> báo cáo." in text
    assert "Trân trọng./." in text and "Khối thi đua" in text
    rich = message.get_body(("html",)).get_content()
    assert "<strong>Kính gửi: Sở Y tế</strong>" in rich and "&amp; &lt;mang theo&gt;" in rich
    EML.mkdir(parents=True, exist_ok=True)
    (EML / f"thu-moi-hop-{db.engine.dialect.name}.eml").write_bytes(message.as_bytes())
    (event,) = _audit(db, "letter")
    assert event.actor == "vanphong" and event.details["units"] == ["sgddt", "syt"]
    page = mail_portal.get(MAIL, params={"loai": "letter"}).text
    assert len(_rows(page)) == 3 and "Thư của Văn phòng khối" in page


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"title": "  "}, "Tiêu đề: hãy nhập tiêu đề thư."),
        ({"title": "x" * 201}, "Tiêu đề: dài quá 200 ký tự (đang có 201)."),
        ({"body": ""}, "Nội dung: hãy nhập nội dung thư."),
        ({"body": "ư" * 10_001}, "Nội dung: dài quá 10.000 ký tự (đang có 10.001)."),
        ({"u:syt": "", "u:sgddt": ""}, "Gửi đến: hãy chọn “Mọi đơn vị” hoặc đánh dấu ít nhất"),
        ({"to": ""}, "Gửi đến: hãy chọn “Mọi đơn vị” hoặc đánh dấu ít nhất"),
        ({"code": "ngắn"}, "Biểu mẫu thiếu mã lần gửi"),
    ],
)
def test_a_letter_without_subject_with_a_too_long_body_or_no_unit_is_refused_and_stores_nothing(
    mail_portal, db, change, error
):
    before = stored(db.engine)
    form = {**_letter(), "code": "a" * 22, "csrf": mail_portal.csrf, **change}
    for step in ("xem-truoc", "gui") if "code" not in change else ("gui",):
        refused = mail_portal.post(f"{MAIL}/{step}", data=form)
        assert refused.status_code == 422 and error in refused.text, step
        assert 'id="letter-title"' in refused.text  # the form again, to correct
    assert stored(db.engine) == before and mail_portal.smtp.accepted == []


def test_the_mail_page_and_its_forms_refuse_no_session_no_token_and_another_site(mail_portal, db):
    _, units = _ids(db)
    failed = _add(db, n=1, unit_id=units["syt"], stage="overdue-1", status="failed",
                  recipient="a@x.example", subject="S", created_at=datetime.now(UTC))  # fmt: skip
    letter = {**_letter(), "code": "a" * 22}
    posts = [f"{MAIL}/gui-lai/{failed}", f"{MAIL}/xem-truoc", f"{MAIL}/gui"]
    before = stored(db.engine)
    with same_site_client(mail_portal.base_url) as anonymous:
        page = anonymous.get(MAIL)
        assert page.status_code == 303 and page.headers["location"] == "/quan-tri/dang-nhap"
        for path in posts:
            assert (
                anonymous.post(path, data={**letter, "csrf": mail_portal.csrf}).status_code == 401
            )
    for path in posts:
        assert mail_portal.post(path, data=letter).status_code == 403  # no CSRF token
        other = {"Origin": "https://trang-khac.example"}
        refused = mail_portal.post(path, data={**letter, "csrf": mail_portal.csrf}, headers=other)
        assert refused.status_code == 403 and "không được gửi từ trang quản trị" in refused.text
    assert stored(db.engine) == before and mail_portal.smtp.accepted == []


def _statements(client, method: str, path: str, **data) -> int:
    """The statements the server runs to answer one request (the feed cache's own refresh,
    in another thread, left out)."""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        assert client.request(method, path, data=data or None).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    refresh = ("feed", "accesstoken", "begin")
    return len([t for t in statements if not any(word in t.lower() for word in refresh)])


def test_the_mail_page_and_the_preview_take_as_many_queries_for_300_units_as_for_9(mail_portal, db):
    letter = {**_letter(), "to": "all", "csrf": mail_portal.csrf}
    _statements(mail_portal, "GET", MAIL)  # the first answer warms the server's caches
    few = (
        _statements(mail_portal, "GET", MAIL),
        _statements(mail_portal, "POST", f"{MAIL}/xem-truoc", **letter),
    )
    _add_units(db, 291)
    with Session(db.engine) as session:
        added = session.exec(select(Unit).where(Unit.code.startswith("them-"))).all()
        session.add_all(
            Contact(
                unit_id=u.id, role="focal_point", name="Đầu mối", emails=[f"{u.code}@x.example"]
            )
            for u in added
        )
        session.commit()
    many = (
        _statements(mail_portal, "GET", MAIL),
        _statements(mail_portal, "POST", f"{MAIL}/xem-truoc", **letter),
    )
    assert many == few, (few, many)
    assert (
        "Gửi đến 300 đơn vị (301 địa chỉ email đầu mối)"
        in mail_portal.post(f"{MAIL}/xem-truoc", data=letter).text
    )
