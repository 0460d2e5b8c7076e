"""Checking a unit's self-score (tự chấm điểm) against the year's score sheet.

Whatever the channel (the Excel template or the web form), entries arrive as raw values per
item code, each with the place it came from ("ô D12", "tiêu chí I.1"), and leave as points,
or as errors in Vietnamese that name that place.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class SheetItem:
    code: str
    name: str
    kind: str  # criterion | bonus | penalty
    max_points: float | None  # criterion and bonus
    points: float | None  # penalty: points off per occurrence


@dataclass(frozen=True)
class Entry:
    raw: object  # what the cell or field held
    where: str  # "ô D12" or "ô điểm tiêu chí I.1"
    formula: bool = False


def check_self_score(
    items: list[SheetItem], entries: dict[str, Entry], step: float
) -> tuple[dict, list[str]]:
    """{"scores": {code: points}, "occurrences": {code: n}} and every problem found.

    Criteria must all be scored; bonus and penalty entries may stay empty (0)."""
    scores: dict[str, float] = {}
    occurrences: dict[str, int] = {}
    errors: list[str] = []
    for item in items:
        entry = entries.get(item.code)
        label = f"{'tiêu chí' if item.kind == 'criterion' else 'mục'} {item.code}"
        if entry is None:
            if item.kind == "criterion":
                errors.append(f"Thiếu dòng của {label} ({item.name}).")
            continue
        if entry.formula:
            errors.append(f"{entry.where} ({label}): có công thức; hãy nhập trực tiếp một con số.")
            continue
        empty = entry.raw is None or (isinstance(entry.raw, str) and not entry.raw.strip())
        if empty:
            if item.kind == "criterion":
                errors.append(f"{entry.where} ({label}): chưa nhập điểm.")
            continue
        value = _number(entry.raw)
        if value is None:
            errors.append(f"{entry.where} ({label}): “{entry.raw}” không phải là số.")
            continue
        if item.kind == "penalty":
            if value < 0 or value != value.to_integral_value():
                errors.append(
                    f"{entry.where} ({label}): số lần phải là số nguyên không âm (đang là {_show(value)})."
                )
                continue
            occurrences[item.code] = int(value)
            continue
        if value < 0:
            errors.append(f"{entry.where} ({label}): điểm không được âm (đang là {_show(value)}).")
        elif value > Decimal(str(item.max_points)):
            errors.append(
                f"{entry.where} ({label}): {_show(value)} điểm vượt điểm tối đa {_show(Decimal(str(item.max_points)))}."
            )
        elif value % Decimal(str(step)):
            errors.append(
                f"{entry.where} ({label}): điểm phải chấm theo bước {_show(Decimal(str(step)))} (đang là {_show(value)})."
            )
        else:
            scores[item.code] = float(value)
    known = {item.code for item in items}
    errors += [
        f"{entry.where}: mã “{code}” không có trong bảng điểm năm nay."
        for code, entry in entries.items()
        if code not in known
    ]
    return {"scores": scores, "occurrences": occurrences}, errors


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    text = str(raw).strip().replace(",", ".")  # "95,5" is how a Vietnamese user writes 95.5
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _show(value: Decimal) -> str:
    """A score as Vietnamese users write it: decimal comma, no trailing zeros ("95,5")."""
    text = f"{value.normalize():f}"
    return text.replace(".", ",")
