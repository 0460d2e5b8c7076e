"""`thidua deadline extend` gives one unit more time on one deadline (gia hạn);
`thidua deadline pause` stops the reminders of the plan or of one unit for some days (tạm dừng
nhắc); `unextend` and `unpause` take them away. All audited under the OS user."""

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from thidua.cli_support import BlocCode, Year, fail, open_engine, user_errors

deadline_app = typer.Typer(
    help="Hạn nộp: gia hạn cho một đơn vị, tạm dừng nhắc hạn, và hủy chúng.", no_args_is_help=True
)


@deadline_app.command("extend")
@user_errors
def deadline_extend(
    unit: Annotated[str, typer.Argument(help="Mã đơn vị trong kế hoạch (ví dụ syt).")],
    deadline: Annotated[str, typer.Argument(help="Mã hạn nộp trong kế hoạch (ví dụ dang-ky).")],
    until: Annotated[str, typer.Option("--until", help="Ngày cuối mới của đơn vị, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do gia hạn.")],
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Gia hạn một hạn nộp cho một đơn vị: nhắc, trạng thái, trang và lịch riêng của đơn vị
    tính theo ngày cuối mới; các đơn vị khác không đổi."""
    from domain.extensions import read_day
    from models.extensions import ExtensionRefused
    from operations.extensions import extend_deadline

    day = read_day(until)

    def act(session, plan) -> str:
        return extend_deadline(
            session,
            plan=plan,
            unit_code=unit,
            deadline_code=deadline,
            until=day,
            reason=reason,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )

    _change_active_plan(year, bloc, act, refused=ExtensionRefused)


@deadline_app.command("pause")
@user_errors
def deadline_pause(
    start: Annotated[str, typer.Option("--from", help="Ngày bắt đầu, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Ngày kết thúc (tính cả ngày này), YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do tạm dừng.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Chỉ một đơn vị (mã); để trống là cả khối.")
    ] = None,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Tạm dừng nhắc hạn cho cả khối hoặc một đơn vị trong các ngày đã cho; sau đó chỉ gửi lời
    nhắc của giai đoạn hiện tại, không gửi bù."""
    from domain.extensions import read_day
    from models.pauses import PauseRefused, add_pause

    def act(session, plan) -> str:
        return add_pause(
            session,
            plan=plan,
            unit_code=unit,
            starts_on=read_day(start),
            ends_on=read_day(end),
            reason=reason,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )

    _change_active_plan(year, bloc, act, refused=PauseRefused)


@deadline_app.command("unextend")
@user_errors
def deadline_unextend(
    unit: Annotated[str, typer.Argument(help="Mã đơn vị trong kế hoạch (ví dụ syt).")],
    deadline: Annotated[str, typer.Argument(help="Mã hạn nộp trong kế hoạch (ví dụ dang-ky).")],
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Hủy gia hạn của một đơn vị: nhắc, trạng thái, trang và lịch riêng của đơn vị tính lại
    theo hạn cuối của kế hoạch."""
    from models.extensions import ExtensionRefused
    from operations.extensions import cancel_extension

    def act(session, plan) -> str:
        return cancel_extension(
            session,
            plan=plan,
            unit_code=unit,
            deadline_code=deadline,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )

    _change_active_plan(year, bloc, act, refused=ExtensionRefused)


@deadline_app.command("unpause")
@user_errors
def deadline_unpause(
    start: Annotated[
        str, typer.Option("--from", help="Ngày bắt đầu của lần tạm dừng, YYYY-MM-DD.")
    ],
    end: Annotated[str, typer.Option("--to", help="Ngày kết thúc của lần tạm dừng, YYYY-MM-DD.")],
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Đơn vị (mã) của lần tạm dừng; để trống là cả khối."),
    ] = None,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Hủy một lần tạm dừng nhắc (cho cả khối hoặc một đơn vị, đúng những ngày đã cho); việc
    nhắc hạn tiếp tục từ lần chạy sau."""
    from domain.extensions import read_day
    from models.pauses import PauseRefused, find_pause, remove_pause

    def act(session, plan) -> str:
        pause_id = find_pause(
            session, plan=plan, unit_code=unit, starts_on=read_day(start), ends_on=read_day(end)
        )
        return remove_pause(
            session, plan=plan, pause_id=pause_id, actor=getpass.getuser(), at=datetime.now(UTC)
        )

    _change_active_plan(year, bloc, act, refused=PauseRefused)


def _change_active_plan(year: int | None, bloc: str | None, act, *, refused: type) -> None:
    """Run `act(session, plan)` on the active plan and print its message; a refusal (`refused`,
    with `.errors`) is one line on stderr, exit 1, nothing stored."""
    from models import queries
    from models.db import session_scope

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        if plan.state != "active":
            raise fail(f"kế hoạch năm {plan.year} không đang thực hiện; chưa ghi gì")
        try:
            message = act(session, plan)
        except refused as error:
            raise fail(" ".join(error.errors) + " Chưa ghi gì.") from None
    typer.echo(message)
