"""A letter from the secretariat to all units or some (thư của Văn phòng khối: a meeting
invitation, a notice): checked, rendered in the look of the bloc's other emails for each unit
("Kính gửi: …", the secretariat's signature), and queued in the outbox to each unit's focal-point
addresses, so the normal sender delivers it.

The send form carries a code made when the letter was previewed, and the outbox key holds it:
a double click or a replayed form queues nothing twice.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models.tables import AuditEvent, Bloc, Contact, Unit, YearPlan
from notifications.outbox import Draft, enqueue
from notifications.render import Rendered, render

MAX_TITLE = 200
MAX_BODY = 10_000
CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class LetterRefused(ValueError):
    """The letter cannot be sent as written; `errors` says why, one Vietnamese message each."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Letter:
    title: str
    body: str
    units: list[Unit]  # the chosen member units
    everyone: bool  # "to all units": the letter names no unit in its audit


@dataclass(frozen=True)
class Mailing:
    """The letter's drafts (one per address) and the chosen units with no address to write to."""

    drafts: list[Draft]
    without_address: list[str]


def read_letter(fields: dict[str, str], units: list[Unit]) -> Letter:
    """The letter a form describes: `title`, `body`, `to` ("all" or "some", then a `u:CODE`
    field per chosen unit); `LetterRefused` when something is missing or too long."""
    title = " ".join(fields.get("title", "").split())
    body = fields.get("body", "").replace("\r\n", "\n").strip()
    to = fields.get("to")
    chosen = [u for u in units if to == "all" or (to == "some" and fields.get(f"u:{u.code}"))]
    errors = []
    if not title:
        errors.append("Tiêu đề: hãy nhập tiêu đề thư.")
    elif len(title) > MAX_TITLE:
        errors.append(f"Tiêu đề: dài quá {MAX_TITLE} ký tự (đang có {len(title)}).")
    if not body:
        errors.append("Nội dung: hãy nhập nội dung thư.")
    elif len(body) > MAX_BODY:
        errors.append(
            f"Nội dung: dài quá {MAX_BODY:,} ký tự (đang có {len(body):,}).".replace(",", ".")
        )
    if not chosen:
        errors.append("Gửi đến: hãy chọn “Mọi đơn vị” hoặc đánh dấu ít nhất một đơn vị.")
    if errors:
        raise LetterRefused(errors)
    return Letter(title, body, chosen, to == "all")


def mailing(session: Session, *, plan: YearPlan, letter: Letter, code: str) -> Mailing:
    """The letter rendered for each chosen unit, one draft per focal-point address (keyed by
    `code`, the letter's one-time code); `LetterRefused` if no chosen unit has an address."""
    bloc = session.get(Bloc, plan.bloc_id)
    secretariat = session.get(Contact, plan.secretariat_contact_id)
    ids = [u.id for u in letter.units]
    focal = session.exec(
        select(Contact).where(Contact.unit_id.in_(ids), Contact.role == "focal_point")
    ).all()
    addresses = {c.unit_id: c.emails for c in focal}
    context = {
        "year": plan.year,
        "title": letter.title,
        "paragraphs": [p.strip().split("\n") for p in re.split(r"\n\s*\n", letter.body)],
        "bloc": {"name": bloc.name},
        "secretariat": {
            "name": secretariat.name,
            "title": secretariat.title,
            "phone": secretariat.phone,
            "email": secretariat.emails[0] if secretariat.emails else None,
        },
        "links": None,
    }
    drafts = []
    for unit in letter.units:
        if not addresses.get(unit.id):
            continue
        message = render("letter", {**context, "addressee": unit.name})
        drafts.extend(
            Draft(
                key=f"letter:{code}:{unit.id}:{email}",
                recipient=email,
                stage="letter",
                message=message,
                plan_id=plan.id,
                unit_id=unit.id,
            )
            for email in dict.fromkeys(addresses[unit.id])
        )
    if not drafts:
        raise LetterRefused(["Gửi đến: không đơn vị nào được chọn có địa chỉ email đầu mối."])
    missing = [u.name for u in letter.units if not addresses.get(u.id)]
    return Mailing(drafts, missing)


def preview(mail: Mailing) -> Rendered:
    """The letter as the first unit receives it (the others differ only in "Kính gửi")."""
    return mail.drafts[0].message


def send_letter(
    session: Session,
    *,
    plan: YearPlan,
    letter: Letter,
    code: str,
    actor: str,
    at: datetime,
    domain: str,
) -> int:
    """Queue the letter (audited under `actor`); returns how many emails were queued, 0 when
    this code's letter was queued already (a replayed form)."""
    if not CODE.fullmatch(code):
        raise LetterRefused(["Biểu mẫu thiếu mã lần gửi: hãy bấm “Xem trước” rồi gửi lại."])
    mail = mailing(session, plan=plan, letter=letter, code=code)
    stored = enqueue(session, mail.drafts, domain=domain, as_of=at)
    if stored:
        session.add(
            AuditEvent(
                at=at,
                actor=actor,
                action="letter",
                entity="OutboxMessage",
                key=f"letter:{code}",
                plan_id=plan.id,
                details={
                    "title": letter.title,
                    "units": "*" if letter.everyone else [u.code for u in letter.units],
                    "emails": stored,
                },
            )
        )
    return stored
