"""The secretariat's accounts: passwords (argon2), server-side sessions and failed sign-ins.

A session's cookie carries a random token; the database keeps only its SHA-256, so a copy of
the database does not sign anyone in. Setting a password ends every session of the account;
removing the account ends them too and it never signs in again (its row and audit history stay).
"""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlmodel import Session, delete, func, select

from domain.sign_in import FORGET_AFTER_SECONDS, delay_after
from models.db import insert_or_ignore
from models.tables import AuditEvent, SignInFailures, StaffAccount, StaffSession

if TYPE_CHECKING:
    from argon2 import PasswordHasher

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # longer is refused before hashing


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why, in Vietnamese."""


@lru_cache
def _hasher() -> "PasswordHasher":
    from argon2 import PasswordHasher  # only where passwords are hashed

    return PasswordHasher()


@lru_cache
def _decoy_hash() -> str:
    """A hash to verify against for an unknown name, so that it takes as long as a known one."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_name(name: str) -> str:
    """`name` if it can name an account: 1-64 lowercase letters, digits, '.', '_', '-'."""
    if not NAME.fullmatch(name):
        raise AccountError(
            f"tên tài khoản “{name[:64]}” không hợp lệ: dùng 1–64 ký tự chữ thường không dấu, "
            "chữ số, dấu chấm, gạch dưới hoặc gạch ngang"
        )
    return name


def check_password(password: str) -> str:
    """`password` if it is long enough and not too long to hash."""
    if len(password.strip()) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise AccountError(f"mật khẩu phải dài từ {MIN_PASSWORD} đến {MAX_PASSWORD} ký tự")
    return password


def audit(session: Session, *, actor: str, action: str, name: str, at: datetime, **details):
    session.add(
        AuditEvent(
            at=at, actor=actor, action=action, entity="StaffAccount", key=name, details=details
        )
    )


def find_account(session: Session, name: str) -> StaffAccount | None:
    return session.exec(select(StaffAccount).where(StaffAccount.name == name)).one_or_none()


def add_account(
    session: Session, *, name: str, password: str, actor: str, at: datetime
) -> StaffAccount:
    """A new account `name` with `password`; refused if the name is taken."""
    check_name(name)
    existing = find_account(session, name)
    if existing is not None and existing.removed_at is not None:
        raise AccountError(f"tài khoản “{name}” đã bị gỡ: hãy dùng một tên khác")
    if existing is not None:
        raise AccountError(f"tài khoản “{name}” đã có: đổi mật khẩu bằng `thidua admin password`")
    account = StaffAccount(
        name=name,
        password_hash=_hasher().hash(check_password(password)),
        created_at=at,
        password_set_at=at,
    )
    session.add(account)
    audit(session, actor=actor, action="staff.added", name=name, at=at)
    session.flush()
    return account


def set_password(session: Session, *, name: str, password: str, actor: str, at: datetime) -> int:
    """Give account `name` a new password and end its sessions; returns how many ended."""
    account = live_account(session, name)
    account.password_hash = _hasher().hash(check_password(password))
    account.password_set_at = at
    session.add(account)
    ended = session.exec(delete(StaffSession).where(StaffSession.account_id == account.id))
    audit(session, actor=actor, action="staff.password_set", name=name, at=at)
    session.flush()
    return ended.rowcount


def live_account(session: Session, name: str) -> StaffAccount:
    """The account `name`, refused (`AccountError`) when there is none or it was removed."""
    account = find_account(session, name)
    if account is None:
        raise AccountError(f"không có tài khoản “{name}”: tạo bằng `thidua admin add {name}`")
    if account.removed_at is not None:
        raise AccountError(f"tài khoản “{name}” đã bị gỡ")
    return account


def remove_account(session: Session, *, name: str, actor: str, at: datetime) -> int:
    """Remove account `name`: it can no longer sign in and its sessions end at once; its row
    stays, so its name in the audit log still names it. Returns how many sessions ended."""
    account = live_account(session, name)
    account.removed_at = at
    session.add(account)
    ended = session.exec(delete(StaffSession).where(StaffSession.account_id == account.id))
    audit(
        session,
        actor=actor,
        action="staff.removed",
        name=name,
        at=at,
        sessions_ended=ended.rowcount,
    )
    session.flush()
    return ended.rowcount


@dataclass(frozen=True)
class AccountRow:
    name: str
    created_at: datetime
    last_sign_in: datetime | None  # from the audit log
    removed_at: datetime | None


def list_accounts(session: Session) -> list[AccountRow]:
    """Every account by name, with its last sign-in (two queries)."""
    last = dict(
        session.exec(
            select(AuditEvent.key, func.max(AuditEvent.at))
            .where(AuditEvent.action == "staff.signed_in", AuditEvent.entity == "StaffAccount")
            .group_by(AuditEvent.key)
        ).all()
    )
    return [
        AccountRow(a.name, a.created_at, last.get(a.name), a.removed_at)
        for a in session.exec(select(StaffAccount).order_by(StaffAccount.name)).all()
    ]


def lookup(session: Session, name: str) -> StaffAccount | None:
    """The account a sign-in names, or None (a name no account could have included, or a
    removed account)."""
    account = find_account(session, name) if NAME.fullmatch(name) else None
    return account if account is not None and account.removed_at is None else None


def password_matches(account: StaffAccount | None, password: str) -> bool:
    """Whether `password` is the account's (outside any transaction: hashing takes a while);
    an unknown account (None) costs the same hashing time and never matches."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if len(password) > MAX_PASSWORD:
        return False
    try:
        _hasher().verify(account.password_hash if account else _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return account is not None


def fresh_hash(account: StaffAccount, password: str) -> str | None:
    """A new hash of the right `password` when the stored one used older parameters."""
    if _hasher().check_needs_rehash(account.password_hash):
        return _hasher().hash(password)
    return None


def store_hash(session: Session, *, account: StaffAccount, password_hash: str) -> None:
    """Keep a rehashed password (same password, current parameters)."""
    row = session.get(StaffAccount, account.id)
    row.password_hash = password_hash
    session.add(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, *, account: StaffAccount, at: datetime, lifetime: timedelta
) -> str:
    """A new session of `account` until `at + lifetime`; returns the token for the cookie.
    The account's expired sessions are removed on the way."""
    session.exec(
        delete(StaffSession).where(
            StaffSession.account_id == account.id, StaffSession.expires_at <= at
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            account_id=account.id,
            token_sha256=_digest(token),
            created_at=at,
            expires_at=at + lifetime,
        )
    )
    session.flush()
    return token


def session_account(session: Session, *, token: str, at: datetime) -> StaffAccount | None:
    """The account signed in with `token`, unless the session ended or expired."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(StaffSession).where(StaffSession.token_sha256 == _digest(token))
    ).one_or_none()
    if row is None or row.expires_at <= at:
        return None
    account = session.get(StaffAccount, row.account_id)
    return account if account.removed_at is None else None


def close_session(session: Session, *, token: str) -> None:
    """End the session of `token` (signing out)."""
    session.exec(delete(StaffSession).where(StaffSession.token_sha256 == _digest(token)))


def _wait(session: Session, keys: list[str], at: datetime, *, lock: bool = False) -> int:
    query = select(SignInFailures.locked_until).where(
        SignInFailures.key.in_(keys), SignInFailures.locked_until > at
    )
    locks = session.exec(query.with_for_update() if lock else query).all()
    return max((math.ceil((until - at).total_seconds()) for until in locks), default=0)


def reserve_attempt(session: Session, *, keys: dict[str, int], at: datetime) -> int:
    """Count a sign-in attempt as failed under each key (its free tries as the value), before
    the password is checked, so that attempts in parallel cannot share one allowance. Returns
    the seconds left to wait instead (counting nothing) when a key is still locked."""
    wait = _wait(session, list(keys), at)
    if wait:
        return wait
    forget = at - timedelta(seconds=FORGET_AFTER_SECONDS)
    session.exec(delete(SignInFailures).where(SignInFailures.last_failure_at < forget))
    rows = [{"key": key, "failures": 0, "last_failure_at": at} for key in sorted(keys)]
    insert_or_ignore(session, SignInFailures, rows, ["key"])
    wait = _wait(session, sorted(keys), at, lock=True)  # a parallel attempt may have won
    if wait:
        return wait
    for key, free in keys.items():
        row = session.exec(select(SignInFailures).where(SignInFailures.key == key)).one()
        _count(row, row.failures + 1, free, at)
        session.add(row)
    session.flush()
    return 0


def release_attempt(
    session: Session, *, account_key: str, address_key: str, free: int, at: datetime
) -> None:
    """The attempt signed in: the account's count starts again and the address's attempt
    is no longer counted."""
    session.exec(delete(SignInFailures).where(SignInFailures.key == account_key))
    row = session.exec(
        select(SignInFailures).where(SignInFailures.key == address_key).with_for_update()
    ).one_or_none()
    if row is not None:
        _count(row, max(row.failures - 1, 0), free, at)
        session.add(row)


def _count(row: SignInFailures, failures: int, free: int, at: datetime) -> None:
    row.failures, row.last_failure_at = failures, at
    row.locked_until = at + timedelta(seconds=delay_after(failures, free=free))
