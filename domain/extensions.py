"""Gia hạn: a unit given more time on one deadline. Pure rules: when its time runs out, and
whether a requested new last day can be granted."""

from datetime import date, datetime, timedelta

from domain.dates import fmt_date, last_day, local_instant

MAX_REASON = 500


def read_day(text: str) -> date | None:
    """A day typed as YYYY-MM-DD (a date field) or dd/mm/yyyy; None when it is neither."""
    text = text.strip()[:32]
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def extended_due_at(until: date) -> datetime:
    """The instant an extension to `until` runs out: the end of that local day."""
    return local_instant(until + timedelta(days=1))


def unit_due_at(due_at: datetime, until: date | None) -> datetime:
    """When a unit's time on a deadline due at `due_at` runs out, given its extension (if any);
    an extension never shortens the plan's own deadline (the plan may have moved it later)."""
    return due_at if until is None else max(due_at, extended_due_at(until))


def extension_errors(*, due_at: datetime, year: int, until: date | None, reason: str) -> list[str]:
    """Why the extension of a deadline due at `due_at` to `until` cannot be granted (Vietnamese,
    one message per field); empty when it can."""
    errors = []
    if until is None:
        errors.append("Gia hạn đến ngày: hãy nhập một ngày (dd/mm/yyyy).")
    elif until.year != year:
        errors.append(f"Gia hạn đến ngày: {fmt_date(until)} nằm ngoài năm của kế hoạch ({year}).")
    elif until <= last_day(due_at):
        errors.append(
            f"Gia hạn đến ngày: {fmt_date(until)} không sau hạn cuối của kế hoạch "
            f"({fmt_date(last_day(due_at))}); hãy chọn một ngày sau đó."
        )
    if not reason.strip():
        errors.append("Lý do: hãy ghi lý do gia hạn.")
    elif len(reason) > MAX_REASON:
        errors.append(f"Lý do: tối đa {MAX_REASON} ký tự.")
    return errors
