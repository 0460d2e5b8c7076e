"""Sending the outbox: the one module that talks SMTP (aiosmtplib), or writes `.eml` files.

Delivery is at-least-once with a window of one message: a row is marked sent right after the
server accepts it. 4xx replies and connection failures are retried with backoff; 5xx replies
are permanent and recorded on the row.
"""

import asyncio
import functools
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import anyio
from sqlalchemy.engine import Engine

from domain.dates import TZ
from domain.uploads import KINDS
from models import filestore
from models.db import session_scope
from models.tables import OutboxMessage
from notifications import outbox
from thidua.settings import Settings


class SmtpUrlError(ValueError):
    """THIDUA_SMTP_URL cannot be understood."""


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool = False  # smtps:// — TLS from the first byte (port 465)
    start_tls: bool = False  # smtp+starttls:// — upgrade, and refuse a server that cannot
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    cafile: str | None = None


def parse_smtp_url(
    url: str, *, username: str | None = None, password: str | None = None
) -> SmtpTarget:
    """`smtp://host:25`, `smtp+starttls://user@host:587`, `smtps://host:465` (`?timeout=30&cafile=…`)."""
    parts = urlsplit(url)
    modes = {
        "smtp": (False, False, 25),
        "smtp+starttls": (False, True, 587),
        "smtps": (True, False, 465),
    }
    if parts.scheme not in modes or not parts.hostname:
        raise SmtpUrlError(
            f"THIDUA_SMTP_URL phải có dạng smtp://, smtp+starttls:// hoặc smtps://máy:cổng (đang là {url!r})"
        )
    use_tls, start_tls, default_port = modes[parts.scheme]
    query = parse_qs(parts.query)
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or default_port,
        use_tls=use_tls,
        start_tls=start_tls,
        username=username or (unquote(parts.username) if parts.username else None),
        password=password or (unquote(parts.password) if parts.password else None),
        timeout=float(query.get("timeout", ["30"])[0]),
        cafile=query.get("cafile", [None])[0],
    )


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: envelope and bytes (CRLF line ends)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def build_email(
    row: OutboxMessage, *, sender: str, reply_to: str | None, files: Path | None = None
) -> Outgoing:
    """multipart/alternative (text + HTML), UTF-8, inside multipart/mixed when the row has
    attachments (read from the file store `files`). Built with the compat32 classes: they
    encode a long Vietnamese Subject into RFC 2047 words without losing spaces (the newer
    policy drops the space between two encoded words when it folds, on CPython 3.11) and are
    about four times faster."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(row.text, "plain", "utf-8"))
    if row.html:
        body.attach(MIMEText(row.html, "html", "utf-8"))
    message = body
    if row.attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for attachment in row.attachments:
            content = filestore.path_of(files, attachment["sha256"]).read_bytes()
            kind = KINDS.get(attachment["name"].rsplit(".", 1)[-1], "application/octet-stream")
            part = MIMEApplication(content, kind.split("/", 1)[1])
            part.add_header("Content-Disposition", "attachment", filename=attachment["name"])
            message.attach(part)
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = row.recipient
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = Header(row.subject, "utf-8")
    message["Date"] = format_datetime(row.created_at.astimezone(TZ))
    message["Message-ID"] = row.message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
        message["References"] = " ".join(
            dict.fromkeys(filter(None, [row.thread_id, row.in_reply_to]))
        )
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    data = message.as_bytes(policy=compat32.clone(linesep="\r\n"))
    return Outgoing(address, row.recipient, row.message_id, data)


class Transport:
    """Where messages go: an SMTP server, or a folder of `.eml` files."""

    async def send(self, message: Outgoing) -> None: ...

    async def close(self) -> None: ...


@dataclass
class DirectoryTransport(Transport):
    """The embedded default: each message becomes `<folder>/<Message-ID>.eml`."""

    folder: Path

    async def send(self, message: Outgoing) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message.message_id.strip("<>").replace("@", "_at_") + ".eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(message.data)
        temporary.replace(self.folder / name)


@functools.cache
def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """Loading the system's CA certificates takes ~50 ms: once per process, not per connection."""
    return ssl.create_default_context(cafile=cafile)


@dataclass
class SmtpTransport(Transport):
    """One reused connection; reconnects when the server dropped it."""

    target: SmtpTarget
    _client: aiosmtplib.SMTP | None = field(default=None, init=False)

    def _new_client(self) -> aiosmtplib.SMTP:
        encrypted = self.target.use_tls or self.target.start_tls
        context = _tls_context(self.target.cafile) if encrypted else None
        return aiosmtplib.SMTP(
            hostname=self.target.hostname,
            port=self.target.port,
            use_tls=self.target.use_tls,
            start_tls=self.target.start_tls,  # never upgrade (or not) silently
            username=self.target.username,
            password=self.target.password,
            timeout=self.target.timeout,
            tls_context=context,
        )

    async def _connect(self) -> None:
        if self._client is None or not self._client.is_connected:
            self._client = self._new_client()
            await self._client.connect()

    async def send(self, message: Outgoing) -> None:
        await self._connect()
        errors, _ = await self._client.sendmail(message.sender, [message.recipient], message.data)
        if errors:  # one recipient per message, so any refusal is that recipient's
            code, text = next(iter(errors.values()))
            raise aiosmtplib.SMTPRecipientRefused(code, text, message.recipient)

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()
        self._client = None


def classify(error: Exception) -> tuple[bool, str]:
    """(permanent?, text) for a failed send: 5xx is permanent, 4xx and network trouble are not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, FileNotFoundError):  # an attachment gone from the file store
        return True, f"Tệp đính kèm không còn trong kho tệp: {error.filename}"
    code = getattr(error, "code", None)
    if isinstance(code, int) and code >= 100:
        return code >= 500, f"{code} {getattr(error, 'message', '')}".strip()
    return False, f"{type(error).__name__}: {error}"


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


async def drain(
    engine: Engine,
    transports: list[Transport],
    *,
    sender: str,
    reply_to: str | None = None,
    files: Path | None = None,
    now=lambda: datetime.now(UTC),
    batch: int = 200,
) -> SendReport:
    """Send every sendable outbox row, one worker per transport (bounded concurrency);
    attachments are read from the file store `files`."""
    report = SendReport()

    def take() -> list[OutboxMessage]:
        with session_scope(engine) as session:
            return outbox.claim(session, as_of=now(), limit=batch)

    def record(row: OutboxMessage, error: Exception | None) -> None:
        with engine.begin() as connection:  # its own short transaction, right after the send
            if error is None:
                outbox.mark_sent(connection, row.id, at=now())
                report.sent += 1
                return
            permanent, text = classify(error)
            outbox.mark_failed(connection, row, text, permanent=permanent, at=now())
            if permanent or row.attempts >= outbox.MAX_ATTEMPTS:
                report.failed += 1
            else:
                report.retried += 1

    async def worker(transport: Transport, queue: asyncio.Queue) -> None:
        while not queue.empty():
            row = queue.get_nowait()
            try:
                await transport.send(
                    build_email(row, sender=sender, reply_to=reply_to, files=files)
                )
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await transport.close()  # a fresh connection for the next message
                await anyio.to_thread.run_sync(record, row, error)
                continue
            await anyio.to_thread.run_sync(record, row, None)

    try:
        while rows := await anyio.to_thread.run_sync(take):
            queue: asyncio.Queue = asyncio.Queue()
            for row in rows:
                queue.put_nowait(row)
            await asyncio.gather(*(worker(transport, queue) for transport in transports))
    finally:
        for transport in transports:
            await transport.close()
    return report


def transports_for(settings: Settings, *, password: str | None = None) -> list[Transport]:
    """SMTP connections when `THIDUA_SMTP_URL` is set, else the local `.eml` folder."""
    if not settings.smtp_url:
        return [DirectoryTransport(settings.eml_dir)]
    secret = password or (
        settings.smtp_password.get_secret_value() if settings.smtp_password else None
    )
    target = parse_smtp_url(settings.smtp_url, username=settings.smtp_username, password=secret)
    return [SmtpTransport(target) for _ in range(max(1, settings.smtp_connections))]


async def send_outbox(
    engine: Engine, settings: Settings, *, password: str | None = None
) -> SendReport:
    transports = transports_for(settings, password=password)
    return await drain(
        engine,
        transports,
        sender=settings.mail_from,
        reply_to=settings.mail_reply_to,
        files=settings.files_dir,
    )
