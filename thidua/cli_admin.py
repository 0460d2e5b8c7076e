"""`thidua admin`: the secretariat's accounts for `/quan-tri` (create one, set a new password,
list them, remove one)."""

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from thidua.cli_support import fail, open_engine, user_errors, warn_retired_settings

admin_app = typer.Typer(
    help="Tài khoản của Văn phòng Khối cho trang quản trị /quan-tri.", no_args_is_help=True
)
Name = Annotated[
    str, typer.Argument(help="Tên tài khoản: chữ thường không dấu, chữ số, dấu . _ -.")
]


def _read_password() -> str:
    """The password typed twice at a prompt, or the first line of stdin when it is not a
    terminal (a script: `printf '%s\\n' "$PW" | thidua admin add NAME`)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != first:
        raise fail("hai lần nhập mật khẩu không khớp; chưa ghi gì")
    return first


@admin_app.command("add")
@user_errors
def admin_add(name: Name) -> None:
    """Tạo tài khoản đăng nhập /quan-tri (mật khẩu nhập hai lần, hoặc một dòng từ stdin)."""
    from config.settings import get_settings
    from models.db import session_scope
    from models.staff import add_account, check_name

    check_name(name)
    password = _read_password()
    with session_scope(open_engine()) as session:
        add_account(
            session, name=name, password=password, actor=getpass.getuser(), at=datetime.now(UTC)
        )
    typer.echo(
        f"Đã tạo tài khoản {name}: đăng nhập tại {get_settings().base_url}/quan-tri/dang-nhap"
    )


@admin_app.command("password")
@user_errors
def admin_password(name: Name) -> None:
    """Đặt mật khẩu mới cho tài khoản; mọi phiên đăng nhập của tài khoản kết thúc ngay."""
    from models.db import session_scope
    from models.staff import check_name, live_account, set_password

    check_name(name)
    engine = open_engine()
    with session_scope(engine) as session:
        live_account(session, name)
    password = _read_password()
    with session_scope(engine) as session:
        ended = set_password(
            session, name=name, password=password, actor=getpass.getuser(), at=datetime.now(UTC)
        )
    typer.echo(f"Đã đặt mật khẩu mới cho {name}; đã kết thúc {ended} phiên đăng nhập.")


@admin_app.command("list")
@user_errors
def admin_list() -> None:
    """Liệt kê các tài khoản: ngày tạo, lần đăng nhập gần nhất, đã gỡ hay chưa."""
    from domain.dates import fmt_instant
    from models.db import session_scope
    from models.staff import list_accounts

    warn_retired_settings()
    with session_scope(open_engine()) as session:
        rows = list_accounts(session)
    if not rows:
        typer.echo("Chưa có tài khoản nào: tạo bằng `thidua admin add TÊN`.")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        last = fmt_instant(r.last_sign_in) if r.last_sign_in else "chưa đăng nhập"
        state = f"đã gỡ {fmt_instant(r.removed_at)}" if r.removed_at else "đang dùng"
        typer.echo(
            f"{r.name:<{width}}  tạo {fmt_instant(r.created_at)}  "
            f"đăng nhập gần nhất: {last}  {state}"
        )


@admin_app.command("remove")
@user_errors
def admin_remove(name: Name) -> None:
    """Gỡ tài khoản: không đăng nhập được nữa, mọi phiên kết thúc ngay; nhật ký vẫn giữ tên."""
    from models.db import session_scope
    from models.staff import check_name, remove_account

    check_name(name)
    with session_scope(open_engine()) as session:
        ended = remove_account(session, name=name, actor=getpass.getuser(), at=datetime.now(UTC))
    typer.echo(f"Đã gỡ tài khoản {name}; đã kết thúc {ended} phiên đăng nhập.")
