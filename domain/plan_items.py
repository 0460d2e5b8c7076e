"""The dated items of a plan's text: deadlines (hạn nộp) and meetings (cuộc họp), read clause by
clause, and the rounds they belong to.

Pure: lines of text in, plain data out; each item keeps its sentence and what it leaves open.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.dates import fmt_date
from domain.plan_dates import Bound, When, main_when


@dataclass(frozen=True)
class Anniversary:
    date: dt.date
    name: str


@dataclass(frozen=True)
class Contact:
    name: str
    title: str | None
    phone: str | None
    email: str | None
    quote: str


@dataclass
class RoundItem:
    number: int
    name: str
    start: date
    end: date
    theme: str | None
    anniversaries: list[Anniversary]
    quote: str
    checks: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"dot-{self.number}"


@dataclass
class DeadlineItem:
    code: str
    kind: str
    round: str
    title: str
    wording: str
    date: dt.date
    documents: list[str]
    quote: str
    checks: list[str] = field(default_factory=list)


@dataclass
class MeetingItem:
    code: str
    title: str
    round: str | None
    wording: str | None
    quote: str
    date: dt.date | None = None
    before: dt.date | None = None
    after: dt.date | None = None
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Clause:
    """One thing the plan asks: a clause of a sentence, or a row of a table of deadlines."""

    text: str
    quote: str
    sentence: int  # clauses of one sentence share it
    documents: tuple[str, ...] = ()
    recipient: str | None = None
    what: str | None = None  # a table row's own statement of what is due


UNIT = (
    r"(?:Sở|Ban|Báo|Đài|Văn phòng|Thanh tra|Công an|Bộ Chỉ huy|Cục|Kho bạc|Ngân hàng|Trường"
    r"|Bệnh viện|Liên đoàn|Hội|Tỉnh đoàn|Ủy ban|UBND|Viện)"
)
_DOCUMENT = (
    r"(?:báo cáo|bảng|bản|tài liệu|biên bản|danh sách|hồ sơ|giao ước|tờ trình|phiếu|văn bản)"
)
_SEND = re.compile(r"\b(?P<verb>gửi|nộp)\b\s+(?P<what>.{1,400}?)\s+(?:về|cho|tới|đến)\s+", re.I)
_REPORT_TO = re.compile(r"\bbáo cáo\b[^;]{0,400}?\svề\s", re.I)
_RECIPIENT = re.compile(
    rf"\s(?:về|cho|tới)\s+(?P<r>(?:{UNIT}|Thường trực|Trưởng khối|đơn vị)[^,;()]{{0,150}}?)"
    r"(?=\s*(?:\(|,|;|\.|$|\s(?:trước|chậm nhất|để|trong|sau|hạn)\b))",
    re.I,
)
_MEETING = re.compile(
    r"\b(?:tổ chức|triệu tập|tiến hành)\s+(?:hội nghị|cuộc họp|họp|giao ban|sơ kết|tổng kết|bình xét)"
    r"|\bhọp\s+khối\b|\bhội nghị\b|\bgiao ban\b|\bbầu\s+trưởng khối\b",
    re.I,
)
_REVIEW = re.compile(r"\bsơ kết\b|\b6 tháng đầu năm\b", re.I)
_ROW_HEADERS = {
    "what": ("nội dung", "công việc", "tên", "hồ sơ phải nộp"),
    "when": ("thời hạn", "thời gian", "hạn nộp", "hạn"),
    "to": ("nơi nhận", "gửi về", "đơn vị nhận"),
    "documents": ("hồ sơ", "tài liệu", "thành phần"),
}


def clauses_of(lines: list[str]) -> list[Clause]:
    """The clauses of the lines, sentence by sentence; a markdown table of deadlines gives one
    clause per row (`| Nội dung | Thời hạn | Nơi nhận | Hồ sơ |`)."""
    clauses: list[Clause] = []
    columns: dict[str, int] = {}
    for line in lines:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not columns:
                columns = _columns(cells)
                if "what" in columns:
                    continue  # the header of a table of deadlines
            elif set(line) <= set("|-: "):  # a markdown table's rule under its header
                continue
            elif "what" in columns:
                clauses.append(_row(cells, columns, line, len(clauses)))
                continue
            line = " ".join(cells)  # a table of another kind: its rows read as sentences
        else:
            columns = {}
        for sentence in re.split(r"(?<=\.)\s+(?=[-–+•]?\s*[A-ZĐÀ-Ỹ])", line):
            number = len(clauses)
            clauses += [
                Clause(part.strip(), sentence.strip(), number)
                for part in re.split(r";\s*", sentence)
                if part.strip()
            ]
    return clauses


def _columns(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        for role, names in _ROW_HEADERS.items():
            if role not in found and cell.lower().startswith(names):
                found[role] = index
                break
    return found if {"what", "when"} <= set(found) else {"none": 0}


def _row(cells: list[str], columns: dict[str, int], line: str, number: int) -> Clause:
    def cell(role: str) -> str:
        index = columns.get(role, -1)
        return cells[index] if 0 <= index < len(cells) else ""

    documents = tuple(part.strip() for part in re.split(r"[;,]\s*", cell("documents")) if part)
    text = f"{cell('what')} {cell('when')}".strip()
    return Clause(text, line, number, documents, cell("to") or None, cell("what"))


def deadlines_in(
    lines: list[str], year: int, rounds: list["RoundItem"], head: str | None
) -> list[DeadlineItem]:
    """Every clause that asks the units to send something by a day."""
    found: list[DeadlineItem] = []
    for clause in clauses_of(lines):
        when = main_when(clause.text, year)
        sends = clause.recipient or _SEND.search(clause.text) or _REPORT_TO.search(clause.text)
        if when is None or not sends or _MEETING.search(clause.text) and not clause.recipient:
            continue
        found.append(_deadline(clause, when, year, rounds, head, found))
    return found


def _deadline(
    clause: Clause,
    when: When,
    year: int,
    rounds: list["RoundItem"],
    head: str | None,
    earlier: list[DeadlineItem],
) -> DeadlineItem:
    text = clause.text
    kind = _kind(text)
    due, checks = _due(when, year)
    round_ = round_for(rounds, due - timedelta(days=1), review=kind == "report")
    if due <= round_.start:
        checks.append(f"hạn {fmt_date(due)} không sau ngày bắt đầu {round_.name.lower()}")
    recipient = clause.recipient or _recipient(text)
    if recipient and not _is_head(recipient, head):
        checks.append(
            f"văn bản ghi gửi về «{recipient}»: nếu đó không phải đơn vị Trưởng khối, "
            "ghi mã đơn vị ấy vào recipient"
        )
    title = _title(kind, text, year, round_, clause)
    documents = list(clause.documents) or _documents(text) or [title]
    code = _unique(_KIND_CODES[kind] if kind != "report" else _report_code(text), earlier)
    return DeadlineItem(
        code, kind, round_.code, title, when.wording, due, documents, clause.quote, checks
    )


_KIND_CODES = {"registration": "dang-ky", "self_score": "tong-ket", "other": "han-nop"}


def _kind(text: str) -> str:
    lowered = text.lower()
    if "chấm điểm" in lowered:
        return "self_score"
    if "đăng ký" in lowered:
        return "registration"
    return "report" if re.search(r"báo cáo|sơ kết|tổng kết", lowered) else "other"


def _report_code(text: str) -> str:
    return "so-ket" if _REVIEW.search(text) else "tong-ket" if "tổng kết" in text else "bao-cao"


def _unique(code: str, earlier: list) -> str:
    taken = {item.code for item in earlier}
    number, candidate = 1, code
    while candidate in taken:
        number += 1
        candidate = f"{code}-{number}"
    return candidate


def _due(when: When, year: int) -> tuple[date, list[str]]:
    """D of "trước ngày D" for a time expression, and what the user should check about it."""
    checks = []
    if when.year_inferred:
        checks.append(f"văn bản không ghi năm ở «{when.wording}»: đã lấy năm {year}")
    if when.bound is Bound.BEFORE:
        return when.start, checks
    due = when.end + timedelta(days=1)
    if when.bound is Bound.AFTER:
        checks.append(f"«{when.wording}» không phải một hạn: ghi ngày hạn nộp thật")
        return due, checks
    checks.append(
        f"«{when.wording}» cho nộp cả ngày {fmt_date(when.end)}: hạn ghi {fmt_date(due)} "
        "(«trước ngày» theo deadline_rule exclusive)"
    )
    return due, checks


def _recipient(text: str) -> str | None:
    found = _RECIPIENT.search(text)
    return found.group("r").strip() if found else None


def _is_head(recipient: str, head: str | None) -> bool:
    lowered = recipient.lower()
    return "trưởng khối" in lowered or (head is not None and lowered == head.lower())


def _title(kind: str, text: str, year: int, round_: "RoundItem", clause: Clause) -> str:
    if clause.what:  # a table row says what is due in its own column
        return _capital(clause.what)
    if kind == "registration":
        return f"Gửi đăng ký thi đua năm {year}"
    if kind == "self_score":
        return f"Báo cáo tổng kết công tác thi đua, khen thưởng năm {year} và bảng tự chấm điểm"
    named = _documents(text)
    if kind == "report" and named:
        return named[0]
    if kind == "report" and _REVIEW.search(text):
        return f"Báo cáo sơ kết phong trào thi đua {round_.name.replace('Đợt thi đua', 'đợt')}"
    if kind == "report" and "tổng kết" in text:
        return f"Báo cáo tổng kết công tác thi đua, khen thưởng năm {year}"
    sent = _SEND.search(text)
    return _capital(sent.group("what")) if sent else _capital(text)


def _documents(text: str) -> list[str]:
    """What `gửi …` names: «báo cáo, bảng chấm điểm kèm theo tài liệu kiểm chứng» is three."""
    sent = _SEND.search(text)
    if not sent:
        return []
    named = re.search(r"báo cáo (?:sơ|tổng) kết[^,;]{0,300}?(?=,|\s(?:tự|và|gửi)\s|$)", text, re.I)
    parts = re.split(
        rf"(?:,|\s+kèm theo|\s+và)\s+(?={_DOCUMENT}\b)", sent.group("what"), flags=re.I
    )
    return [
        _capital(named.group() if named and part.lower() == "báo cáo" else part)
        for part in parts
        if part.strip()
    ]


def _capital(text: str) -> str:
    text = text.strip(" .,:;-–")
    return text[:1].upper() + text[1:]


def round_for(rounds: list["RoundItem"], day: date, review: bool = False) -> "RoundItem":
    """The round `day` falls in; for a review (sơ kết) held within a month after a round ends,
    that round. Before the first round: the first; after the last: the last."""
    if review:
        ended = [r for r in rounds if r.end < day <= r.end + timedelta(days=31)]
        if ended:
            return ended[-1]
    inside = [r for r in rounds if r.start <= day <= r.end]
    if inside:
        return inside[0]
    earlier = [r for r in rounds if r.start <= day]
    return earlier[-1] if earlier else rounds[0]


def meetings_in(
    lines: list[str], year: int, rounds: list["RoundItem"], deadlines: list[DeadlineItem]
) -> list[MeetingItem]:
    """Every meeting the lines call (giao ban, sơ kết, tổng kết, bình xét, bầu Trưởng khối),
    undated clauses of one sentence taken as one meeting."""
    found: list[MeetingItem] = []
    pending: list[Clause] = []
    for clause in clauses_of(lines) + [Clause("", "", -1)]:
        if pending and clause.sentence != pending[0].sentence:
            found.append(_undated(pending, deadlines, rounds, found))
            pending = []
        if not _MEETING.search(clause.text) or clause.recipient:
            continue
        when = main_when(clause.text, year)
        sends = _SEND.search(clause.text) or _REPORT_TO.search(clause.text)
        if when is None:
            pending.append(clause)
        elif not sends:
            found.append(_dated(clause, when, year, rounds, found))
    return found


def _meeting_title(text: str, wording: str | None) -> str:
    if wording:
        text = text.replace(wording, "")
    text = re.sub(r"\s+(?:được\s+)?(?:tổ chức|triệu tập)\W*$", "", text.strip(" .,:;-–"))
    start = re.search(r"\b(?:tổ chức|triệu tập|tiến hành)\s+", text, re.I)
    calls = re.search(r"\b(?:họp|hội nghị|giao ban|bầu)\b", text, re.I)
    if start:
        text = text[start.end() :]
    elif calls:
        text = text[calls.start() :]
    return " ".join(text.split()).strip(" .,:;-–")


def _dated(
    clause: Clause, when: When, year: int, rounds: list["RoundItem"], earlier: list[MeetingItem]
) -> MeetingItem:
    title = _capital(_meeting_title(clause.text, when.wording))
    item = MeetingItem(_meeting_code(title, earlier), title, None, when.wording, clause.quote)
    if when.year_inferred:
        item.checks.append(f"văn bản không ghi năm ở «{when.wording}»: đã lấy năm {year}")
    if when.bound is Bound.ON:
        item.date = when.start
    elif when.bound is Bound.BEFORE:
        item.before = when.start
    elif when.bound is Bound.BY:
        item.before = when.start + timedelta(days=1)
    elif when.bound is Bound.AFTER:
        item.after = when.start
    else:
        item.after = (
            when.start - timedelta(days=1) if when.start.month > 1 or when.start.day > 1 else None
        )
        item.before = (
            when.end + timedelta(days=1) if when.end.month < 12 or when.end.day < 31 else when.end
        )
        item.checks.append(f"văn bản chỉ ghi «{when.wording}»: ghi ngày họp (date) khi đã định")
    day = item.date or (item.before - timedelta(days=1) if item.before else item.after)
    item.round = round_for(rounds, day, review=bool(_REVIEW.search(clause.text))).code
    return item


def _undated(
    clauses: list[Clause],
    deadlines: list[DeadlineItem],
    rounds: list["RoundItem"],
    earlier: list[MeetingItem],
) -> MeetingItem:
    quote = " ".join(dict.fromkeys(c.quote for c in clauses))
    relative = re.search(r"\bsau khi\b[^,;.]*", quote, re.I)
    wording = relative.group() if relative else None
    title = _capital("; ".join(_meeting_title(c.text, wording) for c in clauses))
    item = MeetingItem(_meeting_code(title, earlier), title, None, wording, quote)
    last = max(deadlines, key=lambda d: d.date) if deadlines else None
    day = last.date if last else rounds[-1].start
    item.after = day
    item.round = round_for(rounds, day + timedelta(days=1)).code
    anchor = f"sau hạn «{last.title}» ({fmt_date(day)})" if last else f"sau ngày {fmt_date(day)}"
    item.checks.append(
        f"văn bản không ghi ngày họp: tạm đặt {anchor}; ghi ngày họp (date) khi đã định"
    )
    return item


_MEETING_CODES = (
    ("bầu", "tong-ket-nam"),
    ("giao ban", "giao-ban"),
    ("tổng kết", "tong-ket"),
    ("sơ kết", "so-ket"),
    ("ký kết", "ky-ket"),
)


def _meeting_code(title: str, earlier: list) -> str:
    lowered = title.lower()
    code = next((code for word, code in _MEETING_CODES if word in lowered), "hop")
    return _unique(code, earlier)
