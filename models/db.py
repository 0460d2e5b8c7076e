"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0012"  # the newest migration's revision: a new migration moves it (tests/test_project.py)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout, and its folder.
    Errors never show the statement's values (an email body carries a unit's private link)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN: `_begin` does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL, one fsync per checkpoint
        cursor.execute("PRAGMA secure_delete=ON")  # a rewritten row leaves no old bytes behind
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # Take the write lock first: a transaction that reads and then writes would otherwise
        # fail with "database is locked" when another writer committed in between (WAL
        # snapshots cannot be upgraded). Waiting writers queue on the busy timeout instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def forget_history(engine: Engine) -> None:
    """On SQLite, move the write-ahead log into the database file and empty it, so that earlier
    versions of rewritten rows (a ballot box before the last ballot) are not kept in it."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def alembic_config(url: str) -> "Config":
    from alembic.config import Config  # Alembic only to migrate: a command that reads starts faster

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (idempotent)."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url), revision)


@contextmanager
def open_database(url: str) -> Iterator[Engine]:
    """An engine at the migration head for one job; its connections are closed afterwards."""
    engine = make_engine(url)
    try:
        check_schema(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Objects stay readable
    after the commit (the CLI prints from them)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class SchemaOutdated(RuntimeError):
    """The database is not at the code's migration head."""


def revision(engine: Engine) -> str | None:
    """The migration the database is at (None: a database no migration has touched)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that `thidua db upgrade` has not brought to `HEAD`."""
    current = revision(engine)
    if current != HEAD:
        raise SchemaOutdated(
            f"cơ sở dữ liệu đang ở phiên bản {current or 'trống'}, cần {HEAD}: chạy `thidua db upgrade`"
        )


def insert_or_ignore(session: Session, model: type, rows: list[dict], conflict: list[str]) -> int:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, on SQLite and PostgreSQL alike; returns how
    many rows were new. Racing writers of the same key both succeed and one row remains."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stored = 0
    for start in range(0, len(rows), 500):  # stays under SQLite's bound-parameter limit
        statement = (
            insert(model)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(model.id)
        )
        stored += len(session.execute(statement).all())
    return stored
