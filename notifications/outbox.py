"""The outbox: every email is a row before it is a message.

`enqueue` is called inside the transaction that decided to send; the row's `key` (unit,
deadline, stage, recipient, ...) is unique, so deciding twice, or two runs deciding at once,
stores one row. `claim` hands rows to one sender at a time under a short lease, which the
sender `renew`s while it lives; a sender that dies leaves its rows to be claimed again when the
lease ends, a minute later. A row's `attempts` is the fencing token: each claim raises it, so a
sender that lost a row (its lease lapsed and another sender took it) can no longer renew, fail
or hold back that row.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, and_, func, or_, tuple_, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, select

from models.db import insert_or_ignore
from models.tables import OutboxMessage
from notifications.render import Rendered

LEASE = timedelta(minutes=1)  # renewed every quarter of it while the sender lives
MAX_ATTEMPTS = 8
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds between tries of a bookkeeping step
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    key: str
    recipient: str
    stage: str
    message: Rendered
    thread: str | None = None  # messages with the same thread are threaded in mail clients
    plan_id: int | None = None
    unit_id: int | None = None
    deadline_id: int | None = None
    attachments: tuple[tuple[str, str], ...] = ()  # (file name, SHA-256 in the file store)


def message_id(seed: str, domain: str) -> str:
    """A short, stable Message-ID (long ones get RFC 2047-mangled by CPython < 3.13.x)."""
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:24]}@{domain}>"


def enqueue(session: Session, drafts: list[Draft], *, domain: str, as_of: datetime) -> int:
    """Store `drafts` whose key is new; returns how many were stored."""
    roots = {
        draft.thread: message_id(f"thread:{draft.thread}", domain)
        for draft in drafts
        if draft.thread
    }
    latest: dict[tuple[str, str], str] = {}  # (thread root, recipient) -> last Message-ID
    if roots:
        query = (
            select(OutboxMessage.thread_id, OutboxMessage.recipient, OutboxMessage.message_id)
            .where(OutboxMessage.thread_id.in_(set(roots.values())))
            .order_by(OutboxMessage.id)
        )
        latest = {(root, recipient): mid for root, recipient, mid in session.exec(query).all()}
    rows = {}
    for draft in drafts:
        root = roots.get(draft.thread)
        rows.setdefault(
            draft.key,
            {
                "key": draft.key,
                "plan_id": draft.plan_id,
                "unit_id": draft.unit_id,
                "deadline_id": draft.deadline_id,
                "stage": draft.stage,
                "recipient": draft.recipient,
                "subject": draft.message.subject,
                "text": draft.message.text,
                "html": draft.message.html,
                "message_id": message_id(f"message:{draft.key}", domain),
                "thread_id": root,
                "in_reply_to": latest.get((root, draft.recipient), root),
                "attachments": [{"name": n, "sha256": d} for n, d in draft.attachments],
                "status": "pending",
                "attempts": 0,
                "created_at": as_of,
            },
        )
    return insert_or_ignore(session, OutboxMessage, list(rows.values()), ["key"])


def claim(
    session: Session, *, as_of: datetime, limit: int, lease: timedelta = LEASE
) -> list[OutboxMessage]:
    """Take up to `limit` sendable rows for this sender (pending and due, or with a lapsed lease)."""
    ready = or_(
        and_(
            OutboxMessage.status == "pending",
            or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= as_of),
        ),
        and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < as_of),
    )
    candidates = select(OutboxMessage.id).where(ready).order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), ready)
        .values(status="sending", lease_until=as_of + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement).all())


def _held(claims: dict[int, int]):
    """The rows still being sent under these claims (row id -> `attempts` when claimed)."""
    return and_(
        OutboxMessage.status == "sending",
        tuple_(OutboxMessage.id, OutboxMessage.attempts).in_(list(claims.items())),
    )


def renew(
    connection: Connection, claims: dict[int, int], *, as_of: datetime, lease: timedelta = LEASE
) -> set[int]:
    """Extend the lease of the claimed rows this sender still holds; returns their ids (a row
    already finished, or taken over by another sender, is not among them)."""
    if not claims:
        return set()
    statement = (
        update(OutboxMessage)
        .where(_held(claims))
        .values(lease_until=as_of + lease)
        .returning(OutboxMessage.id)
    )
    return set(connection.scalars(statement).all())


def hold_back(
    connection: Connection, claims: dict[int, int], reason: str, *, as_of: datetime
) -> int:
    """Give back the claimed rows never tried (pending again at once, their attempt not
    counted), and note `reason` on every row now due: why it waits. Returns how many wait."""
    if claims:
        connection.execute(
            update(OutboxMessage)
            .where(_held(claims))
            .values(status="pending", lease_until=None, attempts=OutboxMessage.attempts - 1)
        )
    due = and_(
        OutboxMessage.status == "pending",
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= as_of),
    )
    statement = update(OutboxMessage).where(due).values(last_error=reason)
    return connection.execute(statement).rowcount


def live_keys(session: Session, *, plan_id: int, prefix: str) -> list[str]:
    """The keys starting with `prefix` of the plan's emails that were not cancelled: which
    decisions (a reminder stage, a round's announcement) have already been taken."""
    query = select(OutboxMessage.key).where(
        OutboxMessage.plan_id == plan_id,
        OutboxMessage.key.startswith(prefix),
        OutboxMessage.status != "cancelled",
    )
    return list(session.exec(query).all())


def lease_end(session: Session) -> datetime | None:
    """When the last lease on a row being sent ends (None when no row is being sent)."""
    query = select(func.max(OutboxMessage.lease_until)).where(OutboxMessage.status == "sending")
    return session.exec(query).one()


def mark_sent(connection: Connection, message_id: int, *, at: datetime) -> None:
    """The server accepted the message: the row is marked sent whoever holds it now, so that it
    is not sent again (a repeat is harmless)."""
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=at, lease_until=None, last_error=None)
    )


def mark_failed(
    connection: Connection, row: OutboxMessage, error: str, *, permanent: bool, at: datetime
) -> bool:
    """A 5xx (or too many attempts) ends the row; anything else is retried after a backoff.
    False when the row is no longer this sender's (another one took it over)."""
    if permanent or row.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "lease_until": None, "last_error": error}
    else:
        backoff = timedelta(minutes=2 ** (row.attempts - 1))  # 1, 2, 4 ... minutes
        values = {
            "status": "pending",
            "lease_until": None,
            "not_before": at + backoff,
            "last_error": error,
        }
    statement = update(OutboxMessage).where(_held({row.id: row.attempts})).values(**values)
    return connection.execute(statement).rowcount == 1


def retrying(step: Callable[[], T]) -> T:
    """Run a short database step; when its connection drops (a restarted or killed server),
    run it again on a new one. Every step is safe to repeat."""
    for pause in RETRY_PAUSES:
        try:
            return step()
        except (OperationalError, InterfaceError) as error:
            log.warning("outbox: database step failed, retrying in %.1f s: %s", pause, error)
            time.sleep(pause)
    return step()


@dataclass
class Claims:
    """The rows this run holds (row id -> `attempts` when claimed) and, by the local clock,
    until when its lease surely holds: a row is sent only while both are true."""

    lease: timedelta
    rows: dict[int, int] = field(default_factory=dict)
    valid_until: float = 0.0  # time.monotonic()

    def hold(self, rows: list[OutboxMessage], since: float) -> None:
        self.rows.update({row.id: row.attempts for row in rows})
        self.valid_until = since + self.lease.total_seconds()

    def renewed(self, asked: dict[int, int], kept: set[int], since: float) -> None:
        for lost in asked.keys() - kept:  # finished, or taken over by another run
            self.rows.pop(lost, None)
        self.valid_until = since + self.lease.total_seconds()

    def holds(self, row_id: int) -> bool:
        return row_id in self.rows and time.monotonic() < self.valid_until
