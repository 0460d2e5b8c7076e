"""The draft plan file `thidua plan import` writes: the plan's YAML (docs/plan-format.md) with the
sentence each item came from above it, and a `# KIỂM TRA:` comment at every value the text
does not settle. Pure: the extracted plan in, the file's text and what is left open out.
"""

import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import yaml

from domain.plan_items import Contact, DeadlineItem, MeetingItem, RoundItem
from domain.plan_text import PlanText

CHECK = "# KIỂM TRA:"


@dataclass
class Draft:
    """The draft's text and the checks it leaves for the user (one line each, in order)."""

    text: str
    checks: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.checks: list[str] = []

    def quote(self, sentence: str, indent: int) -> None:
        for line in textwrap.wrap(f"«{sentence}»", 96 - indent):
            self.lines.append(f"{' ' * indent}# {line}")

    def check(self, where: str, message: str, indent: int) -> None:
        self.checks.append(f"{where}: {message}")
        for number, line in enumerate(textwrap.wrap(message, 90 - indent)):
            prefix = CHECK if number == 0 else "#" + " " * (len(CHECK) - 1)
            self.lines.append(f"{' ' * indent}{prefix} {line}")

    def add(self, line: str) -> None:
        self.lines.append(line)


def scalar(value: object) -> str:
    """A YAML scalar that reads back as `value`: plain when it is safe, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    plain = re.fullmatch(r"[\wĐđ(/][^:#\[\]{}\"'\n]*", text) and not text.endswith(" ")
    if plain and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def unit_code(name: str) -> str:
    """A unit's code from its name's initials: «Sở Thông tin và Truyền thông» is `stttt`."""
    words = [word for word in re.findall(r"\w+", name) if word.lower() != "và"]
    initials = "".join(word[0] for word in words).replace("Đ", "D").replace("đ", "d")
    ascii_only = unicodedata.normalize("NFKD", initials).encode("ascii", "ignore").decode()
    return ascii_only.lower() or "don-vi"


def bloc_code(plan: PlanText) -> str:
    """`bg-vhxh`: the province's initials, then those of the bloc's name after «Khối thi đua»."""
    name = re.sub(
        r"^(?:khối|cụm)\s+thi\s+đua\s+(?:các\s+)?(?:cơ quan\s+)?(?:lĩnh vực\s+)?",
        "",
        plan.bloc,
        flags=re.I,
    )
    province = unit_code(plan.province) if plan.province else ""
    return "-".join(part for part in (province, unit_code(name)) if part)


def render_draft(plan: PlanText, *, source_file: str, defaults: str) -> Draft:
    """The draft plan file for `plan`; `defaults` is the YAML appended for what a plan document
    does not say (score sheet, commendations, election)."""
    out = _Writer()
    out.add(f"# Bản nháp kế hoạch đọc từ «{source_file}» bằng `thidua plan import`.")
    out.add(
        f"# Mỗi mục có câu văn bản gốc ở trên; sửa mọi chỗ «{CHECK}» rồi chạy `thidua plan check`."
    )
    out.add("format: 1")
    out.quote(plan.header_quote, 0)
    out.add(f"year: {plan.year}")
    out.add(f"title: {scalar(plan.title)}")
    out.add("bloc:")
    out.add(f"  code: {bloc_code(plan)}   # mã tự đặt từ tên khối; giữ nguyên qua các năm")
    out.add(f"  name: {scalar(plan.bloc)}")
    if not plan.province:
        out.check("bloc.province", "văn bản không ghi tỉnh: ghi tên tỉnh", 2)
    out.add(f"  province: {scalar(plan.province)}")
    out.add("source:")
    out.add(f"  title: {scalar(plan.title)}")
    if plan.number:
        out.add(f"  number: {scalar(plan.number)}")
    out.add(f"  file: {scalar(source_file)}")
    out.add("timezone: Asia/Ho_Chi_Minh")
    out.add("deadline_rule: exclusive   # «trước ngày D»: hạn cuối là hết ngày D-1")
    head = _people(out, plan)
    _units(out, plan, head)
    _rounds(out, plan.rounds)
    _deadlines(out, plan.deadlines)
    _meetings(out, plan.meetings)
    out.add("")
    out.check(
        "score_sheet",
        "bảng điểm, hình thức khen thưởng và cách bầu Trưởng khối dưới đây là mặc định của "
        "thidua (docs/scoring.md), văn bản không nêu: sửa theo hướng dẫn của tỉnh",
        0,
    )
    out.add(defaults.strip())
    return Draft("\n".join(out.lines) + "\n", out.checks)


def _people(out: _Writer, plan: PlanText) -> str | None:
    head = unit_code(plan.head) if plan.head else None
    if plan.head:
        out.quote(f"… {plan.head_quote} …", 0)
    else:
        out.check("head", "văn bản không nêu đơn vị Trưởng khối: ghi mã đơn vị ấy", 0)
    out.add(f"head: {scalar(head)}")
    if plan.deputy:
        out.add(f"deputy: {unit_code(plan.deputy)}")
    else:
        out.check("deputy", "văn bản không nêu Phó Trưởng khối: ghi mã một đơn vị trong units", 0)
        out.add("deputy: null")
    contact = plan.secretariat
    if contact:
        out.quote(contact.quote, 0)
    out.add("secretariat:")
    out.add(f"  unit: {scalar(head)}")
    _person(out, contact, "secretariat", 2)
    return head


def _person(out: _Writer, contact: Contact | None, where: str, indent: int) -> None:
    pad = " " * indent
    if contact is None:
        out.check(where, "văn bản không nêu người đầu mối: ghi tên và email", indent)
    out.add(f"{pad}name: {scalar(contact.name if contact else None)}")
    if contact and contact.title:
        out.add(f"{pad}title: {scalar(contact.title)}")
    if contact and contact.phone:
        out.add(f"{pad}phone: {scalar(contact.phone)}")
    if contact and not contact.email:
        out.check(f"{where}.emails", "văn bản không ghi email: ghi ít nhất một địa chỉ", indent)
    email = [contact.email] if contact and contact.email else []
    out.add(f"{pad}emails: [{', '.join(scalar(e) for e in email)}]")


def _units(out: _Writer, plan: PlanText, head: str | None) -> None:
    out.add("")
    out.check(
        "units",
        "văn bản không có danh sách đơn vị thành viên: thêm từng đơn vị của Khối (ít nhất 2), "
        "mỗi đơn vị có code, name và contacts.focal_point (name, emails)",
        0,
    )
    out.add("units:")
    named = [
        (name, plan.secretariat if name == plan.head else None)
        for name in (plan.head, plan.deputy)
        if name
    ]
    for name, contact in named:
        out.add(f"  - code: {unit_code(name)}")
        out.add(f"    name: {scalar(name)}")
        out.add("    contacts:")
        out.add("      focal_point:")
        _person(out, contact, f"units.{unit_code(name)}.focal_point", 8)
    if not named:
        out.lines[-1] = "units: []"


def _rounds(out: _Writer, rounds: list[RoundItem]) -> None:
    out.add("")
    out.add("rounds:")
    for item in rounds:
        out.quote(item.quote, 2)
        for message in item.checks:
            out.check(f"rounds.{item.code}", message, 2)
        out.add(f"  - code: {item.code}")
        out.add(f"    name: {scalar(item.name)}")
        out.add(f"    start: {item.start}")
        out.add(f"    end: {item.end}")
        if item.theme:
            out.add(f"    theme: {scalar(item.theme)}")
        if item.anniversaries:
            out.add("    anniversaries:")
        for anniversary in item.anniversaries:
            out.add(f"      - date: {anniversary.date}")
            out.add(f"        name: {scalar(anniversary.name)}")


def _deadlines(out: _Writer, deadlines: list[DeadlineItem]) -> None:
    out.add("")
    out.add("deadlines:" if deadlines else "deadlines: []")
    for item in deadlines:
        out.quote(item.quote, 2)
        for message in item.checks:
            out.check(f"deadlines.{item.code}", message, 2)
        out.add(f"  - code: {item.code}")
        out.add(f"    kind: {item.kind}")
        out.add(f"    round: {item.round}")
        out.add(f"    title: {scalar(item.title)}")
        out.add(f"    wording: {scalar(item.wording)}")
        out.add(f"    date: {item.date}")
        out.add("    documents:")
        out.lines += [f"      - {scalar(document)}" for document in item.documents]


def _meetings(out: _Writer, meetings: list[MeetingItem]) -> None:
    out.add("")
    out.add("meetings:" if meetings else "meetings: []")
    for item in meetings:
        out.quote(item.quote, 2)
        for message in item.checks:
            out.check(f"meetings.{item.code}", message, 2)
        out.add(f"  - code: {item.code}")
        out.add(f"    title: {scalar(item.title)}")
        if item.round:
            out.add(f"    round: {item.round}")
        if item.wording:
            out.add(f"    wording: {scalar(item.wording)}")
        for key in ("date", "before", "after"):
            if getattr(item, key):
                out.add(f"    {key}: {getattr(item, key)}")
