"""The registration form (đăng ký thi đua): the titles a unit may aim for, and its checks."""

COLLECTIVE_TITLES = (
    "Tập thể Lao động tiên tiến",
    "Tập thể Lao động xuất sắc",
    "Cờ thi đua của UBND tỉnh",
    "Bằng khen của Chủ tịch UBND tỉnh",
    "Cờ thi đua của Chính phủ",
)
INDIVIDUAL_TITLES = ("Lao động tiên tiến", "Chiến sĩ thi đua cơ sở", "Chiến sĩ thi đua cấp tỉnh")
MAX_PEOPLE = 100_000


def check_registration(collective: str, counts: dict[str, str]) -> tuple[dict, list[str]]:
    """Structured registration data from the form's raw values, and every problem found
    (in Vietnamese, naming the field)."""
    errors = []
    if collective not in COLLECTIVE_TITLES:
        errors.append("Danh hiệu tập thể: hãy chọn một danh hiệu trong danh sách.")
    individuals = {}
    for title in INDIVIDUAL_TITLES:
        raw = (counts.get(title) or "0").strip()
        # ASCII digits only: "²".isdigit() is true, yet int("²") fails; a long text is cut.
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) > MAX_PEOPLE:
            errors.append(
                f"Số cá nhân đăng ký “{title}”: phải là số nguyên từ 0 (đang là “{raw[:20]}”)."
            )
            continue
        individuals[title] = int(raw)
    return {"collective_title": collective, "individuals": individuals}, errors


def registration_lines(data: dict) -> list[str]:
    """A registration's data as lines a clerk reads: the collective title, then each count."""
    lines = [f"Danh hiệu tập thể: {data.get('collective_title') or 'chưa chọn'}"]
    lines += [f"{title}: {count} người" for title, count in data.get("individuals", {}).items()]
    return lines
