"""Tạm dừng nhắc: days on which the chase sends no reminder, to the whole plan or one unit.
Pure rules: whether a unit is paused on a day, and whether a requested pause can be stored."""

from dataclasses import dataclass
from datetime import date

from domain.dates import fmt_date

MAX_REASON = 500


@dataclass(frozen=True)
class Pause:
    """No reminder from `starts_on` to `ends_on` (both included), to `unit_id` or (None) all."""

    starts_on: date
    ends_on: date
    unit_id: int | None = None


def paused(pauses: list[Pause], unit_id: int, day: date) -> bool:
    """Whether a pause of the plan, or of this unit, covers `day`."""
    return any(p.starts_on <= day <= p.ends_on and p.unit_id in (None, unit_id) for p in pauses)


def pause_errors(
    *, year: int, starts_on: date | None, ends_on: date | None, reason: str
) -> list[str]:
    """Why the pause cannot be stored (Vietnamese, one message per field); empty when it can."""
    errors = []
    for label, day in (("Từ ngày", starts_on), ("Đến ngày", ends_on)):
        if day is None:
            errors.append(f"{label}: hãy nhập một ngày (dd/mm/yyyy).")
        elif day.year != year:
            errors.append(f"{label}: {fmt_date(day)} nằm ngoài năm của kế hoạch ({year}).")
    if not errors and ends_on < starts_on:
        errors.append(f"Đến ngày: {fmt_date(ends_on)} trước ngày bắt đầu {fmt_date(starts_on)}.")
    if not reason.strip():
        errors.append("Lý do: hãy ghi lý do tạm dừng nhắc.")
    elif len(reason) > MAX_REASON:
        errors.append(f"Lý do: tối đa {MAX_REASON} ký tự.")
    return errors
