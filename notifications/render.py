"""Rendering emails from the template pairs in `templates/` (pure: context in, text out).

Each message is `NAME.txt.j2` + `NAME.html.j2`; the text template sets `subject`. Undefined
variables are errors, HTML is autoescaped, dates read `dd/mm/yyyy`.
"""

import unicodedata
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.dates import fmt_date, fmt_day

MESSAGES = (
    "round_opening",
    "registration_request",
    "reminder_before",
    "due_today",
    "overdue",
    "receipt",
    "digest",
    "ballot_invitation",
    "results",
    "run_failed",
    "letter",
    "unit_links",
    "run_late",
)

ENVIRONMENT = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(ngay=fmt_date, thu_ngay=fmt_day)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: dict) -> Rendered:
    """Render message `name` with `context`; raises jinja2.UndefinedError on a missing value."""
    if name not in MESSAGES:
        raise ValueError(f"unknown message template {name!r}")
    module = ENVIRONMENT.get_template(f"{name}.txt.j2").make_module(context)
    subject = " ".join(str(module.subject).split())
    html = ENVIRONMENT.get_template(f"{name}.html.j2").render(context, subject=subject)
    return Rendered(_nfc(subject), _nfc(str(module).strip() + "\n"), _nfc(html))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
