"""The outbox: every email is a row before it is a message.

`enqueue` is called inside the transaction that decided to send; the row's `key` (unit,
deadline, stage, recipient, ...) is unique, so deciding twice, or two runs deciding at once,
stores one row. `claim` hands rows to one sender at a time under a lease; a sender that dies
leaves its rows to be claimed again when the lease ends.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, update
from sqlmodel import Session, select

from models.db import insert_or_ignore
from models.tables import OutboxMessage
from notifications.render import Rendered

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


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


def claim(session: Session, *, as_of: datetime, limit: int) -> list[OutboxMessage]:
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
        .values(status="sending", lease_until=as_of + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement).all())


def mark_sent(connection: Connection, message_id: int, *, at: datetime) -> None:
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=at, lease_until=None, last_error=None)
    )


def mark_failed(
    connection: Connection, row: OutboxMessage, error: str, *, permanent: bool, at: datetime
) -> None:
    """A 5xx (or too many attempts) ends the row; anything else is retried after a backoff."""
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
    connection.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
