"""A unit's page in the secretariat's workspace (/quan-tri/don-vi/YEAR/CODE): its contacts, its
private links (sent again, rotated, audited), what it sent with its files for staff to download,
its score and verification, whether it voted (never for whom), its mail log with each email's
delivery; refused without a session, a CSRF token or from another origin; no private token in
a page or a log; a fixed number of queries; and the same in a real browser."""

import asyncio
import logging
import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.access import current_token
from models.tables import (
    AccessToken,
    AuditEvent,
    Contact,
    OutboxMessage,
    Poll,
    Submission,
    SubmissionFile,
    Unit,
    YearPlan,
)
from models.year_end import cast_ballot, open_poll
from notifications.mailer import send_outbox
from tests.conftest import ADMIN_AUTH, PDF, same_site_client
from tests.test_admin import stored
from tests.test_admin_overview import _add_units
from tests.test_browser import (  # noqa: F401 (the fixtures)
    SCREENSHOTS,
    browser,
    page,
    sign_in_staff,
)

BDT = "/quan-tri/don-vi/2020/bdt"
BDT_FOCAL = "vanphong.bdt@bacgiang.gov.vn.example"
MAIL = '<li class="wrap mail'  # an email of the mail log


def _record(client, unit: str, received_at: str, name: str = "cv.pdf", content: bytes = PDF):
    """A paper dispatch recorded from the workspace's form, with one file."""
    form = {
        "unit": unit,
        "deadline": "dang-ky",
        "received_at": received_at,
        "channel": "dispatch",
        "note": "CV 12/BDT",
        "csrf": client.csrf,
    }
    files = [("files", (name, content, "application/pdf"))]
    response = client.post("/quan-tri/ghi-nhan/2020", data=form, files=files)
    assert response.status_code == 200, response.text


def _file_ids(db, unit: str) -> list[int]:
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == unit)).one()
        query = (
            select(SubmissionFile.id)
            .join(Submission, Submission.id == SubmissionFile.submission_id)
            .where(Submission.unit_id == unit_id)
        )
        return list(session.exec(query).all())


def _section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def _tokens(db, settings, code: str) -> set[str]:
    """The unit's live portal and calendar tokens."""
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == code)).one()
        key = settings.signing_key()
        tokens = {
            current_token(session, key=key, unit_id=unit_id, purpose=purpose)
            for purpose in ("portal", "calendar")
        }
        session.commit()  # a token issued just now
        return tokens


def test_the_overview_links_each_unit_to_its_page(admin_portal):
    overview = admin_portal.get("/quan-tri").text
    assert f'<a href="{BDT}">Ban Dân tộc tỉnh</a>' in overview
    assert overview.count('<th scope="row"><a href="/quan-tri/don-vi/2020/') == 9


def test_the_page_shows_contacts_versions_with_files_registration_and_verification(
    admin_portal, portal, db
):
    _record(admin_portal, "bdt", "2020-03-06T14:30")
    registration = {"collective_title": "Tập thể Lao động xuất sắc", "count_1": "12"}
    sent = portal.post(f"{portal.paths['bdt']}/nop/2020/dang-ky", data=registration)
    assert sent.status_code == 200
    verify = {"unit": "bdt", "item": "I.1", "value": "18", "reason": "Thiếu kiểm chứng"}
    assert (
        admin_portal.post(
            "/quan-tri/tham-dinh/2020", data={**verify, "csrf": admin_portal.csrf}
        ).status_code
        == 200
    )

    answer = admin_portal.get(BDT)
    assert answer.status_code == 200 and "<h1>Ban Dân tộc tỉnh</h1>" in answer.text
    contacts = _section(answer.text, "lien-he")
    assert "Cán bộ đầu mối" in contacts and "Lãnh đạo đơn vị" in contacts
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == "bdt")).one()
        people = session.exec(select(Contact).where(Contact.unit_id == unit_id)).all()
    assert all(p.name in contacts and all(e in contacts for e in p.emails) for p in people)

    sent_part = _section(answer.text, "ho-so")
    assert "Lần 2" in sent_part and "Lần 1" in sent_part and "(công văn)" in sent_part
    assert "Tập thể Lao động xuất sắc" in sent_part and "Ghi chú: CV 12/BDT" in sent_part
    (file_id,) = _file_ids(db, "bdt")
    assert f'<a href="{BDT}/tep/{file_id}" download>cv.pdf</a>' in sent_part

    score = _section(answer.text, "diem")
    assert "Thiếu kiểm chứng" in score and "đã thẩm định 1/" in score
    assert re.search(r"I\.1\. .*?</td><td class=\"n\">0</td><td class=\"n\">18</td>", score)


def test_staff_download_a_units_file_through_the_session_and_no_other_units(
    admin_portal, portal, db
):
    _record(admin_portal, "bdt", "2020-03-06T14:30")
    _record(admin_portal, "syt", "2020-03-04T09:00", "syt.pdf", PDF + b"% syt\n")
    (bdt_file,) = _file_ids(db, "bdt")
    (syt_file,) = _file_ids(db, "syt")
    download = admin_portal.get(f"{BDT}/tep/{bdt_file}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith('attachment; filename="cv.pdf"')
    for wrong in (f"{BDT}/tep/{syt_file}", f"/quan-tri/don-vi/2019/bdt/tep/{bdt_file}"):
        refused = admin_portal.get(wrong)
        assert refused.status_code == 404 and "Không tìm thấy trang" in refused.text
    # Without a session, the staff's address gives nothing (the sign-in form instead).
    assert portal.get(f"{BDT}/tep/{bdt_file}").status_code == 303


def _wait_for(client, path: str, text: str) -> str:
    """The page at `path` once it contains `text` (the email leaves after the answer)."""
    limit = time.monotonic() + 20
    while text not in (html := client.get(path).text):
        assert time.monotonic() < limit, f"{text!r} never appeared"
        time.sleep(0.2)
    return html


def test_the_mail_log_shows_each_email_its_kind_recipient_and_delivery(
    admin_portal, portal, db, smtp_server
):
    _record(admin_portal, "bdt", "2020-03-06T14:30")
    _record(admin_portal, "syt", "2020-03-04T09:00", "syt.pdf", PDF + b"% syt\n")
    mail = _section(admin_portal.get(BDT).text, "thu")
    assert mail.count(MAIL) == 1 and "Xác nhận đã nhận hồ sơ" in mail
    assert f"tới {BDT_FOCAL}" in mail and "Chờ gửi" in mail
    assert "[Thi đua 2020] Đã nhận: Gửi đăng ký danh hiệu thi đua năm 2020 (lần 1)" in mail
    assert "syt" not in mail  # another unit's receipt is not in this unit's log

    smtp_server.handler.refuse[BDT_FOCAL] = "550 5.1.1 Mailbox unavailable"
    smtp = portal.settings.model_copy(update={"smtp_url": smtp_server.url})
    asyncio.run(send_outbox(db.engine, smtp))
    mail = _section(admin_portal.get(BDT).text, "thu")
    assert "Không gửi được" in mail
    assert "máy chủ thư từ chối: 550 5.1.1 Mailbox unavailable" in mail

    sent = admin_portal.post(f"{BDT}/gui-duong-dan", data={"csrf": admin_portal.csrf})
    assert sent.status_code == 200
    assert f"Đã gửi lại đường dẫn riêng cho Ban Dân tộc tỉnh tới {BDT_FOCAL}." in sent.text
    mail = _section(_wait_for(admin_portal, BDT, "máy chủ thư nhận lúc"), "thu")
    newest = mail.split(MAIL)[1]
    assert "[Thi đua 2020] Đường dẫn riêng của Ban Dân tộc tỉnh" in newest
    assert "Gửi lại đường dẫn riêng" in newest and "Đã gửi" in newest
    with Session(db.engine) as session:
        (message,) = session.exec(select(OutboxMessage).where(OutboxMessage.stage == "links")).all()
        (event_,) = session.exec(select(AuditEvent).where(AuditEvent.action == "links.sent")).all()
    portal_token = current_token_of(db, portal, "bdt", "portal")
    assert message.recipient == BDT_FOCAL and f"/don-vi/{portal_token}" in message.text
    assert (event_.actor, event_.key, event_.details) == (
        ADMIN_AUTH[0],
        "bdt",
        {"recipients": [BDT_FOCAL]},
    )


def current_token_of(db, client, code: str, purpose: str) -> str:
    with Session(db.engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.code == code)).one()
        token = current_token(
            session, key=client.settings.signing_key(), unit_id=unit_id, purpose=purpose
        )
        session.commit()  # a token issued just now
        return token


def test_rotating_a_link_stops_the_old_one_at_once_and_is_audited(admin_portal, portal, db):
    old = portal.paths["bdt"]
    assert portal.get(old).status_code == 200
    rotated = admin_portal.post(
        f"{BDT}/doi-duong-dan", data={"purpose": "portal", "csrf": admin_portal.csrf}
    )
    assert rotated.status_code == 200
    assert "Đã cấp đường dẫn nộp hồ sơ mới cho Ban Dân tộc tỉnh" in rotated.text
    assert "Đường dẫn nộp hồ sơ: cấp lần 2" in rotated.text
    assert portal.get(old).status_code == 404
    assert portal.get(f"/don-vi/{current_token_of(db, portal, 'bdt', 'portal')}").status_code == 200
    calendar = admin_portal.post(
        f"{BDT}/doi-duong-dan", data={"purpose": "calendar", "csrf": admin_portal.csrf}
    )
    assert "Đường dẫn lịch riêng: cấp lần 2" in calendar.text
    with Session(db.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "Unit")).all()
        live = session.exec(select(AccessToken).where(AccessToken.revoked_at.is_(None))).all()
    assert [(e.action, e.actor, e.key) for e in events] == [
        ("portal.rotated", ADMIN_AUTH[0], "bdt"),
        ("calendar.rotated", ADMIN_AUTH[0], "bdt"),
    ]
    assert {(t.purpose, t.generation) for t in live if t.generation > 1} == {
        ("portal", 2),
        ("calendar", 2),
    }

    before = stored(db.engine)
    refused = admin_portal.post(
        f"{BDT}/doi-duong-dan", data={"purpose": "ballot", "csrf": admin_portal.csrf}
    )
    assert refused.status_code == 422
    assert "Hãy chọn đường dẫn cần cấp mới" in refused.text and stored(db.engine) == before


def test_the_page_says_whether_the_unit_voted_never_for_whom(admin_portal, db):
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        poll = open_poll(
            session,
            plan=plan,
            code="truong-khoi",
            kind="election",
            title="Bầu Trưởng khối năm 2021",
            seats=1,
            candidates=[units["baobg"].id, units["dptth"].id],
            closes_at=datetime.now(UTC) + timedelta(days=3),
        )
        session.flush()
        cast_ballot(
            session,
            poll=poll,
            voter=units["bdt"],
            members={u.id for u in units.values()},
            choices=[units["dptth"].id],
            at=datetime.now(UTC),
        )
        session.commit()
    bdt = _section(admin_portal.get(BDT).text, "bo-phieu")
    syt = _section(admin_portal.get("/quan-tri/don-vi/2020/syt").text, "bo-phieu")
    assert (
        "Bầu Trưởng khối năm 2021 (đang bỏ phiếu" in bdt and "<strong>đã bỏ phiếu</strong>" in bdt
    )
    assert "<strong>chưa bỏ phiếu</strong>" in syt
    html = admin_portal.get(BDT).text
    assert "Đài Phát thanh" not in html and "Báo Bắc Giang" not in html  # nor the candidates
    with Session(db.engine) as session:
        assert session.exec(select(Poll)).one().state == "open"


def test_a_wrong_unit_or_year_gives_the_not_found_page(admin_portal):
    for path in (
        "/quan-tri/don-vi/2020/khong-co",
        "/quan-tri/don-vi/2019/bdt",
        "/quan-tri/don-vi/99999/bdt",
        "/quan-tri/don-vi/nam/bdt",
    ):
        answer = admin_portal.get(path)
        assert answer.status_code == 404 and "Không tìm thấy trang" in answer.text, path
    refused = admin_portal.post(
        "/quan-tri/don-vi/2020/khong-co/gui-duong-dan", data={"csrf": admin_portal.csrf}
    )
    assert refused.status_code == 404


def test_the_page_and_its_forms_refuse_without_session_csrf_or_same_origin(
    admin_portal, portal, db
):
    before = stored(db.engine)
    assert portal.get(BDT).status_code == 303  # to the sign-in form
    with same_site_client(portal.base_url) as stranger:
        for action in ("gui-duong-dan", "doi-duong-dan"):
            data = {"csrf": admin_portal.csrf, "purpose": "portal"}
            assert stranger.post(f"{BDT}/{action}", data=data).status_code == 401
            no_token = admin_portal.post(f"{BDT}/{action}", data={"purpose": "portal"})
            assert no_token.status_code == 403 and "mã xác thực" in no_token.text
            elsewhere = admin_portal.post(
                f"{BDT}/{action}", data=data, headers={"Origin": "http://127.0.0.1:1"}
            )
            assert elsewhere.status_code == 403 and "trang web khác" in elsewhere.text
    assert stored(db.engine) == before


def test_no_private_token_of_the_unit_in_its_page_or_any_log(admin_portal, portal, db, caplog):
    caplog.set_level(logging.DEBUG)
    _record(admin_portal, "bdt", "2020-03-06T14:30")
    tokens = _tokens(db, portal.settings, "bdt")
    (file_id,) = _file_ids(db, "bdt")
    answers = [admin_portal.get(BDT), admin_portal.get(f"{BDT}/tep/{file_id}")]
    answers.append(admin_portal.post(f"{BDT}/gui-duong-dan", data={"csrf": admin_portal.csrf}))
    _wait_for(admin_portal, BDT, "máy chủ thư nhận lúc")
    for purpose in ("portal", "calendar"):
        data = {"purpose": purpose, "csrf": admin_portal.csrf}
        answers.append(admin_portal.post(f"{BDT}/doi-duong-dan", data=data))
    tokens |= _tokens(db, portal.settings, "bdt")
    assert len(tokens) == 4 and all(a.status_code == 200 for a in answers)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for token in tokens:
        assert token not in logged
        assert not any(token in a.text for a in answers if "html" in a.headers["content-type"])


def _page_queries(client, path: str) -> int:
    """The statements the server runs to answer GET `path`, less those the server's feed cache
    may run meanwhile in its own thread (its transaction, the feeds and the private tokens)."""
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    refresh = ("feed", "accesstoken", "begin")
    return len([t for t in statements if not any(word in t.lower() for word in refresh)])


def test_the_page_takes_as_many_queries_for_300_units_and_a_long_history(admin_portal, db):
    _page_queries(admin_portal, BDT)  # the first answer warms the server's caches
    few = _page_queries(admin_portal, BDT)
    _add_units(db, 291)
    for day in range(1, 4):  # three more versions, each with a file and its receipt
        _record(admin_portal, "bdt", f"2020-03-0{day}T09:00", f"cv-{day}.pdf", PDF + bytes(day))
    assert _section(admin_portal.get(BDT).text, "thu").count(MAIL) == 3
    many = _page_queries(admin_portal, BDT)
    assert 0 < many == few, (few, many)


def _shot(browser_page, name: str, db) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(
        path=SCREENSHOTS / f"{name}-{db.engine.dialect.name}.png", full_page=True
    )


def test_staff_open_a_late_unit_see_its_mail_log_and_download_its_file_in_a_browser(
    portal,
    page,  # noqa: F811
    db,
    tmp_path,
):
    base = sign_in_staff(page, portal, db, "/quan-tri")
    page.locator("#unit-2020").select_option("bdt")
    page.get_by_label("Ngày giờ nhận (giờ Việt Nam)").fill("2020-03-06T14:30")
    page.locator("#channel-2020").select_option("dispatch")
    page.locator("#files-2020").set_input_files(
        {"name": "công văn 12.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Ghi nhận").click()
    assert "Đã ghi nhận Ban Dân tộc tỉnh" in page.locator("[role=status]").inner_text()

    page.get_by_role("link", name="Nộp muộn hoặc quá hạn").click()
    page.get_by_role("link", name="Ban Dân tộc tỉnh").click()
    assert page.url == base + BDT and page.locator("h1").inner_text() == "Ban Dân tộc tỉnh"
    mail = page.locator("#thu")
    assert "Xác nhận đã nhận hồ sơ" in mail.inner_text() and "Chờ gửi" in mail.inner_text()
    with page.expect_download() as download:
        page.locator("#ho-so").get_by_role("link", name="công văn 12.pdf").click()
    saved = tmp_path / "tai-ve.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "công văn 12.pdf" and saved.read_bytes() == PDF

    page.get_by_role("button", name="Gửi lại đường dẫn cho đơn vị").click()
    assert f"tới {BDT_FOCAL}" in page.locator("[role=status]").inner_text()
    limit = time.monotonic() + 20  # the email leaves after the answer
    while "máy chủ thư nhận lúc" not in page.locator("#thu li").first.inner_text():
        assert time.monotonic() < limit, "the email was not sent"
        page.goto(base + BDT)
    assert page.locator("body").evaluate("b => b.scrollWidth <= window.innerWidth")
    _shot(page, "quan-tri-don-vi-dien-thoai", db)
    page.set_viewport_size({"width": 1280, "height": 900})
    _shot(page, "quan-tri-don-vi-may-tinh", db)
