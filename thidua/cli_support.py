"""What every `thidua` command shares: plan and unit options, one-line errors, the engine.

Every command pays for what the `thidua` modules import before it runs, so they import only
typer and the standard library at the top; a command imports the database, the web app or
Prefect when it runs (tests/test_project.py guards it).
"""

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from models.tables import Unit, YearPlan

Year = Annotated[int | None, typer.Option(help="Năm kế hoạch (mặc định: năm mới nhất).")]
BlocCode = Annotated[str | None, typer.Option("--bloc", help="Mã khối (khi có nhiều khối).")]

# The errors a user can fix, printed as their message: (module, class). An error of a module
# that was never imported cannot have been raised, so none of these is imported to be caught.
USER_ERRORS = [
    ("models.plan_store", "PlanLoadError"),
    ("models.db", "SchemaOutdated"),
    ("models.access", "SecretKeyChanged"),
    ("models.year_end", "YearEndError"),
    ("models.queries", "NotFound"),
    ("models.staff", "AccountError"),
]


_engines: list["Engine"] = []  # opened by the running command


RETIRED_BASIC = (
    "Cảnh báo: THIDUA_ADMIN_USER / THIDUA_ADMIN_PASSWORD (mật khẩu HTTP Basic cũ của /quan-tri) "
    "không còn được dùng và bị bỏ qua. Hãy xoá hai biến này khỏi cấu hình và tạo tài khoản cho "
    "từng cán bộ bằng `thidua admin add TÊN`."
)


def warn_retired_settings() -> None:
    """On stderr, a warning when the retired Basic credentials settings are still set."""
    from config.settings import get_settings

    if get_settings().retired_basic_credentials:
        typer.echo(RETIRED_BASIC, err=True)


def fail(message: str) -> typer.Exit:
    typer.echo(f"Lỗi: {message}", err=True)
    return typer.Exit(1)


def _is(error: Exception, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(error, getattr(loaded, name))


def user_errors(command: Callable) -> Callable:
    """Turn the errors a user can fix into one line on stderr and exit code 1; close the
    database connections the command opened, whatever happened."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Exception as error:
            if _is(error, "models.plan_file", "PlanFileError"):
                for problem in error.problems:
                    typer.echo(str(problem), err=True)
                message = f"kế hoạch không hợp lệ: {len(error.problems)} lỗi, chưa ghi gì"
                raise fail(message) from None
            if any(_is(error, module, name) for module, name in USER_ERRORS):
                raise fail(str(error)) from None
            if _is(error, "sqlalchemy.exc", "OperationalError"):
                raise fail(f"không kết nối được cơ sở dữ liệu: {error.orig}") from None
            raise
        finally:
            while _engines:
                _engines.pop().dispose()

    return wrapper


def open_engine() -> "Engine":
    """The engine of the configured database, refused unless it is at the migration head;
    disposed when the command ends (`user_errors`)."""
    from config.settings import get_settings
    from models.db import check_schema, make_engine

    engine = make_engine(get_settings().resolved_database_url)
    _engines.append(engine)
    check_schema(engine)
    return engine


def find_unit(session: "Session", plan: "YearPlan", code: str) -> "Unit":
    """The member unit `code` of `plan`; queries.NotFound when the plan has none."""
    from models import queries

    for unit in queries.plan_units(session=session, plan=plan):
        if unit.code == code:
            return unit
    raise queries.NotFound(f"không có đơn vị '{code}' trong kế hoạch năm {plan.year}")
