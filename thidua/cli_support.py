"""What every `thidua` command shares: plan and unit options, one-line errors, the engine."""

import functools
from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from models import queries
from models.access import SecretKeyChanged
from models.db import SchemaOutdated, check_schema, make_engine
from models.plan_file import PlanFileError
from models.plan_store import PlanLoadError
from models.tables import Unit
from models.year_end import YearEndError
from thidua.settings import get_settings

Year = Annotated[int | None, typer.Option(help="Năm kế hoạch (mặc định: năm mới nhất).")]
BlocCode = Annotated[str | None, typer.Option("--bloc", help="Mã khối (khi có nhiều khối).")]


def fail(message: str) -> typer.Exit:
    typer.echo(f"Lỗi: {message}", err=True)
    return typer.Exit(1)


def user_errors(command: Callable) -> Callable:
    """Turn the errors a user can fix into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PlanFileError as error:
            for problem in error.problems:
                typer.echo(str(problem), err=True)
            raise fail(f"kế hoạch không hợp lệ: {len(error.problems)} lỗi, chưa ghi gì") from None
        except (
            PlanLoadError,
            SchemaOutdated,
            SecretKeyChanged,
            YearEndError,
            queries.NotFound,
        ) as error:
            raise fail(str(error)) from None
        except OperationalError as error:
            raise fail(f"không kết nối được cơ sở dữ liệu: {error.orig}") from None

    return wrapper


def open_engine():
    engine = make_engine(get_settings().resolved_database_url)
    check_schema(engine)
    return engine


def find_unit(session: Session, plan, code: str) -> Unit:
    for unit in queries.plan_units(session=session, plan=plan):
        if unit.code == code:
            return unit
    raise queries.NotFound(f"không có đơn vị '{code}' trong kế hoạch năm {plan.year}")
