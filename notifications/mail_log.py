"""The outbox as the secretariat reads it (hộp thư đi): a page of a plan's emails, newest
first, filtered by state, kind and unit; and resending one.

A resend is a new outbox row, a copy of the message keyed `resend:ID`, which the normal sender
delivers: a message is resent once however often the form comes (a double click, a replay, two
tabs); the copy is listed in its turn and can be resent itself.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from models.db import insert_or_ignore
from models.tables import AuditEvent, OutboxMessage
from notifications.outbox import message_id

PAGE_SIZE = 50
# The state filter: its address value -> (its label, the outbox statuses it shows)
STATES = {
    "da-gui": ("Đã gửi", ("sent",)),
    "cho-gui": ("Chờ gửi", ("pending", "sending")),
    "loi": ("Không gửi được", ("failed",)),
}


class ResendRefused(ValueError):
    """The message cannot be resent; the text says why."""


@dataclass(frozen=True)
class Filters:
    state: str | None = None  # a key of STATES
    stage: str | None = None
    unit_id: int | None = None


def mail_page(
    session: Session, *, plan_id: int, filters: Filters, page: int, size: int = PAGE_SIZE
) -> tuple[list[OutboxMessage], int]:
    """The page `page` (from 1) of the plan's emails that pass `filters`, newest first, and how
    many pass them in all."""
    where = [OutboxMessage.plan_id == plan_id]
    if filters.state in STATES:
        where.append(OutboxMessage.status.in_(STATES[filters.state][1]))
    if filters.stage:
        where.append(OutboxMessage.stage == filters.stage)
    if filters.unit_id is not None:
        where.append(OutboxMessage.unit_id == filters.unit_id)
    total = session.exec(select(func.count()).select_from(OutboxMessage).where(*where)).one()
    rows = session.exec(
        select(OutboxMessage)
        .where(*where)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return list(rows), total


def plan_stages(session: Session, *, plan_id: int) -> list[str]:
    """The kinds (stages) of email the plan has sent or queued."""
    query = select(OutboxMessage.stage).where(OutboxMessage.plan_id == plan_id).distinct()
    return sorted(session.exec(query).all())


def resent(session: Session, ids: list[int]) -> set[int]:
    """Which of the messages `ids` have been resent already."""
    keys = [f"resend:{i}" for i in ids]
    query = select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))
    return {int(key.removeprefix("resend:")) for key in session.exec(query).all()}


def resend(
    session: Session, *, plan_id: int, message: int, actor: str, at: datetime, domain: str
) -> bool:
    """Queue a copy of the plan's sent or failed message `message` (audited under `actor`);
    False when it was resent already. `ResendRefused` when there is nothing to resend."""
    row = session.get(OutboxMessage, message)
    if row is None or row.plan_id != plan_id:
        raise ResendRefused("Không có thư này trong hộp thư đi của kế hoạch.")
    if row.status not in ("sent", "failed"):
        raise ResendRefused(
            f"Thư gửi {row.recipient} đang chờ gửi: hệ thống sẽ tự gửi, không cần gửi lại."
        )
    key = f"resend:{row.id}"
    copy = {
        "key": key,
        "plan_id": row.plan_id,
        "unit_id": row.unit_id,
        "deadline_id": row.deadline_id,
        "stage": row.stage,
        "recipient": row.recipient,
        "subject": row.subject,
        "text": row.text,
        "html": row.html,
        "message_id": message_id(f"message:{key}", domain),
        "thread_id": row.thread_id,
        "in_reply_to": row.in_reply_to,
        "attachments": row.attachments,
        "status": "pending",
        "attempts": 0,
        "created_at": at,
    }
    if not insert_or_ignore(session, OutboxMessage, [copy], ["key"]):
        return False
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action="resend",
            entity="OutboxMessage",
            key=key,
            plan_id=plan_id,
            details={"message": row.id, "recipient": row.recipient, "subject": row.subject},
        )
    )
    return True
