"""The project's promises to a newcomer: the README's commands, CI, migrations that match."""

import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from tests.conftest import ROOT


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\s*\$ (.+)$", section, flags=re.MULTILINE)


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    assert _readme_commands() == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_migrations_match_the_tables(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "run alembic revision --autogenerate: the tables changed"


def test_db_upgrade_is_idempotent(db):
    first = db.cli("db", "upgrade", check=True)
    second = db.cli("db", "upgrade", check=True)
    assert "phiên bản mới nhất" in first.stdout and first.stdout == second.stdout


def test_readme_links_point_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)\)", readme)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link


def test_the_cli_loads_prefect_only_for_the_commands_that_run_flows():
    """Every command pays for what `thidua.cli` imports: Prefect alone takes seconds."""
    import subprocess
    import sys

    probe = "import sys, thidua.cli; print(' '.join({m.split('.')[0] for m in sys.modules}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    heavy = set(result.stdout.split()) & {"prefect", "flows", "uvicorn", "docx"}
    assert heavy == set()
