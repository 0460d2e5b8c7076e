"""The mail settings' TLS promises against a real TLS SMTP server (aiosmtpd) with a throwaway CA:
smtp+starttls:// (refusing a server without STARTTLS), smtps://, `cafile`, and the password
from a Prefect Secret block; sent by `send_outbox`, as the flows and the portal send."""

import asyncio
import ipaddress
import logging
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlmodel import Session, select

from config.settings import Settings
from models.db import session_scope
from models.tables import OutboxMessage
from notifications.mailer import send_outbox
from notifications.outbox import Draft, enqueue
from notifications.render import Rendered
from tests.conftest import RecordingHandler, free_port

SENDER = "Khối thi đua VHXH <thidua@example.gov.vn>"
USER = "thidua@example.gov.vn"
PASSWORD = "Mat-Khau-Rieng-7f3a9c"
WRONG = "Mat-Khau-Cu-2019-b81e"
MESSAGES = 6


# --- A throwaway CA and a certificate for 127.0.0.1 ------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server: ssl.SSLContext  # the server's side: its certificate and key


def _certificate(subject: str, key, issuer: str, issuer_key, extensions) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    ca = _certificate(
        "Thidua test CA",
        ca_key,
        "Thidua test CA",
        ca_key,
        [(x509.BasicConstraints(ca=True, path_length=0), True), (ca_usage, True)],
    )
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    server = _certificate(
        "127.0.0.1",
        key,
        "Thidua test CA",
        ca_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName(names), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (authority, False),
        ],
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return Pki(folder / "ca.pem", context)


# --- A relay that wants a login, over TLS ----------------------------------------------------


class LoginHandler(RecordingHandler):
    """Accepts `USER` with `PASSWORD`; records every login tried and, for each message it
    took, the TLS version it came over and who had logged in."""

    def __init__(self):
        super().__init__()
        self.logins: list[tuple[str, bool]] = []
        self.mail_from: list[str] = []
        self.deliveries: list[tuple[str | None, str | None]] = []

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from.append(address)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object")
        login = session.auth_data.login.decode() if session.authenticated else None
        self.deliveries.append((tls.version() if tls else None, login))
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def relay(pki: Pki, tls: str) -> Iterator[tuple[int, LoginHandler]]:
    """`starttls`: STARTTLS required before MAIL and AUTH (the bloc head's relay on 587);
    `implicit`: TLS from the first byte (465); `none`: no STARTTLS, AUTH offered in clear."""
    options = {
        "starttls": {"tls_context": pki.server, "require_starttls": True},
        # aiosmtpd counts only a STARTTLS session as encrypted: this socket is TLS throughout
        "implicit": {"ssl_context": pki.server, "auth_require_tls": False},
        "none": {"auth_require_tls": False},
    }[tls]
    handler = LoginHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=handler.authenticate,
        **options,
    )
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


def _settings(db, url: str, **extra) -> Settings:
    options = {"smtp_username": USER, "smtp_connections": 2, "mail_from": SENDER, **extra}
    return Settings(data_dir=db.data_dir, database_url=db.url, smtp_url=url, **options)


def _enqueue(db) -> None:
    message = Rendered("[Thi đua 2020] Nhắc hạn", "Kính gửi: Sở Y tế\n", "<p>Kính gửi</p>")
    drafts = [
        Draft(
            key=f"tls:{i}", recipient=f"unit{i}@example.gov.vn", stage="before-3", message=message
        )
        for i in range(MESSAGES)
    ]
    with session_scope(db.engine) as session:
        enqueue(session, drafts, domain="example.gov.vn", as_of=datetime.now(UTC))


def _send(db, settings: Settings, **options):
    _enqueue(db)
    return asyncio.run(send_outbox(db.engine, settings, **options))


def _rows(db) -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _all_delivered_over_tls_as_the_user(handler: LoginHandler) -> None:
    assert len(handler.accepted) == MESSAGES
    assert all(version in ("TLSv1.2", "TLSv1.3") for version, _ in handler.deliveries)
    assert {login for _, login in handler.deliveries} == {USER}


def _all_waiting_for(db, report, *words: str) -> None:
    """Nothing sent, every row pending and due, its attempt not counted, with the run's reason."""
    assert (report.sent, report.retried, report.failed, report.held) == (0, 0, 0, MESSAGES)
    assert all(word in report.stopped for word in words), report.stopped
    rows = _rows(db)
    assert [row.status for row in rows] == ["pending"] * MESSAGES
    assert all(row.attempts == 0 and row.not_before is None for row in rows)
    assert all(row.last_error == report.stopped for row in rows)


# --- smtp+starttls:// ------------------------------------------------------------------------


def test_starttls_required_by_the_server_delivers_every_message_encrypted_and_logged_in(db, pki):
    with relay(pki, "starttls") as (port, handler):
        url = f"smtp+starttls://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        report = _send(db, _settings(db, url, smtp_password=PASSWORD))
    assert (report.sent, report.failed, report.stopped) == (MESSAGES, 0, None)
    _all_delivered_over_tls_as_the_user(handler)
    assert all(row.status == "sent" for row in _rows(db))


def test_a_server_without_starttls_is_refused_before_the_password_or_any_mail_goes_in_clear(
    db, pki
):
    with relay(pki, "none") as (port, handler):
        url = f"smtp+starttls://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        report = _send(db, _settings(db, url, smtp_password=PASSWORD))
    assert handler.logins == [] and handler.mail_from == [] and handler.accepted == []
    _all_waiting_for(db, report, "không hỗ trợ STARTTLS", "smtp+starttls://", f":{port}")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the outbox is as in the test above
@pytest.mark.parametrize(
    "login, problem",
    [(False, "530"), (True, "không cho đăng nhập")],
    ids=["refused-at-mail", "no-login-before-tls"],
)
def test_plain_smtp_to_a_server_that_requires_starttls_keeps_the_mail_until_the_url_is_fixed(
    db, pki, login, problem
):
    """Without a login the relay answers MAIL with 530; with one it offers no AUTH before TLS.
    Both are the URL's fault, not the recipients': before the fix the 530 marked every message
    failed for good, and the missing AUTH spent one of each message's attempts."""
    password = {"smtp_password": PASSWORD} if login else {"smtp_username": None}
    with relay(pki, "starttls") as (port, handler):
        report = _send(db, _settings(db, f"smtp://127.0.0.1:{port}?timeout=5", **password))
        assert handler.accepted == [] and handler.logins == []
        _all_waiting_for(db, report, problem, "smtp+starttls://")
        fixed = f"smtp+starttls://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        again = _send(db, _settings(db, fixed, smtp_password=PASSWORD))
    assert again.sent == MESSAGES
    _all_delivered_over_tls_as_the_user(handler)


# --- smtps:// and cafile ---------------------------------------------------------------------


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the outbox is as in the tests above
def test_smtps_delivers_over_tls_from_the_first_byte(db, pki):
    with relay(pki, "implicit") as (port, handler):
        url = f"smtps://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        report = _send(db, _settings(db, url, smtp_password=PASSWORD))
    assert (report.sent, report.stopped) == (MESSAGES, None)
    _all_delivered_over_tls_as_the_user(handler)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("scheme, tls", [("smtp+starttls", "starttls"), ("smtps", "implicit")])
def test_without_cafile_a_private_ca_is_not_trusted_and_the_mail_waits_saying_so(
    db, pki, scheme, tls
):
    with relay(pki, tls) as (port, handler):
        report = _send(db, _settings(db, f"{scheme}://127.0.0.1:{port}?timeout=5"))
    assert handler.logins == [] and handler.mail_from == []  # no password to an unknown server
    _all_waiting_for(db, report, "chứng chỉ TLS", "không xác minh được", "cafile=")


# --- The password from a Prefect Secret block ------------------------------------------------


@pytest.fixture
def password_block(prefect_server, request) -> Iterator[str]:
    """A Prefect Secret block holding the `request.param` password; its name."""
    from prefect.blocks.system import Secret

    name = f"smtp-password-{uuid.uuid4().hex[:8]}"
    Secret(value=request.param).save(name, overwrite=True)
    yield name
    Secret.delete(name)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("password_block", [PASSWORD], indirect=True)
def test_the_password_in_the_prefect_secret_block_logs_in(db, pki, password_block):
    """The flows and the portal (a receipt after a submission) give only the settings; the
    sender reads the block. Before the fix the portal logged in with an empty password."""
    with relay(pki, "starttls") as (port, handler):
        url = f"smtp+starttls://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        settings = _settings(db, url, smtp_password_block=password_block)
        report = _send(db, settings)
    assert (report.sent, report.stopped) == (MESSAGES, None)
    _all_delivered_over_tls_as_the_user(handler)
    assert handler.logins and all(ok for _, ok in handler.logins)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("password_block", [WRONG], indirect=True)
def test_a_wrong_password_keeps_the_mail_with_a_reason_that_never_shows_it(
    db, pki, password_block, caplog
):
    caplog.set_level(logging.DEBUG)
    with relay(pki, "starttls") as (port, handler):
        url = f"smtp+starttls://127.0.0.1:{port}?timeout=5&cafile={pki.ca_file}"
        report = _send(db, _settings(db, url, smtp_password_block=password_block))
    # each of the 2 connections tries PLAIN then LOGIN, once; before the fix: every message
    assert handler.logins and handler.logins == [(USER, False)] * len(handler.logins)
    assert len(handler.logins) <= 4 and handler.mail_from == []
    _all_waiting_for(db, report, "từ chối đăng nhập", USER, "THIDUA_SMTP_PASSWORD_BLOCK")
    shown = [report.stopped, caplog.text, *(row.last_error for row in _rows(db))]
    assert not any(WRONG in text or PASSWORD in text for text in shown)
