"""What an edited plan file would change in the plan in force, as a clerk reads it: the dates
moved (old → new), and the rounds, deadlines, meetings and units added or removed, by title.

Items are matched by their code; a deadline's date is its last day to submit (so a changed
deadline rule moves every deadline). Other edits (wording, contacts, scores) are not listed
here: loading the file lists every change.
"""

from dataclasses import dataclass, field

from domain.dates import due_instant, fmt_date, last_day
from domain.plan_schema import Meeting, PlanDocument


@dataclass
class PlanChanges:
    moved: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.moved or self.added or self.removed)


def plan_changes(old: PlanDocument, new: PlanDocument) -> PlanChanges:
    """The dates moved, and what is added or removed, from `old` to `new`."""
    changes = PlanChanges()

    def compare(kind: str, before: dict, after: dict, when, what: str = "") -> None:
        for code, item in after.items():
            if code not in before:
                changes.added.append(f"Thêm {kind} “{_name(item)}” ({what}{when(new, item)})")
            elif (was := when(old, before[code])) != (now := when(new, item)):
                line = f"{kind.capitalize()} “{_name(item)}”: {what}{was} → {now}"
                changes.moved.append(line)
        for code, item in before.items():
            if code not in after:
                changes.removed.append(f"Bỏ {kind} “{_name(item)}” ({what}{when(old, item)})")

    compare("đợt thi đua", _by_code(old.rounds), _by_code(new.rounds), _round_span)
    compare("hạn nộp", _by_code(old.deadlines), _by_code(new.deadlines), _last_day, "hạn cuối ")
    compare("cuộc họp", _by_code(old.meetings), _by_code(new.meetings), _meeting_day)
    units_before, units_after = _by_code(old.units), _by_code(new.units)
    changes.added += [
        f"Thêm đơn vị {u.name}" for c, u in units_after.items() if c not in units_before
    ]
    changes.removed += [
        f"Bỏ đơn vị {u.name}" for c, u in units_before.items() if c not in units_after
    ]
    return changes


def _by_code(items) -> dict:
    return {item.code: item for item in items}


def _name(item) -> str:
    return getattr(item, "title", None) or item.name


def _round_span(plan: PlanDocument, r) -> str:
    return f"{fmt_date(r.start)} – {fmt_date(r.end)}"


def _last_day(plan: PlanDocument, d) -> str:
    return fmt_date(last_day(due_instant(d.date, plan.deadline_rule.value)))


def _meeting_day(plan: PlanDocument, m: Meeting) -> str:
    if m.date:
        day = fmt_date(m.date) + (f" – {fmt_date(m.until)}" if m.until else "")
        return f"{m.start:%H:%M} {day}" if m.start else day
    bounds = [f"sau ngày {fmt_date(m.after)}"] if m.after else []
    bounds += [f"trước ngày {fmt_date(m.before)}"] if m.before else []
    return ", ".join(bounds)
