"""Fixtures: real databases (SQLite and PostgreSQL), the CLI, plan files, SMTP and web servers.

Every test that takes `db` runs once per backend. PostgreSQL is required: if it cannot be
reached the suite errors instead of skipping, so a green run always covered both.
"""

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import psycopg
import pytest
from sqlalchemy.engine import Engine

from models.db import make_engine, upgrade

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here

# Property tests draw the same examples on every run, with no time limit per example: a busy
# two-core machine must not turn a slow example into a failure, nor a new seed into a new result.
hypothesis.settings.register_profile("thidua", derandomize=True, deadline=None, database=None)
hypothesis.settings.load_profile("thidua")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLAN = ROOT / "plans" / "bac-giang-vhxh-2020.yaml"
# The plan document the example plan was typed from (its `source.file`), kept beside the project.
# The 2020 plan document the example plan was taken from, as the bloc published it, with its
# one email address moved to the reserved `.example` domain (tests/test_plan_import.py checks
# the copy against the original when the original is at hand).
SEED_PLAN_TEXT = ROOT / "tests" / "fixtures" / "plan_docs" / "seed-bac-giang-vhxh-2020.txt"
SEED_ORIGINAL = ROOT.parent / "shared" / "seed" / "000_b3a95254fba87560.txt"
PG_ADMIN_URL = os.environ.get(
    "THIDUA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]


@dataclass(frozen=True)
class Ran:
    """What a command left: its exit code and what it printed (as subprocess.CompletedProcess)."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Database:
    url: str
    engine: Engine
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = False, input: str | None = None) -> "Ran":
        """Run `thidua ARGS` against this database in this process (typer's runner: the same
        command, arguments, environment, working folder, output streams and exit code as a
        user's shell, without starting Python again). An error the command does not turn into
        a message fails the test with its traceback instead of becoming exit code 1."""
        from typer.testing import CliRunner

        from config.settings import get_settings
        from thidua.cli import app

        get_settings.cache_clear()
        try:
            with contextlib.chdir(self.data_dir):
                ran = CliRunner().invoke(
                    app, list(args), env=self.env, catch_exceptions=False, input=input
                )
        finally:
            get_settings.cache_clear()
        result = Ran(ran.exit_code, ran.stdout, ran.stderr)
        if check and result.returncode != 0:
            raise AssertionError(
                f"thidua {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result


def _pg_execute(sql: str) -> None:
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required by the suite and is not reachable at {PG_ADMIN_URL}: {error}",
            pytrace=False,
        )


def _pg_url(name: str) -> str:
    return (
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
        + f"/{name}"
    )


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """One migrated database per backend, copied for each test (faster than migrating each)."""
    sqlite_file = tmp_path_factory.mktemp("template") / "thidua.db"
    upgrade(f"sqlite:///{sqlite_file}")
    pg_name = f"thidua_tmpl_{uuid.uuid4().hex[:10]}"
    _pg_execute(f'CREATE DATABASE "{pg_name}"')
    upgrade(_pg_url(pg_name))
    yield {"sqlite": sqlite_file, "postgresql": pg_name}
    _pg_execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db(request, templates, tmp_path) -> Database:
    """A fresh database at the migration head, on each backend in turn."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    if request.param == "sqlite":
        target = data_dir / "thidua.db"
        shutil.copy(templates["sqlite"], target)
        url = f"sqlite:///{target}"
        cleanup = None
    else:
        name = f"thidua_test_{uuid.uuid4().hex[:10]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"')
        url = _pg_url(name)
        cleanup = name
    engine = make_engine(url)
    env = {"THIDUA_DATABASE_URL": url, "THIDUA_DATA_DIR": str(data_dir)}
    yield Database(url, engine, data_dir, env)
    engine.dispose()
    if cleanup:
        _pg_execute(f'DROP DATABASE IF EXISTS "{cleanup}" WITH (FORCE)')


@pytest.fixture
def plan_text() -> str:
    return EXAMPLE_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def write_plan(tmp_path):
    """Write a plan file (text) and return its path."""

    def write(text: str, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def prefect_server():
    """A real, temporary Prefect server (with its own SQLite) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def settings_for(monkeypatch):
    """Point the process's settings (as flows read them) at a test database, plus extras."""
    from config.settings import get_settings

    def use(db, **extra: str):
        for name, value in {**db.env, **extra}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


class RecordingHandler:
    """An aiosmtpd handler that keeps what it accepted and answers from a script when told to."""

    def __init__(self):
        self.accepted: list[bytes] = []
        self.data_replies: list[str] = []  # replies to the next DATA commands, then 250
        self.refuse: dict[str, str] = {}  # recipient -> RCPT reply
        self.rcpt_attempts: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.accepted.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; `.handler.accepted` holds what it took."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.url = f"smtp://127.0.0.1:{controller.port}"
    yield controller
    controller.stop()


@contextmanager
def running(settings, clock=None, **options) -> Iterator:
    """The web app on a real loopback port (uvicorn in a thread), and an httpx client for it;
    `clock` (a `Clock`) stands for the system clock where sessions and sign-in delays read it;
    `options` go to `create_app`."""
    import threading
    import time

    import httpx
    import uvicorn

    from portal.app import create_app

    port = free_port()
    app = create_app(settings, clock, **options) if clock else create_app(settings, **options)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    limit = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < limit, "server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def portal(db, tmp_path, plan_text, write_plan):
    """The app with the example plan (so-ket owed by syt and bdt only), and each unit's link."""
    from sqlmodel import select

    from config.settings import Settings
    from models.db import session_scope
    from models.links import Links
    from models.plan_file import read_plan
    from models.plan_store import load_plan
    from models.tables import Unit, YearPlan

    text = plan_text.replace(
        "    date: 2020-06-20\n", "    date: 2020-06-20\n    owed_by: [syt, bdt]\n"
    )
    settings = Settings(data_dir=db.data_dir, database_url=db.url, max_upload_bytes=50_000)
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(text)), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
        units = {u.code: u.id for u in session.exec(select(Unit)).all()}
        links = Links("", settings.signing_key())
        paths = {code: links.submit_url(session, unit_id) for code, unit_id in units.items()}
    with running(settings) as client:
        client.paths = paths
        client.settings = settings
        yield client


ADMIN_AUTH = ("vanphong", "mat-khau-dai-va-kho-doan")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """A clock a test moves by hand (no sleeping): the app reads it for sessions and delays."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def add_staff(engine, name: str = ADMIN_AUTH[0], password: str = ADMIN_AUTH[1]) -> None:
    """A secretariat account, as `thidua admin add` makes it."""
    from models.db import session_scope
    from models.staff import add_account

    with session_scope(engine) as session:
        add_account(session, name=name, password=password, actor="test", at=datetime.now(UTC))


def sign_in(client, name: str = ADMIN_AUTH[0], password: str = ADMIN_AUTH[1]):
    """Fill and send the sign-in form as a browser would: the answer (303 when signed in)."""
    form = client.get("/quan-tri/dang-nhap")
    (csrf,) = CSRF.findall(form.text)
    # Sent by hand: with an https public address the cookie is Secure, and the test talks
    # plain HTTP to the app as a TLS proxy would.
    cookie = f"thidua_dang_nhap={form.cookies['thidua_dang_nhap']}"
    return client.post(
        "/quan-tri/dang-nhap",
        data={"csrf": csrf, "name": name, "password": password},
        headers={"Cookie": cookie},
    )


def same_site_client(base_url: str):
    """An httpx client that sends the Origin a page of the portal sends with its forms."""
    import httpx

    base = str(base_url).rstrip("/")
    return httpx.Client(base_url=base, timeout=30, headers={"Origin": base})


@pytest.fixture
def admin_portal(portal, db):
    """The portal signed in as `ADMIN_AUTH` (an account made as `thidua admin add` makes it):
    the client sends the portal's Origin, `.csrf` is the forms' token, `.clock` the app's clock."""
    add_staff(db.engine)
    clock = Clock()
    with running(portal.settings, clock) as client:
        client.headers["Origin"] = str(client.base_url).rstrip("/")
        assert sign_in(client).status_code == 303
        (client.csrf,) = set(CSRF.findall(client.get("/quan-tri").text))
        client.clock = clock
        yield client
