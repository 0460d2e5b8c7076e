"""Private links: one unguessable, rotatable token per unit and purpose (calendar, portal).

A token is HMAC-SHA256(secret key, purpose:unit:generation), so the server can put it in every
email without storing it; the database keeps only its SHA-256, for lookup. Rotating revokes
the current generation: its URL stops answering at once.
"""

import base64
import hashlib
import hmac
from datetime import datetime

from sqlmodel import Session, select

from models.db import insert_or_ignore
from models.tables import AccessToken, utcnow

PURPOSES = ("calendar", "portal")


class SecretKeyChanged(RuntimeError):
    """Stored tokens were made with another secret key; links must be rotated."""


_KEY_CHANGED = (
    "khóa bí mật của máy chủ đã thay đổi: các đường dẫn riêng cũ không còn dùng được, "
    "hãy cấp lại bằng `thidua calendar rotate`"
)


def _derive(key: bytes, unit_id: int, purpose: str, generation: int) -> str:
    digest = hmac.new(key, f"{purpose}:{unit_id}:{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current(session: Session, unit_id: int, purpose: str) -> AccessToken | None:
    query = select(AccessToken).where(
        AccessToken.unit_id == unit_id,
        AccessToken.purpose == purpose,
        AccessToken.revoked_at.is_(None),
    )
    return session.exec(query.order_by(AccessToken.generation.desc())).first()


def _issue(session: Session, key: bytes, unit_id: int, purpose: str, generation: int) -> str:
    # Derived, not random: two processes issuing the same generation at once make the same
    # token, and the insert lets the second one pass.
    token = _derive(key, unit_id, purpose, generation)
    row = {
        "unit_id": unit_id,
        "purpose": purpose,
        "generation": generation,
        "token_sha256": _sha256(token),
        "created_at": utcnow(),
    }
    insert_or_ignore(session, AccessToken, [row], ["unit_id", "purpose", "generation"])
    return token


def current_token(session: Session, *, key: bytes, unit_id: int, purpose: str) -> str:
    """The unit's live token for `purpose`, issuing the first one if there is none."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    row = _current(session, unit_id, purpose)
    if row is None:
        return _issue(session, key, unit_id, purpose, 1)
    token = _derive(key, unit_id, purpose, row.generation)
    if not hmac.compare_digest(_sha256(token), row.token_sha256):
        raise SecretKeyChanged(_KEY_CHANGED)
    return token


def rotate_token(
    session: Session, *, key: bytes, unit_id: int, purpose: str, as_of: datetime
) -> str:
    """Revoke the unit's live token for `purpose` and issue the next generation."""
    row = _current(session, unit_id, purpose)
    generation = 1
    if row is not None:
        row.revoked_at = as_of
        generation = row.generation + 1
        session.add(row)
    return _issue(session, key, unit_id, purpose, generation)


def unit_for_token(session: Session, *, token: str, purpose: str) -> int | None:
    """The unit a live token belongs to, or None (unknown, revoked or for another purpose)."""
    query = select(AccessToken.unit_id).where(
        AccessToken.token_sha256 == _sha256(token),
        AccessToken.purpose == purpose,
        AccessToken.revoked_at.is_(None),
    )
    return session.exec(query).first()


def current_tokens(
    session: Session, *, key: bytes, unit_ids: list[int], purpose: str
) -> dict[int, str]:
    """`current_token` for many units in one query (issuing the missing ones)."""
    rows = session.exec(
        select(AccessToken)
        .where(
            AccessToken.unit_id.in_(unit_ids),
            AccessToken.purpose == purpose,
            AccessToken.revoked_at.is_(None),
        )
        .order_by(AccessToken.generation)
    ).all()
    live = {row.unit_id: row for row in rows}  # the highest generation wins
    tokens = {}
    for unit_id in unit_ids:
        row = live.get(unit_id)
        if row is None:
            tokens[unit_id] = _issue(session, key, unit_id, purpose, 1)
            continue
        token = _derive(key, unit_id, purpose, row.generation)
        if not hmac.compare_digest(_sha256(token), row.token_sha256):
            raise SecretKeyChanged(_KEY_CHANGED)
        tokens[unit_id] = token
    return tokens
