"""The docs keep step with the code: every setting, command and plan key is documented.

Read from the code, not from a list kept by hand, so a new setting, command or plan key
fails here until the docs name it (sqlite-utils checks its docs the same way).
"""

import re
from collections.abc import Iterator
from typing import get_args

import typer.main
from pydantic import BaseModel

from config.settings import Settings
from domain.plan_schema import PlanDocument
from tests.conftest import ROOT
from thidua.cli import app

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PLAN_FORMAT = ROOT / "docs" / "plan-format.md"


def read(*paths) -> str:
    # Lines are wrapped anywhere in prose: `thidua score\nverify` names `thidua score verify`.
    return re.sub(r"\s+", " ", "\n".join(path.read_text(encoding="utf-8") for path in paths))


def named(word: str, text: str) -> bool:
    """`word` stands in `text` as a whole name (THIDUA_SMTP_PASSWORD is not in ..._BLOCK)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def env_names() -> list[str]:
    prefix = Settings.model_config["env_prefix"]
    return [
        field.validation_alias if isinstance(field.validation_alias, str) else prefix + name.upper()
        for name, field in Settings.model_fields.items()
    ]


def commands(command=None, path: tuple[str, ...] = ("thidua",)) -> Iterator[str]:
    """Every command and subcommand, as typed: `thidua plan check`."""
    command = command or typer.main.get_command(app)
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield " ".join((*path, name))
            yield from commands(sub, (*path, name))


def nested_models(annotation) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):  # list[Unit], Person | None, Annotated[...]
        yield from nested_models(arg)


def plan_keys(model: type[BaseModel] = PlanDocument, path=()) -> Iterator[tuple[tuple, str]]:
    """(path of the model, key) for every key of the plan file, nested models included."""
    for name, field in model.model_fields.items():
        yield path, name
        for nested in nested_models(field.annotation):
            yield from plan_keys(nested, (*path, name))


def sections(markdown: str) -> dict[str, str]:
    """Each heading's own text, up to the next heading of any level (code blocks skipped)."""
    found: dict[str, str] = {}
    heading, fenced = "", False
    for line in markdown.splitlines():
        fenced ^= line.lstrip().startswith("```")
        if not fenced and re.match(r"#{1,6} ", line):
            heading = line
            found[heading] = ""
        elif heading:
            found[heading] += line + "\n"
    return found


def section_names(heading: str) -> set[str]:
    """The keys a heading is about: "### People: `secretariat` and `units[].contacts`" names
    secretariat and contacts."""
    return {
        re.split(r"[.\[\]]+", span.strip("[]"))[-1] for span in re.findall(r"`([^`]+)`", heading)
    }


def where_documented(path: tuple, parts: dict[str, str]) -> tuple[str, str]:
    """The section a model's keys belong in: the top-level table for the plan's own keys, else
    the section named after the nearest key on the path (the whole file if none is)."""
    if not path:
        return next((h, text) for h, text in parts.items() if "Top-level keys" in h)
    for key in reversed(path):
        for heading, text in parts.items():
            if key in section_names(heading):
                return heading, text
    return "the whole file", "\n".join(parts.values())


def test_every_setting_is_documented():
    text = read(README, ROOT / "docs" / "deploy.md")
    missing = [name for name in env_names() if not named(name, text)]
    assert not missing, f"settings missing from README.md and docs/deploy.md: {missing}"


def test_every_command_is_documented():
    text = read(README, *DOCS)
    found = list(commands())
    assert "thidua plan check" in found and "thidua score verify" in found  # the walk works
    missing = [command for command in found if not named(command, text)]
    assert not missing, f"commands missing from README.md and docs/: {missing}"


def test_every_plan_key_is_documented_in_its_section():
    parts = sections(PLAN_FORMAT.read_text(encoding="utf-8"))
    keys = list(plan_keys())
    assert ((), "report_to") in keys and (("score_sheet", "penalties"), "disciplinary") in keys
    missing = []
    for path, key in keys:
        heading, text = where_documented(path, parts)
        if not re.search(rf"`{re.escape(key)}(`|: )", text):  # `key` or `key: value`
            missing.append(f"{'.'.join(path) or 'top level'}: `{key}` (expected under {heading})")
    assert not missing, "plan keys missing from docs/plan-format.md:\n" + "\n".join(missing)
