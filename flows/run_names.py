"""The names of flow runs in the Prefect UI, saying what each run did and as of when:
"Nhắc nộp — 04/03/2020 09:00 (chạy thử, đơn vị syt)", instead of Prefect's "amber-fox"."""

from datetime import UTC, datetime

from prefect.runtime import flow_run

from domain.dates import TZ, fmt_date

# The parameters a run's name mentions when given, each with its label.
LABELS = {"year": "năm", "deadline": "hạn nộp", "unit": "đơn vị", "path": "tệp"}


def describe_run(title: str, parameters: dict, now: datetime) -> str:
    """A run's name from its (validated) parameters; a run without `as_of` is named by `now`."""
    local = (parameters.get("as_of") or now).astimezone(TZ)
    notes = [
        *(["chạy thử"] if parameters.get("dry_run") else []),
        *(f"{label} {parameters[key]}" for key, label in LABELS.items() if parameters.get(key)),
    ]
    return f"{title} — {fmt_date(local.date())} {local:%H:%M}" + (
        f" ({', '.join(notes)})" if notes else ""
    )


def run_name(title: str):
    """The `flow_run_name` of a flow whose runs are named `title` and their time."""
    return lambda: describe_run(title, flow_run.parameters, datetime.now(UTC))
