"""Every table of thidua, in one module (SQLModel's advice against circular imports).

Instants are stored in UTC and come back timezone-aware; calendar days are plain dates.
Natural keys (codes) are unique within their parent so that loading a plan is an upsert.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant stored as UTC on every backend (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Only for record-keeping columns (created/recorded at); logic takes `as_of` instead."""
    return datetime.now(UTC)


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=JSON)


# --- The bloc and its members -----------------------------------------------------------


class Bloc(SQLModel, table=True):
    """Khối thi đua: a group of agencies that compete and are scored together."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    name: str
    province: str


class Unit(SQLModel, table=True):
    """Đơn vị: a member agency of a bloc."""

    __table_args__ = (UniqueConstraint("bloc_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    code: str = Field(max_length=64)
    name: str
    short_name: str | None = None


class Contact(SQLModel, table=True):
    """A person to write to: a unit's focal point (đầu mối), its leader, or the secretariat."""

    __table_args__ = (UniqueConstraint("unit_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=32)  # focal_point | leader | secretariat
    name: str
    title: str | None = None
    phone: str | None = None
    emails: list[str] = _json(list)


# --- The year plan ----------------------------------------------------------------------


class YearPlan(SQLModel, table=True):
    """Kế hoạch hoạt động: one bloc's plan for one year, loaded from a plan file."""

    __table_args__ = (UniqueConstraint("bloc_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    state: str = Field(default="draft", max_length=16)  # draft | active | closed
    title: str
    head_unit_id: int = Field(foreign_key="unit.id")
    deputy_unit_id: int = Field(foreign_key="unit.id")
    secretariat_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    source_number: str | None = None
    source_file: str | None = None
    deadline_rule: str = Field(default="exclusive", max_length=16)  # exclusive | inclusive
    rules: dict[str, Any] = _json()  # reminders, holidays, commendations, election
    document: dict[str, Any] = _json()  # the whole validated plan file: next year's draft
    content_sha256: str = Field(max_length=64)
    loaded_at: datetime = _instant(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A unit taking part in a year plan (members change from year to year)."""

    plan_id: int = Field(foreign_key="yearplan.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class Round(SQLModel, table=True):
    """Đợt thi đua: an emulation round, a span of whole days."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    code: str = Field(max_length=64)
    name: str
    starts_on: date
    ends_on: date
    theme: str | None = None
    cancelled: bool = False


class Anniversary(SQLModel, table=True):
    """Ngày kỷ niệm: a date a round is dedicated to ("lập thành tích chào mừng ...")."""

    __table_args__ = (UniqueConstraint("plan_id", "on"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    round_id: int = Field(foreign_key="round.id")
    on: date
    name: str
    cancelled: bool = False


class Deadline(SQLModel, table=True):
    """Hạn nộp: what units owe by when. `due_at` is the exact instant, `wording` the plan's text."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    round_id: int = Field(foreign_key="round.id")
    code: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # registration | report | self_score | other
    title: str
    wording: str
    due_on: date  # the D of "trước ngày D"
    due_at: datetime = _instant()
    documents: list[str] = _json(list)
    recipient_unit_id: int = Field(foreign_key="unit.id")
    reminder_policy: dict[str, Any] = _json()
    cancelled: bool = False


class Obligation(SQLModel, table=True):
    """A unit that owes a deadline."""

    deadline_id: int = Field(foreign_key="deadline.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class Meeting(SQLModel, table=True):
    """Họp / giao ban khối: on a known day, or only bounded ("trước ngày D", "sau ngày D")."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="round.id")
    code: str = Field(max_length=64)
    title: str
    wording: str | None = None
    on: date | None = None
    until: date | None = None  # held from `on` to this day (several days, or "in June")
    starts_at: datetime | None = _instant(default=None)
    ends_at: datetime | None = _instant(default=None)
    held_before: date | None = None
    held_after: date | None = None
    location: str | None = None
    host_unit_id: int = Field(foreign_key="unit.id")
    cancelled: bool = False


class Extension(SQLModel, table=True):
    """Gia hạn: one unit given until the end of `until` (its new last day) on one deadline."""

    __table_args__ = (UniqueConstraint("deadline_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    until: date
    reason: str
    granted_by: str
    granted_at: datetime = _instant()


class ReminderPause(SQLModel, table=True):
    """Tạm dừng nhắc: no reminder from `starts_on` to `ends_on` (both included), to one unit or
    (`unit_id` None) to every unit of the plan."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    starts_on: date
    ends_on: date
    reason: str
    created_by: str
    created_at: datetime = _instant()


# --- Submissions --------------------------------------------------------------------------


class Submission(SQLModel, table=True):
    """One version of what a unit handed in for a deadline; never overwritten."""

    __table_args__ = (UniqueConstraint("deadline_id", "unit_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    version: int
    channel: str = Field(max_length=16)  # portal | api | paper | dispatch | import
    status: str = Field(default="accepted", max_length=16)  # accepted | rejected
    received_at: datetime = _instant()  # late or not follows from the deadline's due_at
    data: dict[str, Any] = _json()
    errors: list[str] = _json(list)
    note: str | None = None
    recorded_by: str | None = None


class SubmissionFile(SQLModel, table=True):
    """A file of a submission, stored once by its content hash."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    filename: str
    content_type: str
    size: int
    criterion_code: str | None = None  # evidence for a score-sheet criterion


# --- Scoring --------------------------------------------------------------------------------


class ScoreSheet(SQLModel, table=True):
    """Bảng chấm điểm of a year plan."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", unique=True)
    total: float
    step: float
    bonus_cap: float
    evidence_required: bool = True


class ScoreGroup(SQLModel, table=True):
    """A group of criteria (e.g. "I. Thực hiện nhiệm vụ chính trị ...") with its maximum."""

    __table_args__ = (UniqueConstraint("sheet_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="scoresheet.id", index=True)
    code: str = Field(max_length=32)
    name: str
    max_points: float
    position: int


class ScoreItem(SQLModel, table=True):
    """A criterion (tiêu chí, up to `max_points`), a bonus item or a penalty item (`points` each)."""

    __table_args__ = (UniqueConstraint("sheet_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="scoresheet.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="scoregroup.id")
    kind: str = Field(max_length=16)  # criterion | bonus | penalty
    code: str = Field(max_length=32)
    name: str
    max_points: float | None = None
    points: float | None = None
    position: int


class Score(SQLModel, table=True):
    """A unit's self score and the bloc's verified score for one item, with the reason."""

    __table_args__ = (UniqueConstraint("unit_id", "item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    item_id: int = Field(foreign_key="scoreitem.id", index=True)
    self_points: float | None = None
    verified_points: float | None = None
    reason: str | None = None
    verified_by: str | None = None
    updated_at: datetime = _instant(default_factory=utcnow)


# --- Commendations and elections --------------------------------------------------------------


class CommendationProposal(SQLModel, table=True):
    """Đề xuất khen thưởng: a unit proposed for a title (e.g. Cờ thi đua của UBND tỉnh)."""

    __table_args__ = (UniqueConstraint("plan_id", "title", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    title: str
    rank: int | None = None
    total: float | None = None
    votes: int | None = None
    state: str = Field(default="candidate", max_length=16)  # candidate | proposed | rejected


class Poll(SQLModel, table=True):
    """A secret vote: the election of next year's head or deputy, or a commendation vote."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="yearplan.id", index=True)
    code: str = Field(max_length=64)  # truong-khoi, pho-truong-khoi, co-thi-dua; revote: …-2
    kind: str = Field(max_length=16)  # election | commendation
    title: str
    seats: int = 1
    closes_at: datetime | None = _instant(default=None)
    state: str = Field(default="open", max_length=16)  # open | closed
    result: dict[str, Any] = _json()  # the count when closed; "paper": a tally entered by hand


class Candidate(SQLModel, table=True):
    poll_id: int = Field(foreign_key="poll.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class BallotReceipt(SQLModel, table=True):
    """That a unit has voted in a poll: one per unit. Holds no choice, so no link to a ballot."""

    __table_args__ = (UniqueConstraint("poll_id", "voter_unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    voter_unit_id: int = Field(foreign_key="unit.id")


class BallotBox(SQLModel, table=True):
    """A poll's ballot box: every ballot cast so far, each a sorted list of unit ids, kept as
    one sorted list and rewritten whole by each voter's transaction. No row, order, id or time
    tells which ballot a unit cast (docs/scoring.md, "The secrecy of the ballot")."""

    poll_id: int = Field(foreign_key="poll.id", primary_key=True)
    ballots: list[list[int]] = _json(list)


# --- Mail and audit ---------------------------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    """An email decided and recorded before it is sent; `key` makes a repeat a no-op. The
    daily runs read a plan's keys by status (which decisions were taken, what failed) and a
    thread's last message from indexes, not by reading every stored email."""

    __table_args__ = (Index("ix_outboxmessage_plan_status_key", "plan_id", "status", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=255)
    plan_id: int | None = Field(default=None, foreign_key="yearplan.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id")
    stage: str = Field(max_length=32)
    recipient: str
    subject: str
    text: str
    html: str | None = None
    message_id: str = Field(unique=True, max_length=255)
    thread_id: str | None = Field(default=None, max_length=255, index=True)  # References: root
    in_reply_to: str | None = Field(default=None, max_length=255)
    # files sent with the message: [{"name": file name, "sha256": its digest in the file store}]
    attachments: list[dict[str, str]] = _json(list)
    # pending | sending (claimed until lease_until) | sent | failed | cancelled
    status: str = Field(default="pending", max_length=16, index=True)
    lease_until: datetime | None = _instant(default=None)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = _instant(default_factory=utcnow)
    not_before: datetime | None = _instant(default=None)
    sent_at: datetime | None = _instant(default=None)


class AuditEvent(SQLModel, table=True):
    """Nhật ký: who changed what, when; written in the transaction that made the change."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _instant(default_factory=utcnow)
    actor: str
    action: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    key: str
    plan_id: int | None = Field(default=None, foreign_key="yearplan.id", index=True)
    details: dict[str, Any] = _json()


# --- Private links and published calendars ------------------------------------------------


class AccessToken(SQLModel, table=True):
    """A unit's private link (calendar feed or portal). The token itself is derived from the
    server's secret key and `generation`; only its SHA-256 is stored, for lookup."""

    __table_args__ = (UniqueConstraint("unit_id", "purpose", "generation"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    purpose: str = Field(max_length=16)  # calendar | portal
    generation: int
    token_sha256: str = Field(unique=True, max_length=64)
    created_at: datetime = _instant(default_factory=utcnow)
    revoked_at: datetime | None = _instant(default=None)


class Feed(SQLModel, table=True):
    """A published iCalendar feed: the exact bytes served, rebuilt only when its content changes."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=128)  # bloc/<bloc>/<year> | unit/<unit id>
    body: bytes
    etag: str = Field(max_length=64)
    last_modified: datetime = _instant()


class FeedEvent(SQLModel, table=True):
    """What a feed last published for one UID, so edits bump SEQUENCE and removals are
    published as CANCELLED before they disappear."""

    __table_args__ = (UniqueConstraint("feed_key", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    feed_key: str = Field(max_length=128, index=True)
    uid: str = Field(max_length=255)
    content: dict[str, Any] = _json()
    content_sha256: str = Field(max_length=64)
    sequence: int = 0
    last_modified: datetime = _instant()
    cancelled_at: datetime | None = _instant(default=None)


# --- The secretariat's accounts -------------------------------------------------------------


class StaffAccount(SQLModel, table=True):
    """A sign-in of the secretariat's staff for `/quan-tri`; only the argon2 hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _instant(default_factory=utcnow)
    password_set_at: datetime = _instant(default_factory=utcnow)
    removed_at: datetime | None = _instant(default=None)  # removed: no sign-in, no session


class StaffSession(SQLModel, table=True):
    """A signed-in browser: the cookie's token is never stored, only its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="staffaccount.id", index=True)
    token_sha256: str = Field(unique=True, max_length=64)
    created_at: datetime = _instant()
    expires_at: datetime = _instant()


class SignInFailures(SQLModel, table=True):
    """Failed sign-ins counted per account name or client address (`key`), for the delay."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=160)  # account:<name> | address:<ip>
    failures: int = 0
    last_failure_at: datetime = _instant()
    locked_until: datetime | None = _instant(default=None)
