"""Loading a validated plan file into the database: an idempotent upsert with an audit trail.

Every row is found by its natural key (codes), so loading the same file twice writes nothing,
and loading an edited file changes only what changed and records each change in one
`AuditEvent`. Events dropped from the plan are marked cancelled, not deleted, so calendars can
publish the cancellation and submissions keep their deadline.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, select

from domain import plan_schema as schema
from domain.dates import due_instant, fmt_date, fmt_instant, local_instant
from models.plan_file import PlanFile
from models.tables import (
    Anniversary,
    AuditEvent,
    Bloc,
    Contact,
    Deadline,
    Meeting,
    Membership,
    Obligation,
    Round,
    Score,
    ScoreGroup,
    ScoreItem,
    ScoreSheet,
    Unit,
    YearPlan,
    utcnow,
)


class PlanLoadError(Exception):
    """The plan cannot be loaded in the database's current state (e.g. the year is closed)."""


@dataclass
class LoadResult:
    plan_id: int
    created: bool
    changes: list[str] = field(default_factory=list)


@dataclass
class _Loader:
    session: Session
    changes: list[str] = field(default_factory=list)

    def upsert(self, model: type[SQLModel], key: dict, values: dict, label: str, on_create=None):
        """The row of `model` with `key`, created or updated to `values`; changes are recorded.

        `on_create` holds values set only when the row is new (bookkeeping, not plan content).
        """
        query = select(model)
        for name, value in key.items():
            query = query.where(getattr(model, name) == value)
        row = self.session.exec(query).one_or_none()
        if row is None:
            row = model(**key, **values, **(on_create or {}))
            self.session.add(row)
            self.changes.append(f"thêm {label}")
        else:
            for name, value in values.items():
                old = getattr(row, name)
                if old != value:
                    setattr(row, name, value)
                    self.changes.append(f"{label}: {name} {_show(old)} → {_show(value)}")
        self.session.flush()
        return row

    def cancel_missing(self, model: type[SQLModel], plan_id: int, keep: set, key: str, label: str):
        for row in self.session.exec(select(model).where(model.plan_id == plan_id)).all():
            if getattr(row, key) not in keep and not row.cancelled:
                row.cancelled = True
                self.changes.append(f"hủy {label} {getattr(row, key)}")

    def sync_links(
        self, model: type[SQLModel], owner: str, owner_id: int, wanted: set[int], label: str
    ):
        rows = self.session.exec(select(model).where(getattr(model, owner) == owner_id)).all()
        have = {row.unit_id for row in rows}
        for row in rows:
            if row.unit_id not in wanted:
                self.session.delete(row)
        for unit_id in wanted - have:
            self.session.add(model(**{owner: owner_id, "unit_id": unit_id}))
        if have != wanted:
            self.changes.append(f"{label}: {len(have)} → {len(wanted)} đơn vị")


def load_plan(session: Session, plan_file: PlanFile, *, actor: str) -> LoadResult:
    """Upsert `plan_file` into the database in the caller's transaction."""
    doc = plan_file.document
    loader = _Loader(session)
    bloc = loader.upsert(
        Bloc, {"code": doc.bloc.code}, doc.bloc.model_dump(exclude={"code"}), "khối"
    )
    units = {
        u.code: loader.upsert(
            Unit,
            {"bloc_id": bloc.id, "code": u.code},
            {"name": u.name, "short_name": u.short_name},
            f"đơn vị {u.code}",
        )
        for u in doc.units
    }
    for u in doc.units:
        _contact(loader, units[u.code], "focal_point", u.contacts.focal_point)
        if u.contacts.leader:
            _contact(loader, units[u.code], "leader", u.contacts.leader)
        else:
            _drop_contact(loader, units[u.code], "leader")
    secretariat = _contact(loader, units[doc.secretariat.unit], "secretariat", doc.secretariat)

    existing = session.exec(
        select(YearPlan).where(YearPlan.bloc_id == bloc.id, YearPlan.year == doc.year)
    ).one_or_none()
    if existing is not None and existing.state == "closed":
        raise PlanLoadError(
            f"kế hoạch năm {doc.year} của khối {doc.bloc.code} đã kết thúc, không nạp lại được"
        )
    plan = loader.upsert(
        YearPlan,
        {"bloc_id": bloc.id, "year": doc.year},
        {
            "title": doc.title,
            "head_unit_id": units[doc.head].id,
            "deputy_unit_id": units[doc.deputy].id,
            "secretariat_contact_id": secretariat.id,
            "source_number": doc.source.number,
            "source_file": doc.source.file,
            "deadline_rule": doc.deadline_rule.value,
            "rules": doc.model_dump(
                mode="json", include={"reminders", "calendar", "commendations", "election"}
            ),
        },
        f"kế hoạch năm {doc.year}",
        on_create={"content_sha256": plan_file.sha256},
    )
    plan.document = doc.model_dump(mode="json")  # its parts are audited row by row
    loader.sync_links(Membership, "plan_id", plan.id, {u.id for u in units.values()}, "thành viên")
    rounds = _rounds(loader, plan, doc)
    _deadlines(loader, plan, doc, units, rounds)
    _meetings(loader, plan, doc, units, rounds)
    _score_sheet(loader, plan, doc.score_sheet)

    created = existing is None
    if loader.changes:
        plan.content_sha256 = plan_file.sha256
        plan.loaded_at = utcnow()
        session.add(
            AuditEvent(
                actor=actor,
                action="plan.created" if created else "plan.updated",
                entity="YearPlan",
                key=f"{doc.bloc.code}/{doc.year}",
                plan_id=plan.id,
                details={
                    "file": str(plan_file.path),
                    "sha256": plan_file.sha256,
                    "changes": [] if created else loader.changes,
                },
            )
        )
    session.flush()
    return LoadResult(plan.id, created, [] if created else loader.changes)


def _contact(loader: _Loader, unit: Unit, role: str, person: schema.Person) -> Contact:
    values = person.model_dump(include={"name", "title", "phone", "emails"})
    return loader.upsert(
        Contact, {"unit_id": unit.id, "role": role}, values, f"liên hệ {role} của {unit.code}"
    )


def _drop_contact(loader: _Loader, unit: Unit, role: str) -> None:
    query = select(Contact).where(Contact.unit_id == unit.id, Contact.role == role)
    for row in loader.session.exec(query).all():
        loader.session.delete(row)
        loader.changes.append(f"bỏ liên hệ {role} của {unit.code}")


def _rounds(loader: _Loader, plan: YearPlan, doc: schema.PlanDocument) -> dict[str, Round]:
    rounds = {}
    for r in doc.rounds:
        rounds[r.code] = row = loader.upsert(
            Round,
            {"plan_id": plan.id, "code": r.code},
            {
                "name": r.name,
                "starts_on": r.start,
                "ends_on": r.end,
                "theme": r.theme,
                "cancelled": False,
            },
            f"đợt {r.code}",
        )
        for a in r.anniversaries:
            loader.upsert(
                Anniversary,
                {"plan_id": plan.id, "on": a.date},
                {"round_id": row.id, "name": a.name, "cancelled": False},
                f"ngày kỷ niệm {a.date:%d/%m}",
            )
    loader.cancel_missing(Round, plan.id, set(rounds), "code", "đợt")
    days = {a.date for r in doc.rounds for a in r.anniversaries}
    loader.cancel_missing(Anniversary, plan.id, days, "on", "ngày kỷ niệm")
    return rounds


def _deadlines(loader, plan: YearPlan, doc: schema.PlanDocument, units, rounds) -> None:
    for d in doc.deadlines:
        owed = set(units) if d.owed_by == "all" else set(d.owed_by)
        recipient = doc.head if d.recipient == "head" else d.recipient
        row = loader.upsert(
            Deadline,
            {"plan_id": plan.id, "code": d.code},
            {
                "round_id": rounds[d.round].id,
                "kind": d.kind.value,
                "title": d.title,
                "wording": d.wording,
                "due_on": d.date,
                "due_at": due_instant(d.date, doc.deadline_rule.value),
                "documents": list(d.documents),
                "recipient_unit_id": units[recipient].id,
                "reminder_policy": (d.reminders or doc.reminders).model_dump(mode="json"),
                "cancelled": False,
            },
            f"hạn {d.code}",
        )
        wanted = {units[code].id for code in owed}
        loader.sync_links(
            Obligation, "deadline_id", row.id, wanted, f"đơn vị phải nộp hạn {d.code}"
        )
    loader.cancel_missing(Deadline, plan.id, {d.code for d in doc.deadlines}, "code", "hạn")


def _meetings(loader, plan: YearPlan, doc: schema.PlanDocument, units, rounds) -> None:
    for m in doc.meetings:
        host = doc.head if m.host == "head" else m.host
        loader.upsert(
            Meeting,
            {"plan_id": plan.id, "code": m.code},
            {
                "round_id": rounds[m.round].id if m.round else None,
                "title": m.title,
                "wording": m.wording,
                "on": m.date,
                "until": m.until,
                "starts_at": local_instant(m.date, m.start) if m.date and m.start else None,
                "ends_at": local_instant(m.date, m.end) if m.date and m.end else None,
                "held_before": m.before,
                "held_after": m.after,
                "location": m.location,
                "host_unit_id": units[host].id,
                "cancelled": False,
            },
            f"cuộc họp {m.code}",
        )
    loader.cancel_missing(Meeting, plan.id, {m.code for m in doc.meetings}, "code", "cuộc họp")


def _score_sheet(loader: _Loader, plan: YearPlan, sheet: schema.ScoreSheet) -> None:
    row = loader.upsert(
        ScoreSheet,
        {"plan_id": plan.id},
        sheet.model_dump(include={"total", "step", "bonus_cap", "evidence_required"}),
        "bảng điểm",
    )
    keep: set[str] = set()
    position = 0

    def item(kind: str, entry, group_id: int | None, **values) -> None:
        nonlocal position
        position += 1
        keep.add(entry.code)
        loader.upsert(
            ScoreItem,
            {"sheet_id": row.id, "code": entry.code},
            {
                "kind": kind,
                "name": entry.name,
                "group_id": group_id,
                "position": position,
                **values,
            },
            f"mục chấm điểm {entry.code}",
        )

    for g_pos, g in enumerate(sheet.groups, start=1):
        group = loader.upsert(
            ScoreGroup,
            {"sheet_id": row.id, "code": g.code},
            {"name": g.name, "max_points": g.max, "position": g_pos},
            f"nhóm điểm {g.code}",
        )
        for c in g.criteria:
            item("criterion", c, group.id, max_points=c.max, points=None)
    for b in sheet.bonus:
        item("bonus", b, None, max_points=b.max, points=None)
    for p in sheet.penalties:
        item("penalty", p, None, max_points=None, points=p.points)
    _delete_unused_items(loader, row.id, keep, {g.code for g in sheet.groups})


def _delete_unused_items(loader: _Loader, sheet_id: int, items: set[str], groups: set[str]) -> None:
    session = loader.session
    for row in session.exec(select(ScoreItem).where(ScoreItem.sheet_id == sheet_id)).all():
        if row.code in items:
            continue
        if session.exec(select(Score).where(Score.item_id == row.id)).first() is not None:
            raise PlanLoadError(f"không thể bỏ mục chấm điểm '{row.code}': đã có điểm được chấm")
        session.delete(row)
        loader.changes.append(f"bỏ mục chấm điểm {row.code}")
    session.flush()
    for row in session.exec(select(ScoreGroup).where(ScoreGroup.sheet_id == sheet_id)).all():
        if row.code not in groups:
            session.delete(row)
            loader.changes.append(f"bỏ nhóm điểm {row.code}")


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return fmt_instant(value)
    if isinstance(value, date):
        return fmt_date(value)
    return repr(value)
