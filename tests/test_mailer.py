"""The outbox and the mailer against a real SMTP server: nothing lost, nothing sent twice."""

import asyncio
import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from models import filestore
from models.db import session_scope
from models.tables import OutboxMessage
from notifications import outbox
from notifications.mailer import SmtpTransport, drain
from notifications.outbox import Draft, enqueue
from notifications.render import Rendered
from notifications.smtp_url import parse_smtp_url
from tests.conftest import RecordingHandler, free_port

T0 = datetime(2020, 3, 2, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
SENDER = "Khối thi đua VHXH <no-reply@thidua.example.gov.vn>"
SUBJECT = "[Thi đua 2020] Nhắc hạn: Gửi đăng ký danh hiệu thi đua năm 2020 – hạn cuối 04/03/2020"


def _drafts(*recipients: str, thread: str | None = "1:1", stage: str = "before-3") -> list[Draft]:
    message = Rendered(
        SUBJECT, "Kính gửi: Sở Y tế\n\nNội dung thư.\n", "<p><strong>Kính gửi: Sở Y tế</strong></p>"
    )
    return [
        Draft(key=f"test:{stage}:{r}", recipient=r, stage=stage, message=message, thread=thread)
        for r in recipients
    ]


def _enqueue(db, drafts: list[Draft], as_of: datetime = T0) -> int:
    with session_scope(db.engine) as session:
        return enqueue(session, drafts, domain="thidua.example.gov.vn", as_of=as_of)


def _drain(db, url: str, at: datetime, connections: int = 2):
    transports = [SmtpTransport(parse_smtp_url(url + "?timeout=5")) for _ in range(connections)]
    return asyncio.run(drain(db.engine, transports, sender=SENDER, now=lambda: at))


def _rows(db) -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _message_ids(accepted: list[bytes]) -> list[str]:
    return [
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] for raw in accepted
    ]


def test_enqueueing_the_same_decision_twice_stores_one_row(db):
    assert _enqueue(db, _drafts("a@example.gov.vn", "b@example.gov.vn")) == 2
    assert _enqueue(db, _drafts("a@example.gov.vn", "b@example.gov.vn")) == 0
    assert len(_rows(db)) == 2


def test_sent_message_has_utf8_subject_both_parts_and_thread_headers(db, smtp_server):
    _enqueue(db, _drafts("syt@example.gov.vn", stage="before-7"))
    _enqueue(db, _drafts("syt@example.gov.vn", stage="before-3"), as_of=T0 + timedelta(days=4))
    report = _drain(db, smtp_server.url, T0 + timedelta(days=4))
    assert report.sent == 2 and report.failed == 0
    received = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in smtp_server.handler.accepted
    ]  # two connections send at once: order the thread by its References, not by arrival
    first, second = sorted(received, key=lambda message: len(message["References"].split()))
    assert second["Subject"] == SUBJECT
    assert second["From"] == SENDER and second["To"] == "syt@example.gov.vn"
    assert second.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in second.iter_parts()] == ["text/plain", "text/html"]
    assert "Kính gửi: Sở Y tế" in second.get_body(("plain",)).get_content()
    assert second["Auto-Submitted"] == "auto-generated"
    assert second["Date"].endswith("+0700")
    # written when sent, four days after the first was decided: not the decision's instant
    assert first["Date"].datetime == second["Date"].datetime == T0 + timedelta(days=4)
    root = first["References"]
    assert first["In-Reply-To"] == root  # the first message answers the thread's root
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"].split() == [root, first["Message-ID"]]
    for raw in smtp_server.handler.accepted:
        assert b"In-Reply-To: =?" not in raw and b"References: =?" not in raw
    assert len(second["Message-ID"]) < 60


def test_server_down_then_up_loses_nothing(db):
    port = free_port()
    url = f"smtp://127.0.0.1:{port}"
    _enqueue(db, _drafts("a@example.gov.vn", "b@example.gov.vn", "c@example.gov.vn"))
    down = _drain(db, url, T0)
    assert (down.sent, down.retried, down.failed) == (0, 3, 0)
    assert all(
        row.status == "pending" and row.not_before > T0 and row.last_error for row in _rows(db)
    )
    assert _drain(db, url, T0).retried == 0  # backing off: not retried at once
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = _drain(db, url, T0 + timedelta(minutes=5))
        again = _drain(db, url, T0 + timedelta(hours=5))
    finally:
        controller.stop()
    assert up.sent == 3 and again.sent == 0
    assert sorted(_message_ids(handler.accepted)) == sorted(row.message_id for row in _rows(db))
    assert all(row.status == "sent" and row.attempts == 2 for row in _rows(db))


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "421 4.3.2 Service not available"])
def test_temporary_refusal_is_retried_and_sent_once(db, smtp_server, reply):
    smtp_server.handler.data_replies = [reply]
    _enqueue(db, _drafts("a@example.gov.vn"))
    first = _drain(db, smtp_server.url, T0)
    assert (first.sent, first.retried) == (0, 1)
    (row,) = _rows(db)
    assert row.last_error.startswith(reply[:3])
    second = _drain(db, smtp_server.url, T0 + timedelta(minutes=2))
    third = _drain(db, smtp_server.url, T0 + timedelta(hours=2))
    assert (second.sent, third.sent) == (1, 0)
    assert len(smtp_server.handler.accepted) == 1


def test_permanent_refusal_is_recorded_and_not_retried(db, smtp_server):
    smtp_server.handler.refuse["bad@example.gov.vn"] = "550 5.1.1 No such user here"
    _enqueue(db, _drafts("bad@example.gov.vn", "good@example.gov.vn"))
    report = _drain(db, smtp_server.url, T0)
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    bad = next(row for row in _rows(db) if row.recipient == "bad@example.gov.vn")
    assert bad.status == "failed" and bad.last_error.startswith("550")
    assert _drain(db, smtp_server.url, T0 + timedelta(days=2)).sent == 0
    assert smtp_server.handler.rcpt_attempts.count("bad@example.gov.vn") == 1


def test_crash_between_enqueue_and_send_sends_once_after_restart(db, smtp_server):
    _enqueue(db, _drafts("a@example.gov.vn"))  # committed; the process dies before sending
    with session_scope(db.engine) as session:  # a second sender claims it and dies too
        (claimed,) = outbox.claim(session, as_of=T0, limit=10)
    assert claimed.status == "sending"
    assert _drain(db, smtp_server.url, T0 + timedelta(minutes=1)).sent == 0  # its lease holds
    assert _drain(db, smtp_server.url, T0 + outbox.LEASE + timedelta(seconds=1)).sent == 1
    assert _drain(db, smtp_server.url, T0 + timedelta(hours=1)).sent == 0
    assert len(smtp_server.handler.accepted) == 1


def test_smtp_url_forms():
    assert parse_smtp_url("smtp://mail.example.gov.vn").port == 25
    starttls = parse_smtp_url("smtp+starttls://u%40x:p%3Aw@mail.example.gov.vn")
    assert (starttls.port, starttls.start_tls, starttls.username, starttls.password) == (
        587,
        True,
        "u@x",
        "p:w",
    )
    tls = parse_smtp_url(
        "smtps://mail.example.gov.vn?timeout=5", username="env-user", password="env-pass"
    )
    assert (tls.port, tls.use_tls, tls.username, tls.timeout) == (465, True, "env-user", 5.0)
    with pytest.raises(ValueError, match="THIDUA_SMTP_URL"):
        parse_smtp_url("http://mail.example.gov.vn")


def test_attachments_are_sent_from_the_file_store_and_a_missing_one_fails_for_good(
    db, smtp_server, tmp_path
):
    report = b"PK\x03\x04 the report as written"
    files = tmp_path / "files"
    digest = filestore.store(files, report)
    name = "bao-cao-ket-qua-thi-dua-2020.docx"
    drafts = [
        replace(draft, attachments=((name, digest),))
        for draft in _drafts("a@example.gov.vn", "b@example.gov.vn", thread=None)
    ]
    _enqueue(db, drafts)
    transport = [SmtpTransport(parse_smtp_url(smtp_server.url + "?timeout=5"))]
    later = T0 + timedelta(days=2)
    with session_scope(db.engine) as session:  # b is sent later, when the file is gone
        query = select(OutboxMessage).where(OutboxMessage.recipient.startswith("b"))
        session.exec(query).one().not_before = later
    first = asyncio.run(drain(db.engine, transport, sender=SENDER, files=files, now=lambda: T0))
    assert (first.sent, first.failed) == (1, 0)
    filestore.path_of(files, digest).unlink()
    second = asyncio.run(drain(db.engine, transport, sender=SENDER, files=files, now=lambda: later))
    assert (second.sent, second.retried, second.failed) == (0, 0, 1)
    (raw,) = smtp_server.handler.accepted
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)).get_content().startswith("Kính gửi: Sở Y tế")
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == name and attachment.get_content() == report
    assert attachment.get_content_type().endswith("wordprocessingml.document")
    failed = next(row for row in _rows(db) if row.recipient.startswith("b"))
    assert failed.status == "failed" and "Tệp đính kèm không còn" in failed.last_error
