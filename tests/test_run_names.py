"""Flow runs are named by what they do and as of when, in Vietnam time (pure)."""

from datetime import UTC, datetime

from domain.dates import TZ
from flows.run_names import describe_run

NOW = datetime(2020, 3, 4, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam


def test_a_run_without_as_of_is_named_by_its_start_in_vietnam_time():
    assert describe_run("Dựng lại lịch", {"as_of": None}, NOW) == "Dựng lại lịch — 04/03/2020 08:30"


def test_a_run_is_named_by_its_as_of_and_the_choices_it_was_given():
    parameters = {
        "as_of": datetime(2020, 3, 4, 9, 0, tzinfo=TZ),
        "dry_run": True,
        "deadline": "dang-ky",
        "unit": None,
    }
    assert describe_run("Nhắc nộp", parameters, NOW) == (
        "Nhắc nộp — 04/03/2020 09:00 (chạy thử, hạn nộp dang-ky)"
    )
    assert describe_run("Tính điểm và xếp hạng", {"year": 2020}, NOW) == (
        "Tính điểm và xếp hạng — 04/03/2020 08:30 (năm 2020)"
    )
