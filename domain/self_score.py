"""Checking a unit's self-score (tự chấm điểm) against the year's score sheet.

Whatever the channel (the Excel template, the web form, the secretariat's verification),
entries arrive as raw values per item code, each with the place it came from ("ô D12",
"tiêu chí I.1"), and leave as points within the item's range, or as errors in Vietnamese
that name that place. This is where every number a person types for the score is read.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

MAX_OCCURRENCES = 100  # occurrences of one penalty item, unless the plan sets its own maximum
_LONGEST = 32  # characters of a typed number; a float's repr() is at most 24
_SHOWN = 20  # characters of a refused value quoted back


@dataclass(frozen=True)
class SheetItem:
    code: str
    name: str
    kind: str  # criterion | bonus | penalty
    max_points: float | None  # criterion and bonus
    points: float | None  # penalty: points off per occurrence
    max_occurrences: int = MAX_OCCURRENCES  # penalty: the most occurrences that can be entered


@dataclass(frozen=True)
class Entry:
    raw: object  # what the cell or field held
    where: str  # "ô D12" or "ô điểm tiêu chí I.1"
    formula: bool = False
    evidence: str | None = None  # the template's evidence column: a link, a document's number


def check_self_score(
    items: list[SheetItem], entries: dict[str, Entry], step: float
) -> tuple[dict, list[str]]:
    """{"scores": {code: points}, "occurrences": {code: n}} and every problem found. Accepted
    points lie within [0, the item's maximum] on the step; occurrences within [0, its maximum].

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
        try:
            value = parse_number(entry.raw)
        except ValueError as error:
            errors.append(f"{entry.where} ({label}): {error}.")
            continue
        problem = (
            _occurrences_problem(value, item)
            if item.kind == "penalty"
            else _points_problem(value, item, step)
        )
        if problem:
            errors.append(f"{entry.where} ({label}): {problem}.")
        elif item.kind == "penalty":
            occurrences[item.code] = int(value)
        else:
            scores[item.code] = float(value)
    known = {item.code for item in items}
    errors += [
        f"{entry.where}: mã “{_quote(code)}” không có trong bảng điểm năm nay."
        for code, entry in entries.items()
        if code not in known
    ]
    return {"scores": scores, "occurrences": occurrences}, errors


def missing_evidence(
    items: list[SheetItem], scores: dict[str, float], evidenced: set[str]
) -> list[str]:
    """One error per criterion self-scored above 0 without evidence (a file attached to it, or
    a link or document named for it in `evidenced`), then what to do; none when all have it."""
    errors = [
        f"Tiêu chí {item.code} ({item.name}): tự chấm {_show(Decimal(str(scores[item.code])))}"
        " điểm nhưng chưa có tài liệu kiểm chứng."
        for item in items
        if item.kind == "criterion" and scores.get(item.code, 0) > 0 and item.code not in evidenced
    ]
    if errors:
        errors.append(
            "Mỗi tiêu chí tự chấm trên 0 điểm cần tài liệu kiểm chứng: chọn tệp kiểm chứng dưới ô"
            " điểm của tiêu chí, hoặc ghi đường dẫn hay số, ký hiệu văn bản ở cột E của tệp Excel."
        )
    return errors


def parse_number(raw: object) -> Decimal:
    """The finite number a cell held or a person typed ("95,5" is how a Vietnamese user writes
    95.5; "-0" is 0); ValueError saying, in Vietnamese, why `raw` is not one."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**_LONGEST:
        raise ValueError("số quá lớn")  # and str() of it may refuse (Python's 4300-digit limit)
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise ValueError(f"“{_quote(raw)}” không phải là số")
    text = str(raw).strip().replace(",", ".")
    if len(text) > _LONGEST:
        raise ValueError(f"“{_quote(raw)}” không phải là số (quá dài)")
    try:
        value = Decimal(text) if text.isascii() else None  # Decimal() reads "١٢" as 12
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValueError(f"“{_quote(raw)}” không phải là số")
    return value if value else Decimal(0)


def _points_problem(value: Decimal, item: SheetItem, step: float) -> str | None:
    maximum, step_ = Decimal(str(item.max_points)), Decimal(str(step))
    if value < 0:
        return f"điểm không được âm (đang là {_show(value)})"
    if value > maximum:
        return f"{_show(value)} điểm vượt điểm tối đa {_show(maximum)}"
    with localcontext(prec=1000):  # exact for any stored maximum and step, so % cannot fail
        off_step = value % step_
    if off_step:
        return f"điểm phải chấm theo bước {_show(step_)} (đang là {_show(value)})"
    return None


def _occurrences_problem(value: Decimal, item: SheetItem) -> str | None:
    if value < 0 or value != value.to_integral_value():
        return f"số lần phải là số nguyên không âm (đang là {_show(value)})"
    if value > item.max_occurrences:
        return (
            f"số lần vượt mức tối đa {item.max_occurrences} lần của bảng điểm "
            f"(đang là {_show(value)})"
        )
    return None


def _show(value: Decimal) -> str:
    """A score as Vietnamese users write it: decimal comma, no trailing zeros ("95,5"); a
    number far from any score in short scientific form ("1e+50", "1e-1000000")."""
    if value and not -12 <= value.adjusted() <= 12:  # normalize() could overflow, f"" print it all
        sign, digits, _ = value.as_tuple()
        shown = "".join(map(str, digits)).rstrip("0")[:6]
        mantissa = shown[0] + ("," + shown[1:] if len(shown) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}e{value.adjusted():+d}"
    return f"{value.normalize():f}".replace(".", ",")


def _quote(raw: object) -> str:
    """A refused value, short and on one line."""
    text = " ".join(str(raw)[: _SHOWN * 4].split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
