"""`thidua score …` and `thidua vote …`: the secretariat's part of the close of the year."""

import getpass
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from thidua.cli_support import BlocCode, Year, fail, find_unit, open_engine, user_errors

if TYPE_CHECKING:  # the commands import what they use when they run
    from sqlmodel import Session

    from models.tables import Poll

score_app = typer.Typer(help="Điểm thi đua: xem, thẩm định, xếp hạng.", no_args_is_help=True)
vote_app = typer.Typer(
    help="Bỏ phiếu cuối năm: tình hình, nhập kết quả phiếu giấy.", no_args_is_help=True
)
UnitCode = Annotated[str, typer.Argument(help="Mã đơn vị.")]


@score_app.command("show")
@user_errors
def score_show(
    unit: Annotated[str | None, typer.Option(help="Chỉ một đơn vị, giải trình từng dòng.")] = None,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Bảng xếp hạng theo điểm cuối cùng; với --unit: từng tiêu chí, điểm tự chấm, thẩm định, lý do."""
    from documents.text import points
    from domain.scoring import rank
    from models import queries
    from models.db import session_scope
    from models.year_end import unit_scores

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        names = {u.code: u.name for u in queries.plan_units(session=session, plan=plan)}
        scores = unit_scores(session, plan=plan)
    if unit is None:
        for r in rank(scores):
            s = r.score
            pending = "" if s.verified else "  (chưa thẩm định xong)"
            typer.echo(
                f"{r.rank:>2}. {names[s.unit]:<45} {points(s.total):>6} điểm"
                f"  (tự chấm {points(s.self_total)}, trừ {points(s.penalty)}){pending}"
            )
        return
    score = next((s for s in scores if s.unit == unit), None)
    if score is None:
        raise queries.NotFound(f"không có đơn vị '{unit}' trong kế hoạch năm {plan.year}")
    typer.echo(f"{names[unit]}: {points(score.total)} điểm (tự chấm {points(score.self_total)})")
    for line in score.lines:
        own = "–" if line.self_points is None else points(line.self_points)
        checked = "chưa thẩm định" if line.verified_points is None else points(line.verified_points)
        reason = f"  Lý do: {line.reason}" if line.reason else ""
        typer.echo(
            f"  {line.item.code:<6} tự chấm {own:>5}  thẩm định {checked:>5}  → {points(line.final)}{reason}"
        )


@score_app.command("verify")
@user_errors
def score_verify(
    unit: UnitCode,
    code: Annotated[str, typer.Argument(help="Mã tiêu chí, mục thưởng hoặc mục trừ (ví dụ I.1).")],
    value: Annotated[str, typer.Argument(help="Điểm thẩm định; với mục trừ: số lần.")],
    reason: Annotated[
        str | None, typer.Option(help="Lý do, bắt buộc khi khác điểm tự chấm.")
    ] = None,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Ghi điểm thẩm định của Khối cho một mục của một đơn vị."""
    from documents.text import points
    from models import queries
    from models.db import session_scope
    from models.year_end import verify_score

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        found = find_unit(session, plan, unit)
        row = verify_score(
            session,
            plan=plan,
            unit=found,
            code=code,
            value=value,
            reason=reason,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )
    typer.echo(f"Đã ghi: {unit} {code} = {points(row.verified_points)} điểm.")


@score_app.command("accept")
@user_errors
def score_accept(unit: UnitCode, year: Year = None, bloc: BlocCode = None) -> None:
    """Thẩm định giữ nguyên điểm tự chấm cho mọi mục chưa thẩm định của đơn vị."""
    from models import queries
    from models.db import session_scope
    from models.year_end import accept_self_scores

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        found = find_unit(session, plan, unit)
        count = accept_self_scores(
            session, plan=plan, unit=found, actor=getpass.getuser(), at=datetime.now(UTC)
        )
    typer.echo(f"Đã thẩm định {count} mục của {unit} theo điểm tự chấm.")


@score_app.command("sheet")
@user_errors
def score_sheet(
    out: Annotated[Path, typer.Option(help="Tệp .xlsx sẽ ghi.")] = Path("phieu-tham-dinh.xlsx"),
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Xuất phiếu thẩm định (.xlsx): mỗi đơn vị một trang, điểm tự chấm và điểm đã thẩm định."""
    from models import queries
    from models.db import session_scope
    from operations.year_end_documents import verification_sheet

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        out.write_bytes(verification_sheet(session, plan=plan))
    typer.echo(f"Đã ghi {out}: nhập cột Thẩm định và Lý do, rồi chạy `thidua score import {out}`.")


@score_app.command("import")
@user_errors
def score_import(
    path: Annotated[Path, typer.Argument(help="Phiếu thẩm định đã điền (.xlsx).")],
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Ghi điểm thẩm định từ phiếu Excel; phiếu có lỗi thì không ghi điểm nào."""
    from documents.verification_sheet import UnreadableSheet, read_verification_sheet
    from models import queries
    from models.db import session_scope
    from models.year_end import import_verification

    try:
        content = path.read_bytes()
    except OSError as error:
        raise fail(f"không đọc được {path}: {error.strerror}") from None
    with session_scope(open_engine()) as session:
        found, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        try:
            lines = read_verification_sheet(
                content, bloc_code=found.code, year=plan.year, filename=path.name
            )
        except UnreadableSheet as error:
            raise fail(str(error)) from None
        changed, errors = import_verification(
            session, plan=plan, lines=lines, actor=getpass.getuser(), at=datetime.now(UTC)
        )
    for error in errors:
        typer.echo(error, err=True)
    if errors:
        raise fail(f"phiếu thẩm định có {len(errors)} lỗi, chưa ghi điểm nào")
    typer.echo(f"Đã nhập {path.name}: {changed} mục thay đổi.")


@vote_app.command("status")
@user_errors
def vote_status(year: Year = None, bloc: BlocCode = None) -> None:
    """Các cuộc bỏ phiếu của năm: trạng thái, số đơn vị đã bỏ phiếu, hạn."""
    from domain.dates import fmt_instant
    from models import queries
    from models.db import session_scope
    from models.year_end import plan_polls, voted

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        members = len(queries.plan_units(session=session, plan=plan))
        polls = plan_polls(session, plan=plan)
        if not polls:
            typer.echo(f"Năm {plan.year}: chưa mở bỏ phiếu.")
        for poll in polls:
            returned = poll.result.get("paper", {}).get("returned", len(voted(session, poll=poll)))
            state = "đang mở" if poll.state == "open" else "đã kết thúc"
            typer.echo(
                f"{poll.code:<20} {poll.title}: {state}, {returned}/{members} phiếu, "
                f"hạn {fmt_instant(poll.closes_at)}"
            )


@vote_app.command("record")
@user_errors
def vote_record(
    poll: Annotated[str, typer.Argument(help="Mã cuộc bỏ phiếu (xem `thidua vote status`).")],
    returned: Annotated[int, typer.Option(help="Số phiếu thu về.")],
    votes: Annotated[
        list[str], typer.Option("--votes", help="MÃ_ĐƠN_VỊ=SỐ_PHIẾU, lặp lại cho từng ứng viên.")
    ],
    invalid: Annotated[int, typer.Option(help="Số phiếu không hợp lệ.")] = 0,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Nhập kết quả kiểm phiếu giấy của hội nghị (thay cho bỏ phiếu trên trang của đơn vị)."""
    from models import queries
    from models.db import session_scope
    from models.year_end import YearEndError, record_paper_tally

    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        found = _poll(session, plan.id, poll)
        counts = {}
        for item in votes:
            code, _, number = item.partition("=")
            number = number.strip()
            if not (number.isascii() and number.isdigit()) or len(number) > 9:  # "²".isdigit()
                raise YearEndError(f"--votes {item}: viết MÃ_ĐƠN_VỊ=SỐ_PHIẾU, ví dụ syt=7")
            counts[find_unit(session, plan, code.strip()).id] = int(number)
        record_paper_tally(
            session,
            poll=found,
            members=len(queries.plan_units(session=session, plan=plan)),
            returned=returned,
            invalid=invalid,
            votes=counts,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )
    typer.echo(f"Đã ghi kết quả phiếu giấy: {found.title}.")


def _poll(session: "Session", plan_id: int, code: str) -> "Poll":
    from sqlmodel import select

    from models import queries
    from models.tables import Poll

    poll = session.exec(select(Poll).where(Poll.plan_id == plan_id, Poll.code == code)).first()
    if poll is None:
        raise queries.NotFound(f"không có cuộc bỏ phiếu '{code}' (xem `thidua vote status`)")
    return poll


@user_errors
def rehearse_command(
    plan: Annotated[Path, typer.Argument(help="Tệp kế hoạch YAML cần diễn tập.")],
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Ngày bắt đầu.")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Ngày kết thúc.")
    ] = None,
    keep: Annotated[
        Path | None, typer.Option(help="Giữ cơ sở dữ liệu, văn bản và thư của buổi diễn tập ở đây.")
    ] = None,
) -> None:
    """Diễn tập cả năm của một kế hoạch (không đụng tới dữ liệu thật): mọi thư, mọi thay đổi,
    xếp hạng và kết quả bầu, với các đơn vị giả lập đúng hạn, muộn, không nộp, nộp lại."""
    from documents.text import points
    from models.plan_file import read_plan
    from notifications.kinds import kind_name

    read_plan(plan)  # every problem of the file, before anything runs
    from thidua.rehearsal import rehearse, timeline  # runs the flows: loads Prefect

    with tempfile.TemporaryDirectory(prefix="thidua-rehearsal-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        result = rehearse(
            plan,
            work_dir=folder,
            start=start.date() if start else None,
            end=end.date() if end else None,
        )
    for line in timeline(result):
        typer.echo(line)
    typer.echo("\nThư theo đơn vị và loại:")
    for (unit, stage), count in sorted(
        result.stages().items(), key=lambda i: (str(i[0][0]), i[0][1])
    ):
        typer.echo(f"  {unit or 'Văn phòng':<10} {kind_name(stage):<34} {count}")
    typer.echo(f"  Tổng: {len(result.emails)} thư; máy chủ thư nhận {result.received}.")
    typer.echo("\nXếp hạng:")
    for place, unit, total in result.ranking:
        typer.echo(f"  {place:>2}. {unit:<10} {points(total)} điểm ({result.behaviours[unit]})")
    typer.echo(f"\nTrưởng khối năm sau: {result.head or 'chưa xác định'}")
    typer.echo(f"Phó Trưởng khối năm sau: {result.deputy or 'chưa xác định'}")
