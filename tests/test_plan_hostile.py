"""A hostile or careless plan file gets the usual `FILE:LINE: field: message` errors in
Vietnamese, quickly and in bounded memory: never a traceback, a hang or an echo of a huge value."""

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from models.plan_file import PlanFileError, read_plan
from models.tables import AuditEvent, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN, ROOT

PLAN = EXAMPLE_PLAN.read_text(encoding="utf-8")
ENGLISH = re.compile(r"\b(found|expected|while|could|not|allowed|character|scanning|parsing)\b")
QUOTED = r"'[^']*'|\"[^\"]*\"|“[^”]*”"  # values quoted back from the file
LONGEST_LINE = 300  # no error line may be longer: a huge value is cut, never echoed whole


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": 10 aliases per level, 10**levels strings once expanded."""
    lines = ["lol0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, levels):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return PLAN + "\n".join(lines) + "\n"


def merge_bomb(levels: int = 9) -> str:
    """The same blow-up through merge keys: each mapping merges the previous one ten times."""
    lines = ["m0: &m0 {a: 1, b: 2}"]
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 10) + "], c: 3}")
    return PLAN + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    marker: str  # text on the line the error must point to
    message: str  # a fragment of the Vietnamese message
    path: str = ""  # the field path as printed, when the error has one


CASES = [
    Case(
        "impossible-day",
        "    date: 2020-06-20\n",
        "    date: 2020-02-30\n",
        "2020-02-30",
        "ngày không có thật: 2020-02-30",
        "deadlines[1].date",
    ),
    Case(
        "impossible-month",
        "    date: 2020-06-20\n",
        "    date: 2020-13-45\n",
        "2020-13-45",
        "ngày không có thật: 2020-13-45",
        "deadlines[1].date",
    ),
    Case(
        "nul-byte",
        "  province: Bắc Giang\n",
        "  province: Bắc\x00Giang\n",
        "province:",
        "ký tự điều khiển",
    ),
    Case(
        "deeply-nested-lists",
        "format: 1\n",
        "format: 1\nnested: " + "[" * 5000 + "]" * 5000 + "\n",
        "nested:",
        "lồng nhau quá sâu",
    ),
    Case(
        "list-as-mapping-key",
        "format: 1\n",
        "format: 1\n? [a, b]\n: 1\n",
        "? [a, b]",
        "khóa phải là",
    ),
    Case(
        "tab-indentation",
        "  province: Bắc Giang\n",
        "\tprovince: Bắc Giang\n",
        "province:",
        "lỗi cú pháp YAML: dùng phím Tab",
    ),
    Case(
        "colon-in-plain-value",
        "  province: Bắc Giang\n",
        "  province: Bắc Giang: tỉnh\n",
        "province:",
        "lỗi cú pháp YAML: dấu ':'",
    ),
    Case(
        "unclosed-flow-list",
        "  code: bg-vhxh\n",
        "  code: [bg-vhxh\n",
        "name: Khối thi đua",
        "lỗi cú pháp YAML: thiếu dấu ',' hoặc ']'",
    ),
    Case(
        "unclosed-quote",
        "  emails: [bantdkt.snv@bacgiang.gov.vn.example]\n",
        '  emails: [bantdkt.snv@bacgiang.gov.vn.example]\nnote: "không đóng\n',
        'note: "',
        "lỗi cú pháp YAML: chuỗi trong ngoặc kép",
    ),
    Case(
        "recursive-alias",
        "format: 1\n",
        "format: 1\nloop: &loop [*loop]\n",
        "loop:",
        "bí danh *loop",
    ),
    Case(
        "undefined-alias",
        "deputy: svhttdl",
        "deputy: *nowhere",
        "deputy:",
        "bí danh *nowhere",
    ),
    Case(
        "second-document",
        "format: 1\n",
        "format: 1\n---\nformat: 1\n",
        "---",
        "một tài liệu YAML",
    ),
    Case(
        "python-object-tag",
        "deputy: svhttdl",
        "deputy: !!python/object/apply:os.system [ls]",
        "deputy:",
        "thẻ YAML",
    ),
    Case(
        "binary-tag",
        "deputy: svhttdl",
        "deputy: !!binary aGVsbG8=",
        "deputy:",
        "thẻ YAML",
    ),
    Case(
        "integer-too-long-to-convert",
        "year: 2020\n",
        "year: " + "1" * 5000 + "\n",
        "year:",
        "số quá lớn",
        "year",
    ),
    Case(
        "unit-name-with-line-break",
        "    name: Sở Thông tin và Truyền thông\n",
        '    name: "Sở Thông tin\\nBEGIN:VEVENT"\n',
        "BEGIN:VEVENT",
        "ký tự điều khiển",
        "units[0].name",
    ),
    Case(
        "unit-name-with-bare-cr",
        "    name: Sở Thông tin và Truyền thông\n",
        '    name: "Sở Thông tin\\rvà Truyền thông"\n',
        "Thông tin\\rvà",
        "ký tự điều khiển",
        "units[0].name",
    ),
    Case(
        "unit-name-with-line-separator",
        "    name: Sở Thông tin và Truyền thông\n",
        '    name: "Sở Thông tin\\Lvà Truyền thông"\n',
        "Thông tin\\Lvà",
        "ký tự điều khiển",
        "units[0].name",
    ),
    Case(
        "deadline-title-with-bell",
        "    title: Gửi đăng ký danh hiệu thi đua năm 2020\n",
        '    title: "Gửi đăng ký\\a danh hiệu"\n',
        "Gửi đăng ký",
        "ký tự điều khiển",
        "deadlines[0].title",
    ),
    Case(
        "person-name-with-line-break",
        "  name: Bùi Linh Đồng\n",
        "  name: |\n    Bùi Linh\n    Đồng\n",
        "name: |",
        "ký tự điều khiển",
        "secretariat.name",
    ),
    Case(
        "infinite-bonus-cap",
        "  bonus_cap: 10\n",
        "  bonus_cap: .inf\n",
        "bonus_cap:",
        "phải là số hữu hạn",
        "score_sheet.bonus_cap",
    ),
    Case(
        "tiny-scoring-step",
        "  step: 0.5\n",
        "  step: 1e-300\n",
        "step:",
        "giá trị phải ≥ 0.01",
        "score_sheet.step",
    ),
    Case(
        "no-penalty-allowed-at-all",
        "  total: 100\n",
        "  total: 100\n  max_occurrences: 0\n",
        "max_occurrences:",
        "giá trị phải ≥ 1",
        "score_sheet.max_occurrences",
    ),
    Case(
        "huge-quota",
        "    quota: 1\n",
        "    quota: 1000000000000000000000\n",
        "quota:",
        "giá trị phải ≤ 1000",
        "commendations[0].quota",
    ),
]


def _line_of(text: str, marker: str) -> int:
    index = text.find(marker)
    assert index >= 0, marker
    return text.count("\n", 0, index) + 1


def _problems(path: Path) -> list[str]:
    with pytest.raises(PlanFileError) as raised:
        read_plan(path)
    return str(raised.value).splitlines()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_plan_gets_a_vietnamese_error_with_file_and_line(case, write_plan):
    assert case.old in PLAN, case.old
    text = PLAN.replace(case.old, case.new, 1)
    path = write_plan(text)
    started = time.monotonic()
    lines = _problems(path)
    assert time.monotonic() - started < 5
    where = f"{path}:{_line_of(text, case.marker)}: "
    expected = where + (f"{case.path}: " if case.path else "")
    assert any(line.startswith(expected) and case.message in line for line in lines), lines
    assert not any(ENGLISH.search(line.removeprefix(str(path))) for line in lines), lines


def test_a_huge_value_is_cut_in_the_error(write_plan):
    path = write_plan(PLAN.replace("year: 2020\n", "year: " + "a" * 500_000 + "\n"))
    (line,) = _problems(path)
    assert line.startswith(f"{path}:9: year: phải là số nguyên (đang là 'aaaa")
    assert len(line) < LONGEST_LINE and "…" in line


def test_a_huge_unknown_key_with_a_line_break_is_cut_and_stays_on_one_line(write_plan):
    key = "x" * 100_000 + "\\nLỗi: giả mạo"
    path = write_plan(PLAN.replace("format: 1\n", f'format: 1\n? "{key}"\n: 1\n'))
    (line,) = _problems(path)
    assert line.startswith(f"{path}:9: ") and "không có trong định dạng" in line
    assert len(line) < LONGEST_LINE


def test_a_file_over_the_size_bound_is_refused_before_it_is_parsed(write_plan):
    path = write_plan(PLAN + "# " + "x" * 1_100_000 + "\n")
    started = time.monotonic()
    (line,) = _problems(path)
    assert time.monotonic() - started < 1
    assert line == f"{path}:0: tệp quá lớn (hơn 1 MB); một tệp kế hoạch chỉ vài chục kB"


def test_a_missing_file_is_named_in_vietnamese(tmp_path):
    path = tmp_path / "khong-co.yaml"
    assert _problems(path) == [f"{path}:0: không đọc được tệp: không có tệp này"]


def test_anchors_aliases_and_merge_keys_still_work(write_plan):
    text = (
        PLAN.replace(
            "reminders:\n  before: [7, 3, 1]",
            "reminders: &policy\n  before: [7, 3, 1]",
        )
        .replace(
            "    date: 2020-06-20\n",
            "    date: 2020-06-20\n    reminders:\n      <<: *policy\n      max_overdue: 2\n",
        )
        .replace(
            "emails: [dongbl.stttt@bacgiang.gov.vn.example]\ncalendar:",
            "emails: &office [dongbl.stttt@bacgiang.gov.vn.example]\ncalendar:",
        )
        .replace(
            "        emails: [dongbl.stttt@bacgiang.gov.vn.example]\n",
            "        emails: *office\n",
        )
    )
    document = read_plan(write_plan(text)).document
    policy = document.deadlines[1].reminders
    assert (policy.before, policy.after_every, policy.max_overdue) == ([7, 3, 1], 3, 2)
    assert document.units[0].contacts.focal_point.emails == ["dongbl.stttt@bacgiang.gov.vn.example"]


def _with_first_theme(theme: str) -> str:
    start = PLAN.index("    theme: >-\n")
    end = PLAN.index("    anniversaries:", start)
    return PLAN[:start] + f"    theme: {theme}\n" + PLAN[end:]


def test_a_round_theme_may_span_lines_but_not_carry_other_control_characters(write_plan):
    multiline = _with_first_theme('"Phát động thi đua\\nchào mừng 90 năm"')
    assert read_plan(write_plan(multiline)).document.rounds[0].theme == (
        "Phát động thi đua\nchào mừng 90 năm"
    )
    bell = _with_first_theme('"Phát động thi đua\\a chào mừng 90 năm"')
    lines = _problems(write_plan(bell, "bell.yaml"))
    assert any("rounds[0].theme: " in line and "ký tự điều khiển" in line for line in lines)


def test_the_penalty_limit_defaults_to_100_occurrences(write_plan):
    assert read_plan(EXAMPLE_PLAN).document.score_sheet.max_occurrences == 100
    text = PLAN.replace("  total: 100\n", "  total: 100\n  max_occurrences: 12\n")
    assert read_plan(write_plan(text)).document.score_sheet.max_occurrences == 12


READ_IN_A_BOUNDED_PROCESS = """
import resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (%d, %d))
from models.plan_file import PlanFileError, read_plan
started = time.monotonic()
try:
    read_plan(Path(sys.argv[1]))
except PlanFileError as error:
    print(round(time.monotonic() - started, 2), str(error), sep="\\n")
"""


@pytest.mark.parametrize("text", [alias_bomb(), merge_bomb()], ids=["alias-bomb", "merge-bomb"])
def test_an_expansion_bomb_is_refused_within_seconds_and_bounded_memory(text, write_plan):
    limit = 512 * 2**20  # the bomb itself would need far more than 100 GB once expanded
    path = write_plan(text)
    result = subprocess.run(
        [sys.executable, "-c", READ_IN_A_BOUNDED_PROCESS % (limit, limit), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]
    seconds, *problems = result.stdout.splitlines()
    assert float(seconds) < 5
    (problem,) = problems
    assert problem.startswith(f"{path}:") and "bí danh" in problem
    line = int(problem.removeprefix(f"{path}:").split(":")[0])
    assert line > PLAN.count("\n")  # a line of the bomb, after the example plan


def test_cli_refuses_an_alias_bomb_in_one_line_each_and_writes_nothing(db, write_plan):
    path = write_plan(alias_bomb())
    for command in ("check", "load"):
        result = db.cli("plan", command, str(path))
        assert result.returncode == 1, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1] == "Lỗi: kế hoạch không hợp lệ: 1 lỗi, chưa ghi gì"
        assert "bí danh" in result.stderr.splitlines()[0]
    with Session(db.engine) as session:
        for table in (Unit, YearPlan, AuditEvent):
            assert session.exec(select(func.count()).select_from(table)).one() == 0


# --- Fuzz: whatever the bytes, the reader answers with its own error, quickly ---------------

YAML_NOISE = ":-[]{}&*!|>'\"\n\t #,?%@`\\\x00\r<=~\u2028\ufeff"
HOSTILE_VALUES = [
    ".nan",
    ".inf",
    "-.inf",
    "1e400",
    "-1",
    "0",
    "1" * 40,
    "0x_",
    "0b_",
    "1:2:3",
    "2020-02-30",
    "2020-01-01 25:00:00",
    "0000-01-01",
    "~",
    "[]",
    "{}",
    "[[[[]]]]",
    "*nowhere",
    "&a x",
    "<<",
    "=",
    "yes",
    "0.5",
    "2/3",
    "1/0",
    '"9999999999/1"',
    "!!str 5",
    "!!int x",
    '"\\0"',
    '"a\\nb"',
    "'a b'",
    "|\n  a\n  b",
    "? x",
    "- x",
    "x: y",
    "99999999999999999999",
    "2020-12-31",
]
FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=5),  # a real plan reads in about 0.1 s
    suppress_health_check=[HealthCheck.too_slow],
)


def _read_or_refuse(raw: bytes) -> None:
    """Read `raw` as a plan file: it is accepted or refused with short, one-line problems."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_bytes(raw)
        try:
            read_plan(path)
        except PlanFileError as error:
            assert error.problems
            for line in str(error).splitlines():
                assert line.startswith(f"{path}:") and len(line) < LONGEST_LINE, line
            for problem in error.problems:
                assert not ENGLISH.search(re.sub(QUOTED, "", problem.message)), problem


@st.composite
def mutated_plans(draw) -> str:
    text = PLAN
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        removed = draw(st.integers(0, 30))
        noise = st.sampled_from(YAML_NOISE) | st.characters()
        inserted = draw(st.text(alphabet=noise, max_size=12))
        text = text[:at] + inserted + text[at + removed :]
    for _ in range(draw(st.integers(0, 3))):  # a value replaced by one a validator must catch
        lines = text.split("\n")
        at = draw(st.integers(0, len(lines) - 1))
        key, colon, _ = lines[at].partition(": ")
        if colon:
            lines[at] = f"{key}: {draw(st.sampled_from(HOSTILE_VALUES))}"
        text = "\n".join(lines)
    if draw(st.booleans()):  # move a whole line elsewhere: breaks indentation and structure
        lines = text.split("\n")
        line = lines.pop(draw(st.integers(0, len(lines) - 1)))
        lines.insert(draw(st.integers(0, len(lines))), line)
        text = "\n".join(lines)
    return text


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_fuzz_arbitrary_bytes_never_crash_the_reader(raw):
    _read_or_refuse(raw)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(YAML_NOISE) | st.characters(), max_size=3000))
def test_fuzz_arbitrary_text_never_crashes_the_reader(text):
    _read_or_refuse(text.encode("utf-8", errors="surrogatepass"))


@FUZZ
@given(text=mutated_plans())
def test_fuzz_mutated_example_plans_never_crash_the_reader(text):
    _read_or_refuse(text.encode("utf-8", errors="surrogatepass"))
