"""The mailer against crashes and bad servers: a killed run, a killed database connection, an
SMTP server that never answers, a malformed THIDUA_SMTP_URL. Real processes, sockets, servers."""

import asyncio
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from config.settings import Settings
from domain.dates import TZ
from models.db import session_scope
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import OutboxMessage, YearPlan
from notifications.drafts import digest_drafts
from notifications.mailer import BREAKER_LIMIT, SmtpTransport, drain, transports_for
from notifications.outbox import Draft, enqueue
from notifications.render import Rendered
from notifications.smtp_url import SmtpUrlError, parse_smtp_url
from notifications.state import plan_state
from tests.conftest import EXAMPLE_PLAN, PG_ADMIN_URL, ROOT, RecordingHandler, free_port

SENDER = "Khối thi đua VHXH <no-reply@thidua.example.gov.vn>"
MONDAY = datetime(2020, 2, 24, 8, 0, tzinfo=TZ)
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE)


class SlowHandler(RecordingHandler):
    """Takes `delay` seconds over each message (a slow relay), then accepts it."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self) -> list[str]:
        return [MESSAGE_ID.search(raw).group(1).decode() for raw in self.accepted]


@contextmanager
def smtp(handler) -> Iterator[str]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@contextmanager
def silent_server(*, greet: bool) -> Iterator[tuple[str, list[socket.socket]]]:
    """A real socket that accepts connections and never answers (after a greeting, if `greet`)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            if greet:
                connection.sendall(b"220 mail.example.gov.vn ESMTP\r\n")
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()
        for connection in accepted:
            connection.close()


def _enqueue(db, count: int, *, plan_id: int | None = None, as_of: datetime = MONDAY) -> None:
    message = Rendered("[Thi đua 2020] Nhắc hạn", "Kính gửi: Sở Y tế\n", "<p>Kính gửi</p>")
    drafts = [
        Draft(
            key=f"fault:{i}",
            recipient=f"unit{i}@example.gov.vn",
            stage="before-3",
            message=message,
            plan_id=plan_id,
        )
        for i in range(count)
    ]
    with session_scope(db.engine) as session:
        enqueue(session, drafts, domain="thidua.example.gov.vn", as_of=as_of)


def _rows(db) -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _drain(db, url: str, connections: int, **options):
    transports = [SmtpTransport(parse_smtp_url(url)) for _ in range(connections)]
    return asyncio.run(drain(db.engine, transports, sender=SENDER, **options))


def _wait_until(condition: Callable[[], bool], seconds: float) -> None:
    limit = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < limit, "timed out waiting"
        time.sleep(0.01)


# --- A sending run killed mid-way ----------------------------------------------------------

SENDING_RUN = """
import asyncio, sys
from datetime import timedelta
from models.db import make_engine
from notifications.mailer import SmtpTransport, drain
from notifications.smtp_url import parse_smtp_url
database, url, connections, lease = sys.argv[1:]
engine = make_engine(database)
transports = [SmtpTransport(parse_smtp_url(url)) for _ in range(int(connections))]
lease = timedelta(seconds=float(lease))
asyncio.run(drain(engine, transports, sender="no-reply@thidua.example.gov.vn", lease=lease))
"""


def test_a_killed_runs_rows_go_out_one_lease_later_repeating_at_most_its_messages_in_flight(db):
    rows, connections, lease = 60, 3, 1.5
    _enqueue(db, rows, as_of=datetime.now(UTC))
    handler = SlowHandler(delay=0.05)
    with smtp(handler) as url:
        run = [sys.executable, "-c", SENDING_RUN, db.url, url, str(connections), str(lease)]
        process = subprocess.Popen(run, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:  # Python's start-up takes seconds on a busy machine
            _wait_until(
                lambda: len(handler.accepted) >= rows // 4 or process.poll() is not None, 300
            )
        finally:
            process.send_signal(signal.SIGKILL)
            _, errors = process.communicate()
        assert process.returncode == -signal.SIGKILL, errors
        killed = time.monotonic()
        sent_before = sum(row.status == "sent" for row in _rows(db))
        report = _drain(db, url, connections, lease=timedelta(seconds=lease), wait_for_leases=True)
        elapsed = time.monotonic() - killed
    ids = handler.message_ids()
    assert all(row.status == "sent" for row in _rows(db))
    assert set(ids) == {row.message_id for row in _rows(db)}  # nothing lost
    assert len(ids) - len(set(ids)) <= connections  # only the messages in flight repeat
    assert report.sent == rows - sent_before  # the new run sent what the killed one held
    assert elapsed < lease + 5  # the killed run's lease, then the rest at the relay's pace


def test_two_live_runs_never_send_the_same_row_though_each_outlives_its_lease(db):
    rows, lease = 40, timedelta(seconds=1)
    _enqueue(db, rows, as_of=datetime.now(UTC))
    handler = SlowHandler(delay=0.1)  # 20 rows on 2 connections: twice the lease
    with smtp(handler) as url:
        reports = []

        def run() -> None:
            reports.append(_drain(db, url, 2, lease=lease, batch=rows // 2))

        started = time.monotonic()
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
    ids = handler.message_ids()
    assert elapsed > lease.total_seconds()  # leases had to be renewed to hold
    assert sorted(ids) == sorted(row.message_id for row in _rows(db))  # each exactly once
    assert sum(report.sent for report in reports) == rows


# --- The database connection killed mid-run -------------------------------------------------


class LockAndKill(SlowHandler):
    """On the `nth` message, holds its outbox row locked (another PostgreSQL session) so that
    the sender's `mark_sent` waits, then terminates the sender's connection mid-statement."""

    def __init__(self, database: str, nth: int):
        super().__init__(delay=0)
        self.database, self.nth, self.killed = database, nth, 0
        self.thread: threading.Thread | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.thread is None and len(self.accepted) + 1 >= self.nth:  # once only
            message_id = MESSAGE_ID.search(envelope.original_content).group(1).decode()
            locked = threading.Event()
            self.thread = threading.Thread(target=self._lock_and_kill, args=(message_id, locked))
            self.thread.start()
            locked.wait(10)
        return await super().handle_DATA(server, session, envelope)

    def _lock_and_kill(self, message_id: str, locked: threading.Event) -> None:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}"
        with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
            holder.execute(
                "SELECT id FROM outboxmessage WHERE message_id = %s FOR UPDATE", [message_id]
            )
            locked.set()
            limit = time.monotonic() + 20
            while not self.killed and time.monotonic() < limit:
                self.killed += admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = %s AND wait_event_type = 'Lock'"
                    " AND query LIKE 'UPDATE outboxmessage SET status=%%'",
                    [self.database],
                ).fetchone()[0]
                time.sleep(0.01)
            holder.rollback()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_database_connection_killed_while_recording_a_send_is_retried_and_nothing_repeats(db):
    rows = 8
    _enqueue(db, rows)
    handler = LockAndKill(db.engine.url.database, nth=3)
    with smtp(handler) as url:
        report = _drain(db, url, 2, now=lambda: MONDAY)
    handler.thread.join(timeout=30)
    assert handler.killed == 1
    assert (report.sent, report.retried, report.failed) == (rows, 0, 0)
    assert all(row.status == "sent" for row in _rows(db))
    assert sorted(handler.message_ids()) == sorted(row.message_id for row in _rows(db))


# --- An SMTP server that accepts and never answers ------------------------------------------


@pytest.mark.parametrize(
    "greet, timeouts",
    [(False, "connect_timeout=0.2&timeout=30"), (True, "connect_timeout=30&timeout=0.2")],
    ids=["silent-from-the-start", "silent-after-the-greeting"],
)
def test_a_silent_smtp_server_stops_the_run_after_a_few_timeouts_leaving_every_row_pending(
    db, greet, timeouts
):
    rows, connections = 40, 2
    _enqueue(db, rows)
    with silent_server(greet=greet) as (url, accepted):
        started = time.monotonic()
        target = parse_smtp_url(f"{url}?{timeouts}")
        transports = [SmtpTransport(target) for _ in range(connections)]
        run = drain(db.engine, transports, sender=SENDER, now=lambda: MONDAY, batch=10)
        report = asyncio.run(asyncio.wait_for(run, timeout=10))
        elapsed = time.monotonic() - started
        connections_made = len(accepted)
    # ceil(limit / connections) rounds of one 0.2 s timeout, plus the start-up of the run
    assert elapsed < 2
    tried = BREAKER_LIMIT + connections - 1  # at most: the workers in flight when it opens
    assert connections_made <= tried
    assert (report.sent, report.failed) == (0, 0)
    assert report.retried <= tried and report.held == rows - report.retried
    statuses = _rows(db)
    assert all(row.status == "pending" and row.last_error for row in statuses)
    held = [row for row in statuses if row.last_error == report.stopped]
    assert len(held) == report.held and all(row.attempts == 0 for row in held)
    assert "máy chủ SMTP không kết nối được hoặc không trả lời" in report.stopped


def _held_back(db, rows: int, *, plan_id: int | None = None):
    """`rows` emails, and a run that found the SMTP server silent."""
    _enqueue(db, rows, plan_id=plan_id)
    with silent_server(greet=False) as (url, _):
        report = _drain(db, f"{url}?connect_timeout=0.2", 2, now=lambda: MONDAY)
    assert report.held >= rows - BREAKER_LIMIT - 1
    return report


def test_mail_held_back_by_a_silent_server_is_in_the_next_digest_and_goes_out_next_run(
    db, smtp_server
):
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        plan = session.exec(select(YearPlan)).one()
        plan.state = "active"
    report = _held_back(db, 12, plan_id=plan.id)
    with session_scope(db.engine) as session:
        state = plan_state(session, plan=plan, links=Links("", b"key"))
    (digest, *_) = digest_drafts(state, MONDAY + timedelta(days=1))
    assert f"- {report.held} thư: {report.stopped}" in digest.message.text
    assert f"<li>{report.held} thư: {report.stopped}</li>" in digest.message.html
    later = _drain(db, smtp_server.url, 2, now=lambda: MONDAY + timedelta(days=1))
    assert later.sent == 12 and len(smtp_server.handler.accepted) == 12


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the listing is the same on both
def test_thidua_outbox_shows_why_held_back_mail_waits(db):
    report = _held_back(db, 8)
    listing = db.cli("outbox", "--status", "pending", check=True).stdout
    assert listing.count(f"[{report.stopped}]") == report.held


# --- A malformed THIDUA_SMTP_URL ------------------------------------------------------------

PASSWORD = "Kh0ng-Lo-Ra@2020"


@pytest.mark.parametrize(
    "url, problem",
    [
        ("smtpx://thidua:Kh0ng-Lo-Ra%402020@mail.example.gov.vn:25", "phải bắt đầu bằng smtp://"),
        ("smtp://thidua:Kh0ng-Lo-Ra@2020@mail.example.gov.vn:2x5", "cổng phải là một số"),
        ("smtp://thidua:Kh0ng-Lo-Ra%402020@mail.example.gov.vn:99999", "cổng phải là một số"),
        ("smtp://thidua:Kh0ng-Lo-Ra", "cổng phải là một số"),  # "@host" forgotten
        ("smtp://thidua:Kh0ng-Lo-Ra%402020@:587", "thiếu tên máy chủ"),
        ("smtp://thidua:Kh0ng-Lo-Ra%402020@mail.example.gov.vn?timeout=ba", "timeout phải là số"),
        ("smtp://thidua:Kh0ng-Lo-Ra%402020@mail.example.gov.vn?timout=3", "không có tham số"),
        ("smtp://thidua:Kh0ng-Lo-Ra%402020@[mail.example.gov.vn", "không phải là một địa chỉ"),
    ],
    ids=[
        "scheme",
        "port-letters",
        "port-range",
        "no-host-part",
        "no-host",
        "timeout",
        "param",
        "ipv6",
    ],
)
def test_a_malformed_smtp_url_is_refused_without_showing_its_password(url, problem):
    with pytest.raises(SmtpUrlError) as refused:
        transports_for(Settings(smtp_url=url))
    message = str(refused.value)
    assert message.startswith("THIDUA_SMTP_URL") and problem in message
    assert "Kh0ng" not in message and "2020" not in message and "%40" not in message


def test_the_smtp_target_never_shows_its_password():
    target = parse_smtp_url(f"smtp+starttls://thidua:{PASSWORD.replace('@', '%40')}@mail:587")
    assert target.password == PASSWORD and PASSWORD not in repr(target)
