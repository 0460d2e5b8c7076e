"""The project's promises to a newcomer: the README's commands, CI, migrations that match."""

import os
import re
import subprocess
import sys

import pytest
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


def test_the_schema_check_knows_the_newest_migration():
    from alembic.script import ScriptDirectory

    from models.db import HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == HEAD


def test_a_database_below_the_newest_migration_is_refused_naming_the_command(db):
    from models.db import HEAD

    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    result = db.cli("status")
    assert result.returncode == 1
    assert f"phiên bản 0001, cần {HEAD}: chạy `thidua db upgrade`" in result.stderr


def test_db_upgrade_is_idempotent(db):
    first = db.cli("db", "upgrade", check=True)
    second = db.cli("db", "upgrade", check=True)
    assert "phiên bản mới nhất" in first.stdout and first.stdout == second.stdout


def test_db_upgrade_says_whether_it_created_or_upgraded_the_database(db, tmp_path):
    from models.db import HEAD, upgrade

    new = f"sqlite:///{tmp_path / 'moi' / 'thidua.db'}"
    already = db.cli("db", "upgrade", check=True)  # `db` is migrated: the other cases on files
    db.env["THIDUA_DATABASE_URL"] = new
    made = db.cli("db", "upgrade", check=True)
    old = f"sqlite:///{tmp_path / 'cu.db'}"
    upgrade(old, "0005")
    db.env["THIDUA_DATABASE_URL"] = old
    raised = db.cli("db", "upgrade", check=True)
    assert already.stdout.startswith(f"Cơ sở dữ liệu đã ở phiên bản mới nhất, {HEAD}")
    assert made.stdout.startswith(f"Đã tạo cơ sở dữ liệu, phiên bản {HEAD}")
    assert raised.stdout.startswith(f"Đã nâng cấp cơ sở dữ liệu từ phiên bản 0005 lên {HEAD}")


def test_readme_links_point_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)\)", readme)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link


HEAVY = {"prefect", "flows", "uvicorn", "fastapi", "docx", "openpyxl", "sqlalchemy", "sqlmodel"}


@pytest.mark.parametrize(
    "imports",
    [
        "thidua.cli",  # what every command pays before it runs: `thidua --help` answers at once
        "thidua.cli, models.plan_file",  # `thidua plan check` reads the file, opens no database
    ],
)
def test_a_light_command_loads_no_database_web_or_prefect_library(imports):
    """Prefect alone takes seconds to import, SQLAlchemy one: a command loads them when it runs."""
    probe = f"import sys, {imports}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert set(result.stdout.split()) & HEAVY == set()


READING = {"prefect", "flows", "uvicorn", "fastapi", "docx", "openpyxl", "alembic"}


@pytest.mark.parametrize("command", [["status"], ["plan", "show"]])
def test_a_command_that_reads_the_database_loads_no_migration_web_or_prefect_library(
    db, plan_text, write_plan, command
):
    """These answer within two seconds: the database library, not Alembic's migration machinery
    (a second more), nor Prefect, the web app or the document libraries."""
    db.cli("plan", "load", str(write_plan(plan_text)), check=True)
    probe = (
        "import atexit, sys; from thidua.cli import app; "
        "atexit.register(lambda: print('LOADED', *{m.split('.')[0] for m in sys.modules})); "
        f"app({command!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=db.data_dir,
        env={**os.environ, **db.env},
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.rsplit("LOADED", 1)[1].split())
    assert "sqlalchemy" in loaded and loaded & READING == set()
