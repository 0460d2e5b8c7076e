"""Sending the outbox: the one module that talks SMTP (aiosmtplib), or writes `.eml` files.

Delivery is at-least-once with a window of one message per connection: a row is marked sent
right after the server accepts it, so a crash can repeat only the messages then in flight.
4xx replies and connection failures are retried with backoff; 5xx replies are permanent and
recorded on the row. A run holds its rows under a lease it renews while it lives, and stops
after a few consecutive connection failures or timeouts (the server is down or silent),
leaving the rest pending with the reason for the next run.
"""

import asyncio
import functools
import logging
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

import aiosmtplib
import anyio
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from config.settings import Settings
from domain.dates import TZ
from domain.uploads import KINDS
from models import filestore
from models.db import session_scope
from models.tables import OutboxMessage
from notifications import outbox
from notifications.smtp_url import SmtpTarget, parse_smtp_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: envelope and bytes (CRLF line ends)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def build_email(
    row: OutboxMessage,
    *,
    sender: str,
    reply_to: str | None,
    files: Path | None = None,
    parts: dict[tuple[str, str], MIMEApplication] | None = None,
    written_at: datetime,
) -> Outgoing:
    """multipart/alternative (text + HTML), UTF-8, inside multipart/mixed when the row has
    attachments (read from the file store `files`, each read and encoded once per `parts`: a
    run sends the year's documents to every unit, and shares them). Built with the compat32 classes: they
    encode a long Vietnamese Subject into RFC 2047 words without losing spaces (the newer
    policy drops the space between two encoded words when it folds, on CPython 3.11) and are
    about four times faster."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(row.text, "plain", "utf-8"))
    if row.html:
        body.attach(MIMEText(row.html, "html", "utf-8"))
    message = body
    if row.attachments:
        parts = {} if parts is None else parts
        message = MIMEMultipart("mixed")
        message.attach(body)
        for attachment in row.attachments:
            key = (attachment["sha256"], attachment["name"])
            if key not in parts:
                parts[key] = _attachment(files, *key)
            message.attach(parts[key])
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = row.recipient
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = Header(row.subject, "utf-8")
    # When it is written, not the instant its decision was made for (a run "as of" a past day)
    message["Date"] = format_datetime(written_at.astimezone(TZ))
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


def _attachment(files: Path, sha256: str, name: str) -> MIMEApplication:
    kind = KINDS.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    part = MIMEApplication(filestore.path_of(files, sha256).read_bytes(), kind.split("/", 1)[1])
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


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


class SmtpSetupError(aiosmtplib.SMTPException):
    """The server cannot be used as configured: it offers no STARTTLS, its certificate does not
    verify, it refuses the login or wants one first. The same for every message, so the run
    stops and the mail waits, its attempts not counted; the message says what to fix."""


LOGIN = (
    "THIDUA_SMTP_USERNAME và mật khẩu (THIDUA_SMTP_PASSWORD hoặc khối Secret "
    "THIDUA_SMTP_PASSWORD_BLOCK)"
)


@dataclass
class SmtpTransport(Transport):
    """One reused connection; reconnects when the server dropped it."""

    target: SmtpTarget
    _client: aiosmtplib.SMTP | None = field(default=None, init=False)

    @property
    def _server(self) -> str:
        return f"máy chủ SMTP {self.target.hostname}:{self.target.port}"

    def _new_client(self) -> aiosmtplib.SMTP:
        encrypted = self.target.use_tls or self.target.start_tls
        context = _tls_context(self.target.cafile) if encrypted else None
        return aiosmtplib.SMTP(
            hostname=self.target.hostname,
            port=self.target.port,
            use_tls=self.target.use_tls,
            start_tls=False,  # `_connect` upgrades when asked, never silently (or not)
            timeout=self.target.timeout,
            tls_context=context,
        )

    async def _connect(self) -> None:
        """Connect; for smtp+starttls:// upgrade before anything else is said, refusing a server
        that cannot; then log in. What the settings must fix raises SmtpSetupError."""
        if self._client is not None and self._client.is_connected:
            return
        client = self._client = self._new_client()
        try:
            await client.connect(timeout=self.target.connect_timeout)
            if self.target.start_tls:
                await client.ehlo()
                if not client.supports_extension("starttls"):
                    raise SmtpSetupError(
                        f"{self._server} không hỗ trợ STARTTLS mà THIDUA_SMTP_URL "
                        "(smtp+starttls://) yêu cầu, nên mật khẩu và thư không được gửi khi chưa "
                        "mã hóa: kiểm tra tên máy chủ và cổng (thường là 587), hoặc dùng "
                        "smtps:// nếu máy chủ mã hóa ngay từ đầu (cổng 465)"
                    )
                await client.starttls()
        except (ssl.SSLError, aiosmtplib.SMTPConnectError) as error:
            tls = error if isinstance(error, ssl.SSLError) else error.__cause__
            if not isinstance(tls, ssl.SSLError):
                raise
            raise SmtpSetupError(self._tls_problem(tls)) from error
        if self.target.username:
            await self._log_in(client)

    def _tls_problem(self, error: ssl.SSLError) -> str:
        if isinstance(error, ssl.SSLCertVerificationError):
            return (
                f"chứng chỉ TLS của {self._server} không xác minh được ({error.verify_message}): "
                "nếu chứng chỉ do CA riêng của cơ quan cấp, thêm tệp chứng chỉ của CA đó vào "
                "THIDUA_SMTP_URL (?cafile=/đường/dẫn/ca.pem)"
            )
        return (
            f"không thiết lập được kết nối TLS với {self._server} ({error.reason}): kiểm tra "
            "THIDUA_SMTP_URL dùng đúng smtps:// (thường cổng 465) hay smtp+starttls:// "
            "(thường cổng 587)"
        )

    async def _log_in(self, client: aiosmtplib.SMTP) -> None:
        await client.ehlo()  # what the server offers now (after STARTTLS it must be asked again)
        if not client.supports_extension("auth"):
            raise SmtpSetupError(
                f"{self._server} không cho đăng nhập (không có AUTH): nếu máy chủ chỉ cho đăng "
                "nhập sau khi mã hóa, dùng smtp+starttls:// hoặc smtps:// trong THIDUA_SMTP_URL; "
                "nếu máy chủ không cần đăng nhập, bỏ THIDUA_SMTP_USERNAME"
            )
        try:
            await client.login(self.target.username, self.target.password or "")
        except aiosmtplib.SMTPAuthenticationError as error:
            raise SmtpSetupError(
                f"{self._server} từ chối đăng nhập của {self.target.username} "
                f"({error.code} {error.message}): kiểm tra {LOGIN}"
            ) from error

    async def send(self, message: Outgoing) -> None:
        await self._connect()
        try:
            errors, _ = await self._client.sendmail(
                message.sender, [message.recipient], message.data
            )
        except aiosmtplib.SMTPSenderRefused as error:
            if error.code != 530:  # RFC 3207 and 4954: encrypt or log in first
                raise
            raise SmtpSetupError(
                f"{self._server} đòi mã hóa hoặc đăng nhập trước khi nhận thư ({error.code} "
                f"{error.message}): dùng smtp+starttls:// hoặc smtps:// trong THIDUA_SMTP_URL "
                f"và đặt {LOGIN}"
            ) from error
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
    held: int = 0  # left pending, due but untried, because the run stopped early
    stopped: str | None = None  # why the run stopped early


LEASE_POLL_SECONDS = 0.5  # how often a run waiting for another's rows looks again
BREAKER_LIMIT = 3  # consecutive connection failures or timeouts that stop a run


@dataclass
class CircuitBreaker:
    """Counts consecutive connection failures and timeouts; any reply from the server resets
    the count. Open at `limit`: every further message would only wait for its timeout. Open at
    once on a SmtpSetupError: every further message would fail the same way."""

    limit: int = BREAKER_LIMIT
    failures: int = 0
    last_error: str = ""
    setup: str | None = None  # what the settings must fix

    def record(self, error: Exception | None) -> None:
        if isinstance(error, SmtpSetupError):
            self.setup = str(error)
        elif isinstance(error, (ConnectionError, TimeoutError)):
            self.failures += 1
            self.last_error = classify(error)[1]
        elif error is None or isinstance(error, aiosmtplib.SMTPException):
            self.failures = 0

    @property
    def open(self) -> bool:
        return self.setup is not None or self.failures >= self.limit

    def reason(self) -> str:
        if self.setup:
            return f"Tạm dừng gửi: {self.setup}; thư vẫn chờ, được gửi ở lượt gửi sau khi khắc phục"
        return (
            f"Tạm dừng gửi: máy chủ SMTP không kết nối được hoặc không trả lời "
            f"{self.failures} lần liên tiếp (lỗi cuối: {self.last_error}); "
            "thư sẽ được gửi lại ở lượt gửi sau"
        )


async def drain(
    engine: Engine,
    transports: list[Transport],
    *,
    sender: str,
    reply_to: str | None = None,
    files: Path | None = None,
    now=lambda: datetime.now(UTC),
    batch: int = 200,
    lease: timedelta = outbox.LEASE,
    wait_for_leases: bool = False,
) -> SendReport:
    """Send every sendable outbox row, one worker per transport (bounded concurrency);
    attachments are read from the file store `files`. With `wait_for_leases`, rows other runs
    hold are waited for once, at most one `lease`: those of a run that died go out with this
    one (without it, the next run after their lease ends sends them)."""
    report = SendReport()
    claims = outbox.Claims(lease)
    breaker = CircuitBreaker()
    parts: dict[tuple[str, str], MIMEApplication] = {}  # attachments, encoded once per run

    def take() -> list[OutboxMessage]:
        with session_scope(engine) as session:
            return outbox.claim(session, as_of=now(), limit=batch, lease=lease)

    def renew(asked: dict[int, int]) -> set[int]:
        with engine.begin() as connection:
            return outbox.renew(connection, asked, as_of=now(), lease=lease)

    def lease_end() -> datetime | None:
        with session_scope(engine) as session:
            return outbox.lease_end(session)

    def hold_back(reason: str) -> int:
        with engine.begin() as connection:
            return outbox.hold_back(connection, dict(claims.rows), reason, as_of=now())

    def record(row: OutboxMessage, error: Exception | None) -> str | None:
        """Which count of the report the row adds to (None: another run has it now)."""
        with engine.begin() as connection:  # its own short transaction, right after the send
            if error is None:
                outbox.mark_sent(connection, row.id, at=now())
                return "sent"
            permanent, text = classify(error)
            if not outbox.mark_failed(connection, row, text, permanent=permanent, at=now()):
                return None
            return "failed" if permanent or row.attempts >= outbox.MAX_ATTEMPTS else "retried"

    async def in_thread(step, *args):  # a bookkeeping step, retried if its connection drops
        return await anyio.to_thread.run_sync(outbox.retrying, functools.partial(step, *args))

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 4)
            asked, since = dict(claims.rows), time.monotonic()
            if not asked:
                continue
            try:
                kept = await anyio.to_thread.run_sync(renew, asked)
            except (OperationalError, InterfaceError) as error:  # the next beat tries again
                log.warning("outbox: lease not renewed: %s", error)
                continue
            claims.renewed(asked, kept, since)

    async def worker(transport: Transport, queue: asyncio.Queue) -> None:
        while not queue.empty() and not breaker.open:
            row = queue.get_nowait()
            if not claims.holds(row.id):
                continue  # another run took it over, or the lease could not be renewed
            error = None
            try:
                await transport.send(
                    build_email(
                        row,
                        sender=sender,
                        reply_to=reply_to,
                        files=files,
                        parts=parts,
                        written_at=now(),
                    )
                )
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
                await transport.close()  # a fresh connection for the next message
                error = failure
            breaker.record(error)
            if isinstance(error, SmtpSetupError):
                continue  # not the message's fault: it waits with the others, its try not counted
            outcome = await in_thread(record, row, error)
            claims.rows.pop(row.id, None)
            if outcome:
                setattr(report, outcome, getattr(report, outcome) + 1)

    async def send(rows: list[OutboxMessage]) -> None:
        queue: asyncio.Queue = asyncio.Queue()
        for row in rows:
            queue.put_nowait(row)
        workers = [asyncio.create_task(worker(transport, queue)) for transport in transports]
        try:
            await asyncio.gather(*workers)
        finally:  # a failed worker stops the others: their rows wait for the lease to end
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def wait_for_other_runs() -> bool:
        """Until the rows another run is sending are sent or their lease ends (polled: a run
        that finishes in a second does not keep this one a minute); False if there are none."""
        end = await in_thread(lease_end)
        if end is None:
            return False
        until = time.monotonic() + min((end - now()).total_seconds(), lease.total_seconds())
        while end is not None and time.monotonic() < until:
            await asyncio.sleep(min(LEASE_POLL_SECONDS, max(until - time.monotonic(), 0)) + 0.05)
            end = await in_thread(lease_end)
        return True

    beating = asyncio.create_task(heartbeat())
    try:
        waited = False
        while not breaker.open:
            since = time.monotonic()
            rows = await in_thread(take)
            if not rows:
                if waited or not wait_for_leases or not await wait_for_other_runs():
                    break
                waited = True
                continue
            claims.hold(rows, since)
            await send(rows)
            if claims.rows and not breaker.open:
                break  # the lease could not be renewed: what is left lapses to the next run
        if breaker.open:
            report.stopped = breaker.reason()
            report.held = await in_thread(hold_back, report.stopped)
    finally:
        beating.cancel()
        await asyncio.wait([beating])
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


async def password_from_block(name: str) -> str:
    """The SMTP password kept in the Prefect Secret block `name` (THIDUA_SMTP_PASSWORD_BLOCK)."""
    from prefect.blocks.system import Secret  # imported only when a block holds the password

    return (await Secret.aload(name)).get()


async def send_outbox(
    engine: Engine, settings: Settings, *, wait_for_leases: bool = False
) -> SendReport:
    """Send the outbox as configured (the password from the settings or their Secret block); a
    scheduled mail run sets `wait_for_leases` (see `drain`), a receipt sent after a submission
    does not wait."""
    password = None
    if settings.smtp_url and settings.smtp_password_block:
        password = await password_from_block(settings.smtp_password_block)
    transports = transports_for(settings, password=password)
    return await drain(
        engine,
        transports,
        sender=settings.mail_from,
        reply_to=settings.mail_reply_to,
        files=settings.files_dir,
        wait_for_leases=wait_for_leases,
    )
