"""A broken plan file gets one error per problem, naming file, line and field; nothing is written."""

from dataclasses import dataclass

import pytest
from sqlmodel import Session, func, select

from models.plan_file import PlanFileError, read_plan
from models.tables import AuditEvent, Bloc, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    path: str  # the field path as printed
    message: str  # a fragment of the Vietnamese message
    marker: str  # text on the line the error must point to
    last: bool = False  # the marker's last occurrence rather than its first


CASES = [
    Case(
        "unknown-key",
        "    short_name: Sở TT&TT\n",
        "    short_name: Sở TT&TT\n    shortname: x\n",
        "units[0].shortname",
        "không có trong định dạng",
        "shortname: x",
    ),
    Case(
        "wrong-type", "year: 2020\n", "year: hai nghìn\n", "year", "phải là số nguyên", "year: hai"
    ),
    Case(
        "date-outside-year",
        "    date: 2020-06-20\n",
        "    date: 2021-06-20\n",
        "deadlines[1].date",
        "nằm ngoài năm kế hoạch 2020",
        "date: 2021-06-20",
    ),
    Case(
        "overlapping-rounds",
        "    start: 2020-07-01\n",
        "    start: 2020-06-15\n",
        "rounds[1].start",
        "trùng thời gian với đợt 'dot-1'",
        "start: 2020-06-15",
    ),
    Case(
        "deadline-before-round",
        "    date: 2020-12-10\n",
        "    date: 2020-06-10\n",
        "deadlines[2].date",
        "không sau ngày bắt đầu đợt 'dot-2'",
        "date: 2020-06-10",
    ),
    Case(
        "unknown-unit",
        "deputy: svhttdl",
        "deputy: sovhtt",
        "deputy",
        "đơn vị 'sovhtt' không có trong danh sách units",
        "deputy: sovhtt",
    ),
    Case(
        "unknown-round",
        "    round: dot-2\n    title: Báo cáo tổng kết",
        "    round: dot-3\n    title: Báo cáo tổng kết",
        "deadlines[2].round",
        "đợt 'dot-3' không có",
        "round: dot-3",
    ),
    Case(
        "duplicate-unit-code",
        "  - code: dptth",
        "  - code: baobg",
        "units[8].code",
        "mã đơn vị 'baobg' bị trùng",
        "- code: baobg",
        last=True,
    ),
    Case(
        "invalid-email",
        "[vanphong.syt@bacgiang.gov.vn.example]",
        "[vanphong.syt@@bacgiang]",
        "units[3].contacts.focal_point.emails[0]",
        "email không hợp lệ",
        "vanphong.syt@@",
    ),
    Case(
        "criteria-do-not-add-up",
        "ngành liên quan, max: 5}",
        "ngành liên quan, max: 6}",
        "score_sheet.groups[0].max",
        "tổng điểm các tiêu chí là 61, khác 60",
        "max: 60",
    ),
    Case(
        "groups-do-not-add-up",
        "  total: 100\n",
        "  total: 90\n",
        "score_sheet.total",
        "tổng điểm tối đa các nhóm là 100, khác 90",
        "total: 90",
    ),
    Case(
        "meeting-until-without-date",
        "    before: 2020-07-10\n",
        "    before: 2020-07-10\n    until: 2020-07-20\n",
        "meetings[0].until",
        "'until' cần 'date' và phải sau ngày đó",
        "until: 2020-07-20",
    ),
    Case(
        "meeting-until-with-times",
        "    before: 2020-07-10\n",
        '    date: 2020-06-01\n    until: 2020-06-30\n    start: "08:00"\n',
        "meetings[0].until",
        "cuộc họp nhiều ngày không ghi giờ",
        "until: 2020-06-30",
    ),
    Case(
        "head-equals-deputy",
        "deputy: svhttdl",
        "deputy: stttt",
        "deputy",
        "Phó Trưởng khối phải khác Trưởng khối",
        "deputy: stttt",
    ),
    Case(
        "duplicate-yaml-key",
        "year: 2020\n",
        "year: 2020\nyear: 2021\n",
        "year",
        "khóa bị lặp lại",
        "year: 2021",
    ),
    Case(
        "unknown-deadline-kind",
        "    kind: report\n",
        "    kind: baocao\n",
        "deadlines[1].kind",
        "giá trị phải là một trong",
        "kind: baocao",
    ),
    Case(
        "unquoted-time",
        "    before: 2020-07-10\n",
        "    date: 2020-07-08\n    start: 14:00\n",
        "meetings[0].start",
        'giờ phải viết trong ngoặc kép dạng "HH:MM"',
        "start: 14:00",
    ),
    Case(
        "missing-required-field",
        "    title: Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020\n",
        "",
        "deadlines[1].title",
        "thiếu trường bắt buộc",
        "- code: so-ket",
    ),
]


def _mutate(plan_text: str, case: Case) -> str:
    assert plan_text.count(case.old) >= 1, f"fixture text not found: {case.old!r}"
    return plan_text.replace(case.old, case.new, 1)


def _line_of(text: str, marker: str, last: bool) -> int:
    index = text.rfind(marker) if last else text.find(marker)
    assert index >= 0, marker
    return text.count("\n", 0, index) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan_error_names_file_line_and_field(case, plan_text, write_plan):
    text = _mutate(plan_text, case)
    path = write_plan(text)
    with pytest.raises(PlanFileError) as raised:
        read_plan(path)
    expected = f"{path}:{_line_of(text, case.marker, case.last)}: {case.path}: "
    lines = str(raised.value).splitlines()
    assert any(line.startswith(expected) and case.message in line for line in lines), lines


def test_yaml_syntax_error_names_the_line(plan_text, write_plan):
    text = plan_text.replace("  code: bg-vhxh\n", "  code: [bg-vhxh\n", 1)
    path = write_plan(text)
    with pytest.raises(PlanFileError) as raised:
        read_plan(path)
    (problem,) = raised.value.problems
    assert "lỗi cú pháp YAML" in problem.message
    assert abs(problem.line - _line_of(text, "code: [bg-vhxh", False)) <= 1


def test_every_problem_is_reported_at_once(plan_text, write_plan):
    text = plan_text.replace("deputy: svhttdl", "deputy: stttt").replace(
        "  total: 100\n", "  total: 90\n"
    )
    with pytest.raises(PlanFileError) as raised:
        read_plan(write_plan(text))
    paths = {problem.path for problem in raised.value.problems}
    assert {("deputy",), ("score_sheet", "total")} <= paths


def test_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes("title: Kế hoạch".encode("cp1258", errors="replace") + b"\xff\xfe")
    with pytest.raises(PlanFileError, match="không phải UTF-8"):
        read_plan(path)


def test_cli_check_prints_each_problem_and_exits_non_zero(db, plan_text, write_plan):
    path = write_plan(plan_text.replace("deputy: svhttdl", "deputy: stttt"))
    result = db.cli("plan", "check", str(path))
    assert result.returncode == 1
    assert (
        f"{path}:" in result.stderr
        and "deputy: Phó Trưởng khối phải khác Trưởng khối" in result.stderr
    )
    assert (
        result.stderr.strip().splitlines()[-1] == "Lỗi: kế hoạch không hợp lệ: 1 lỗi, chưa ghi gì"
    )
    assert "Traceback" not in result.stderr


def test_invalid_plan_load_writes_nothing(db, plan_text, write_plan):
    path = write_plan(plan_text.replace("    date: 2020-06-20\n", "    date: 2021-06-20\n"))
    result = db.cli("plan", "load", str(path))
    assert result.returncode == 1
    with Session(db.engine) as session:
        for table in (Bloc, Unit, YearPlan, AuditEvent):
            assert session.exec(select(func.count()).select_from(table)).one() == 0, table


def test_example_plan_passes_check(db):
    from tests.conftest import EXAMPLE_PLAN

    result = db.cli("plan", "check", str(EXAMPLE_PLAN), check=True)
    assert "hợp lệ — năm 2020, 9 đơn vị, 2 đợt, 3 hạn nộp, 2 cuộc họp" in result.stdout


def test_check_warns_of_a_last_day_or_meeting_on_a_day_off_and_still_passes(
    db, plan_text, write_plan
):
    text = plan_text.replace("    date: 2020-06-20\n", "    date: 2020-06-21\n").replace(
        "    before: 2020-07-10\n", "    date: 2020-09-02\n"
    )
    path = write_plan(text)
    lines = text.splitlines()
    result = db.cli("plan", "check", str(path))
    assert result.returncode == 0 and "hợp lệ" in result.stdout
    warnings = result.stderr.splitlines()
    assert warnings == [
        f"Chú ý: {path}:{lines.index('    date: 2020-06-21') + 1}: deadlines[1].date: hạn cuối "
        "nộp Thứ Bảy, 20/06/2020 là ngày nghỉ; ngày làm việc liền trước: Thứ Sáu, 19/06/2020",
        f"Chú ý: {path}:{lines.index('    date: 2020-09-02') + 1}: meetings[0].date: ngày họp "
        "Thứ Tư, 02/09/2020 là ngày nghỉ; ngày làm việc liền trước: Thứ Ba, 01/09/2020",
    ]
    assert db.cli("plan", "check", str(EXAMPLE_PLAN), check=True).stderr == ""
