"""What a plan document says, read from its text: the bloc, the year, the rounds with their
anniversaries, the deadlines, the meetings, the head unit and the secretariat's contact.

Pure: plain text in (as `operations.plan_import` reads it from a file), plain data out. Every
item keeps the sentence it came from (`quote`) and what the text leaves open (`checks`).
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from domain.plan_dates import Bound, When, find_days, find_whens
from domain.plan_items import (
    UNIT,
    Anniversary,
    Contact,
    DeadlineItem,
    MeetingItem,
    RoundItem,
    deadlines_in,
    meetings_in,
)

MAX_CHARS = 300_000  # a plan is a few pages, some 30,000 characters; this bounds the work


class NotAPlan(ValueError):
    """The text is not a bloc's emulation plan; the message says why, in Vietnamese."""


@dataclass
class PlanText:
    """Everything read from one plan document."""

    year: int
    title: str
    bloc: str
    province: str | None
    number: str | None
    head: str | None
    deputy: str | None
    secretariat: Contact | None
    rounds: list[RoundItem]
    deadlines: list[DeadlineItem] = field(default_factory=list)
    meetings: list[MeetingItem] = field(default_factory=list)
    header_quote: str = ""
    head_quote: str | None = None


_ORDINALS = {"nhất": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "i": 1, "ii": 2}
_ORDINALS |= {"iii": 3, "iv": 4, "v": 5}
_ORDINAL_WORDS = ["", "nhất", "hai", "ba", "tư", "năm", "sáu"]
_ROUND = re.compile(
    r"^[*\-–•+\s]*(?:\d+[.)]\s*)?đợt\s+(?:thi\s+đua\s+)?(?:thứ\s+)?(?P<n>nhất|hai|ba|tư|bốn|năm|\d|IV|V|I{1,3})\b",
    re.I,
)
_SECTION = re.compile(r"^(?:[IVX]+|\d+)\.\s|^[A-ZĐ][A-ZĐÀ-Ỹ ,]{6,}$")
_HEAD = re.compile(
    rf"(?P<u>{UNIT}[^,;:()]{{0,120}}?)\s*\((?:là\s+)?(?:đơn vị\s+)?trưởng khối[^)]{{0,100}}\)", re.I
)
_DEPUTY = re.compile(
    rf"(?P<u>{UNIT}[^,;:()]{{0,120}}?)\s*\((?:là\s+)?(?:đơn vị\s+)?phó trưởng khối[^)]{{0,100}}\)",
    re.I,
)
_CONTACT = re.compile(
    r"(?P<title>(?:Văn phòng|Phòng|Bộ phận)[^(;]{0,150}?)\s*\((?:đ/c|đồng chí|ông|bà)\s+(?P<name>[^,)]{1,80}+)"
    r"(?P<rest>[^)]{0,300}+)\)",
    re.I,
)
_PHONE = re.compile(r"(?:ĐT|SĐT|điện thoại)\s*:?\s*(?P<p>[\d][\d. ]{7,14}\d)", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def clean(text: str) -> str:
    """Plain lines from a document's text: markdown marks, escapes and extra spaces removed."""
    text = text.replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\\([_*\[\]().-])", r"\1", text)
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"^#+\s*", "", line).replace("**", "")
        line = re.sub(r"(?<!\w)_(\S[^_]{0,200}?)_(?!\w)", r"\1", line)
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


_LIST_ITEM = re.compile(r"^(?:[-–+•*]|\d+[.)]|[IVX]+\.|[a-zđ]\)|Đợt\b|\|)")


def reflow(text: str) -> str:
    """Paragraphs from text whose lines were wrapped to a page's width (a PDF's): a line that
    does not end a sentence, is not a heading in capitals and nearly fills the width goes on
    into the next, unless that one starts a list item; a line starting in lower case always
    continues the one before."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    joined: list[str] = []
    for previous, line in zip(["", *lines], lines, strict=False):
        open_ended = previous and not previous.endswith((".", ":", ";", "!", "?"))
        full = len(previous) >= 0.75 * width and not previous.isupper()
        starts_item = _LIST_ITEM.match(line) and not re.match(r"[-–]\s*\d", line)
        if joined and line and open_ended and (line[0].islower() or (full and not starts_item)):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return "\n".join(joined)


def read_plan_text(raw: str) -> PlanText:
    """The plan a document's text describes; NotAPlan when it is not a bloc's plan."""
    text = clean(raw)
    if not text:
        raise NotAPlan("tệp không có chữ nào")
    if len(text) > MAX_CHARS:
        raise NotAPlan("văn bản quá dài (hơn 300.000 ký tự); một kế hoạch chỉ vài trang")
    lines = text.split("\n")
    heading = next((i for i, line in enumerate(lines[:40]) if _is_plan_heading(line)), None)
    if heading is None:
        raise NotAPlan(
            "không thấy tiêu đề «KẾ HOẠCH» ở đầu văn bản: đây không phải kế hoạch thi đua của khối"
        )
    title_line = _title_line(lines, heading)
    year = _year(title_line, text)
    rounds = _rounds(lines, year)
    if not rounds:
        raise NotAPlan(
            "không thấy đợt thi đua nào (dòng «Đợt thi đua thứ nhất: từ ngày … đến ngày …»): "
            "đây không phải kế hoạch thi đua của khối"
        )
    bloc = _bloc(title_line, text)
    head, deputy = _first(_HEAD, text), _first(_DEPUTY, text)
    implementation = _implementation(lines)
    deadlines = deadlines_in(implementation, year, rounds, head and head[0])
    return PlanText(
        year=year,
        title=_title(lines[heading], title_line, bloc),
        bloc=bloc,
        province=_province(lines, text),
        number=_number(lines),
        head=head and head[0],
        deputy=deputy and deputy[0],
        secretariat=_contact(text),
        rounds=rounds,
        deadlines=deadlines,
        meetings=meetings_in(implementation, year, rounds, deadlines),
        header_quote=f"{lines[heading]} {title_line}".strip(),
        head_quote=head and head[1],
    )


def _is_plan_heading(line: str) -> bool:
    return re.match(r"^kế hoạch\b", line, re.I) is not None and line[:8].isupper()


def _title_line(lines: list[str], heading: str) -> str:
    """The line naming the bloc and year: the heading's own rest, or the line below it."""
    rest = re.sub(r"^KẾ HOẠCH\s*(?:HOẠT ĐỘNG)?\s*", "", lines[heading])
    if re.search(r"\b(?:khối|cụm)\b", rest, re.I):
        return rest
    return lines[heading + 1] if heading + 1 < len(lines) else rest


def _year(title_line: str, text: str) -> int:
    years = re.findall(r"\bnăm\s+(20\d\d)\b", title_line) or re.findall(r"\bnăm\s+(20\d\d)\b", text)
    if not years:
        raise NotAPlan("không thấy năm của kế hoạch (ví dụ «năm 2021») trong văn bản")
    return int(Counter(years).most_common(1)[0][0])


def _bloc(title_line: str, text: str) -> str:
    """The bloc's name: from the title line, corrected by the body's spelling when they differ
    only in the first word (a draft's «Khởi thi đua» is the body's «Khối thi đua»)."""
    name = re.sub(r"\s+năm\s+20\d\d.*$", "", title_line).strip(" .,:")
    name = re.sub(r"^.*?\b(?=(?:khối|cụm|khởi)\s+thi\s+đua)", "", name, flags=re.I)
    tail = name.split(" ", 1)[1] if " " in name else name
    body = re.search(rf"\b(?:Khối|Cụm)\s+{_loose(tail)}", text)
    return body.group() if body else name


def _loose(text: str) -> str:
    """A pattern for `text` that accepts any dash and spacing between its words."""
    words = [re.escape(word) for word in re.split(r"\s*[-–—]\s*|\s+", text) if word]
    return r"(?:\s*[-–—]\s*|\s+)".join(words)


def _title(heading: str, title_line: str, bloc: str) -> str:
    """«Kế hoạch hoạt động Khối thi đua … năm 2020»: the heading's words, then the title line
    with the bloc's name as the body spells it."""
    rest = re.sub(
        r"\b(?:khối|cụm|khởi)\s+thi\s+đua.*?(?=\s+năm\s+20\d\d)",
        lambda _: bloc,
        title_line,
        count=1,
        flags=re.I,
    )
    kind = re.sub(r"^KẾ HOẠCH\s*", "", heading).lower()
    if kind and kind in title_line.lower():
        kind = ""  # the heading and the title are one line
    if not rest.startswith(("Khối", "Cụm")):
        rest = rest[:1].lower() + rest[1:]
    return " ".join(part for part in ("Kế hoạch", kind, rest) if part)


def _province(lines: list[str], text: str) -> str | None:
    for line in lines[:15]:
        found = re.match(r"^(?P<p>[A-ZĐÀ-Ỹ][^,\d]{1,40}?),\s*ngày\b", line)
        if found:
            return found.group("p").strip()
    names = re.findall(r"\btỉnh\s+((?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s?){1,3})", text)
    return Counter(n.strip() for n in names).most_common(1)[0][0] if names else None


def _number(lines: list[str]) -> str | None:
    for line in lines[:15]:
        found = re.search(r"\bSố\s*:?\s*(?P<n>[\w/.-]*/[\wĐđ.-]+)", line)
        if found:
            return found.group("n")
    return None


def _first(pattern: re.Pattern, text: str) -> tuple[str, str] | None:
    """(the unit's name, the words that name it) for the first match of `pattern`."""
    found = pattern.search(text)
    return (found.group("u").strip(), found.group()) if found else None


def _contact(text: str) -> Contact | None:
    found = _CONTACT.search(text)
    if not found:
        return None
    rest = found.group("rest")
    phone, email = _PHONE.search(rest), _EMAIL.search(rest)
    return Contact(
        name=found.group("name").strip(),
        title=found.group("title").strip(),
        phone=phone.group("p").strip() if phone else None,
        email=email.group() if email else None,
        quote=found.group(),
    )


def _rounds(lines: list[str], year: int) -> list[RoundItem]:
    rounds: list[RoundItem] = []
    for index, line in enumerate(lines):
        found = _ROUND.match(line)
        span = _round_span(line, year) if found else None
        if not found or span is None:
            continue
        number = _ORDINALS.get(found.group("n").lower()) or int(found.group("n"))
        theme_text = _theme(line, span, lines, index)
        rounds.append(
            RoundItem(
                number=number,
                name=f"Đợt thi đua thứ {_ORDINAL_WORDS[number] if number < 7 else number}",
                start=span.start,
                end=span.end,
                theme=theme_text,
                anniversaries=anniversaries_in(theme_text or "", year),
                quote=line,
                checks=_span_checks(span),
            )
        )
    return rounds


def _round_span(line: str, year: int) -> When | None:
    """A round's span: «từ ngày … đến ngày …» when the line has one, else «quý I», «6 tháng …»."""
    spans = [when for when in find_whens(line, year) if when.bound is Bound.WITHIN]
    explicit = [when for when in spans if when.wording.lower().startswith("từ")]
    return (explicit or spans or [None])[0]


def _theme(line: str, span: When, lines: list[str], index: int) -> str | None:
    """The round's slogan: what follows its span on the same line, else the next paragraph."""
    after = (
        line.split(span.wording, 1)[-1].lstrip(" ,;:.)–-").rstrip() if span.wording in line else ""
    )
    if len(after) > 20:
        return after[:1].upper() + after[1:]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if following and not _ROUND.match(following) and not _SECTION.match(following):
        return following
    return None


def _span_checks(span: When) -> list[str]:
    if span.year_inferred:
        return [f"văn bản không ghi năm ở «{span.wording}»: đã lấy năm của kế hoạch"]
    return []


def anniversaries_in(text: str, year: int) -> list[Anniversary]:
    """The anniversaries a round's theme names: «90 năm ngày thành lập Đảng (03/02/1930 –
    03/02/2020)», or a day of the plan's year in brackets, «Ngày Thương binh - Liệt sĩ (27/7)»."""
    found = []
    for bracket in re.finditer(r"\(([^()]*)\)", text):
        days = [day for day, _ in find_days(bracket.group(1), year)]
        if not days or days[-1].year != year or len(days) > 2:
            continue
        if len(days) == 2 and (days[0].day, days[0].month) != (days[1].day, days[1].month):
            continue
        name = _name_before(text[max(0, bracket.start() - 300) : bracket.start()])
        if name:
            found.append(Anniversary(date=days[-1], name=f"{name} {bracket.group()}"))
    return sorted(found, key=lambda item: item.date)


def _name_before(text: str) -> str:
    """The words just before a bracket, back to the previous comma, «chào mừng» or «và»."""
    parts = re.split(r"[,;:(]|\bchào mừng\b|\skỷ niệm\s|\svà\s", text)
    return parts[-1].strip(" .") if parts else ""


def _implementation(lines: list[str]) -> list[str]:
    """The lines of the part that says who does what by when («TỔ CHỨC THỰC HIỆN»), or
    every line when the document has no such part."""
    for index, line in enumerate(lines):
        if re.search(r"\bTỔ CHỨC THỰC HIỆN\b", line):
            return lines[index + 1 :]
    return lines
