"""The year's timeline as dated lines: what `thidua plan show` prints, in the plan's words."""

from dataclasses import dataclass
from datetime import date, timedelta

from domain.dates import fmt_date, fmt_instant, last_day
from models.tables import Anniversary, Deadline, Meeting, Round


@dataclass(frozen=True, order=True)
class TimelineEntry:
    day: date
    order: int  # same-day tie-break: round starts, anniversaries, deadlines, meetings, round ends
    text: str


def build_timeline(
    rounds: list[Round],
    anniversaries: list[Anniversary],
    deadlines: list[Deadline],
    meetings: list[Meeting],
    unit_names: dict[int, str],
) -> list[TimelineEntry]:
    """Every live event of a plan, one entry per date it brings, sorted by day."""
    entries: list[TimelineEntry] = []
    for r in rounds:
        if r.cancelled:
            continue
        span = f"{fmt_date(r.starts_on)} – {fmt_date(r.ends_on)}"
        entries.append(TimelineEntry(r.starts_on, 0, f"Bắt đầu {r.name} ({span})"))
        entries.append(TimelineEntry(r.ends_on, 4, f"Kết thúc {r.name}"))
    entries += [
        TimelineEntry(a.on, 1, f"Kỷ niệm {a.name}") for a in anniversaries if not a.cancelled
    ]
    for d in deadlines:
        if d.cancelled:
            continue
        to = unit_names[d.recipient_unit_id]
        last = last_day(d.due_at)
        text = f"Hạn nộp: {d.title}, gửi {to} {d.wording} (hạn cuối: hết ngày {fmt_date(last)})"
        entries.append(TimelineEntry(last, 2, text))
    for m in meetings:
        if m.cancelled:
            continue
        entries.append(_meeting_entry(m, unit_names[m.host_unit_id]))
    return sorted(entries)


def _meeting_entry(m: Meeting, host: str) -> TimelineEntry:
    """A meeting on its day; one only bounded by the plan sits on its bound, said unscheduled."""
    text = f"Họp: {m.title} ({host} chủ trì"
    if m.starts_at:
        text += f", {fmt_instant(m.starts_at)}"
    if m.location:
        text += f", tại {m.location}"
    if m.wording:
        text += f"; {m.wording}"
    text += ")"
    if m.on and m.until:
        return TimelineEntry(m.on, 3, f"{text} — từ {fmt_date(m.on)} đến {fmt_date(m.until)}")
    if m.on:
        return TimelineEntry(m.on, 3, text)
    if m.held_before:
        latest = m.held_before - timedelta(days=1)
        text += f" — chưa ấn định ngày, chậm nhất ngày {fmt_date(latest)}"
        return TimelineEntry(latest, 3, text)
    return TimelineEntry(
        m.held_after, 3, f"{text} — chưa ấn định ngày, sau ngày {fmt_date(m.held_after)}"
    )
