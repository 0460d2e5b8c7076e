"""The `thidua` command: the edge where settings, the clock and the user's input come in.

Expected errors print one line (or one per plan problem) to stderr and exit 1; no traceback.
"""

import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from thidua.cli_admin import admin_app
from thidua.cli_extend import deadline_app
from thidua.cli_plan_import import plan_import
from thidua.cli_support import (
    BlocCode,
    Year,
    fail,
    find_unit,
    open_engine,
    user_errors,
    warn_retired_settings,
)
from thidua.cli_year_end import rehearse_command, score_app, vote_app

if TYPE_CHECKING:  # the commands import what they use when they run
    from sqlalchemy import Engine

    from models.links import Links
    from models.tables import Contact, Unit

app = typer.Typer(
    help="thidua: tự động hóa kế hoạch thi đua của khối.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Cơ sở dữ liệu.", no_args_is_help=True)
plan_app = typer.Typer(
    help="Kế hoạch năm: nhập từ văn bản, kiểm tra, nạp, xem.", no_args_is_help=True
)
calendar_app = typer.Typer(
    help="Lịch iCalendar: xuất, đường dẫn đăng ký, cấp lại đường dẫn riêng.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")
app.add_typer(calendar_app, name="calendar")
submission_app = typer.Typer(help="Hồ sơ đơn vị đã nộp.", no_args_is_help=True)
app.add_typer(submission_app, name="submission")
app.add_typer(score_app, name="score")
app.add_typer(vote_app, name="vote")
app.add_typer(admin_app, name="admin")
app.add_typer(deadline_app, name="deadline")
app.command("rehearse")(rehearse_command)
plan_app.command("import")(plan_import)

PlanPath = Annotated[Path, typer.Argument(help="Tệp kế hoạch YAML.")]

STATE_NAMES = {"draft": "dự thảo", "active": "đang thực hiện", "closed": "đã kết thúc"}


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    from config.settings import get_settings
    from models.db import HEAD, make_engine, revision, upgrade

    url = get_settings().resolved_database_url
    engine = make_engine(url)
    try:
        before = revision(engine)
    finally:
        engine.dispose()
    upgrade(url)
    where = engine.url.render_as_string()
    if before is None:
        typer.echo(f"Đã tạo cơ sở dữ liệu, phiên bản {HEAD} ({where}).")
    elif before == HEAD:
        typer.echo(f"Cơ sở dữ liệu đã ở phiên bản mới nhất, {HEAD} ({where}).")
    else:
        typer.echo(f"Đã nâng cấp cơ sở dữ liệu từ phiên bản {before} lên {HEAD} ({where}).")


@plan_app.command("check")
@user_errors
def plan_check(file: PlanPath) -> None:
    """Kiểm tra tệp kế hoạch, không ghi gì vào cơ sở dữ liệu."""
    from models.plan_file import read_plan

    plan_file = read_plan(file)
    doc = plan_file.document
    typer.echo(
        f"{file}: hợp lệ — năm {doc.year}, {len(doc.units)} đơn vị, {len(doc.rounds)} đợt, "
        f"{len(doc.deadlines)} hạn nộp, {len(doc.meetings)} cuộc họp."
    )
    for warning in plan_file.warnings:
        typer.echo(f"Chú ý: {warning}", err=True)


@plan_app.command("load")
@user_errors
def plan_load(file: PlanPath) -> None:
    """Nạp (hoặc cập nhật) kế hoạch vào cơ sở dữ liệu; nạp lại tệp không đổi thì không thay đổi gì."""
    from config.settings import get_settings
    from models.db import session_scope
    from models.plan_file import read_plan
    from operations.plans import load_and_publish

    plan_file = read_plan(file)
    engine = open_engine()
    with session_scope(engine) as session:
        result = load_and_publish(
            session, get_settings(), plan_file, actor=getpass.getuser(), at=datetime.now(UTC)
        )
    doc = plan_file.document
    if result.created or result.changes:
        _sync_prefect_schedules(engine)
    if result.created:
        typer.echo(f"Đã nạp kế hoạch năm {doc.year} của {doc.bloc.name} (trạng thái: dự thảo).")
    elif result.changes:
        typer.echo(f"Đã cập nhật kế hoạch năm {doc.year}: {len(result.changes)} thay đổi.")
        for change in result.changes:
            typer.echo(f"  - {change}")
    else:
        typer.echo(f"Kế hoạch năm {doc.year} không có gì thay đổi.")


@plan_app.command("activate")
@user_errors
def plan_activate(
    year: Year = None,
    bloc: BlocCode = None,
    past: Annotated[
        bool, typer.Option("--past", help="Vẫn đưa vào thực hiện kế hoạch của một năm đã qua.")
    ] = False,
) -> None:
    """Đưa kế hoạch vào thực hiện (từ đây hệ thống bắt đầu nhắc việc)."""
    from calendars.publish import publish_feeds
    from config.settings import get_settings
    from domain.dates import local_day
    from models import queries
    from models.db import session_scope
    from models.tables import AuditEvent

    engine = open_engine()
    with session_scope(engine) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        if plan.state == "active":
            typer.echo(f"Kế hoạch năm {plan.year} đã ở trạng thái đang thực hiện.")
            return
        if plan.state == "closed":
            raise fail(f"kế hoạch năm {plan.year} đã kết thúc")
        if plan.year < local_day(datetime.now(UTC)).year and not past:
            raise fail(
                f"năm kế hoạch {plan.year} đã qua (hết ngày 31/12/{plan.year}): mọi hạn nộp đã "
                "hết, hệ thống sẽ không có gì để nhắc. Để vẫn đưa vào thực hiện (xem lại, diễn "
                "tập), thêm --past; để chạy thử một năm đang diễn ra, dùng `thidua plan demo`"
            )
        plan.state = "active"
        year = plan.year
        session.add(
            AuditEvent(
                actor=getpass.getuser(),
                action="plan.activated",
                entity="YearPlan",
                key=str(plan.year),
                plan_id=plan.id,
            )
        )
        publish_feeds(session, settings=get_settings(), as_of=datetime.now(UTC))
    typer.echo(f"Kế hoạch năm {year} đã được đưa vào thực hiện.")
    _sync_prefect_schedules(engine)


EXAMPLE_PLAN = Path("plans/bac-giang-vhxh-2020.yaml")


@plan_app.command("demo")
@user_errors
def plan_demo(
    file: Annotated[Path, typer.Argument(help="Kế hoạch mẫu.")] = EXAMPLE_PLAN,
    year: Annotated[
        int | None,
        typer.Option(help="Năm minh họa (mặc định: năm nay, hoặc năm sau khi năm nay đã hết hạn)."),
    ] = None,
) -> None:
    """Chạy thử: chuyển kế hoạch mẫu sang một năm đang diễn ra, nạp và đưa vào thực hiện."""
    from config.settings import get_settings
    from domain.dates import local_day
    from models.next_plan import demo_plan
    from models.plan_file import read_plan

    example = read_plan(file).document.model_dump(mode="json")
    today = local_day(datetime.now(UTC))
    year = year or _demo_year(example, today)
    target = get_settings().data_dir / "plans" / f"demo-{example['bloc']['code']}-{year}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(demo_plan(example, to_year=year), encoding="utf-8")
    typer.echo(f"Năm minh họa {year}: kế hoạch mẫu {file} chuyển sang năm {year} ({target}).")
    plan_load(target)
    plan_activate(year=year, bloc=example["bloc"]["code"], past=True)


def _demo_year(example: dict, today: date) -> int:
    """This year, or the next once this year's last deadline has passed."""
    from domain.dates import due_instant, last_day
    from models.next_plan import carried

    draft = carried(example, to_year=today.year)
    rule = draft.get("deadline_rule", "exclusive")
    last = max(last_day(due_instant(d["date"], rule)) for d in draft["deadlines"])
    return today.year if last >= today else today.year + 1


def _sync_prefect_schedules(engine: "Engine") -> None:
    """Bring the plan-driven Prefect schedules in step now when a Prefect server is configured
    (PREFECT_API_URL in the environment); without one, `thidua up` and the daily sync do it."""
    import httpx

    from config.settings import get_settings

    settings = get_settings()
    if not settings.prefect_api_url:
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.schedules import sync_plan_schedules  # imports Prefect: only when it is needed

    try:  # the server the message names is the one asked, whatever Prefect's profile says
        with temporary_settings(updates={PREFECT_API_URL: settings.prefect_api_url}):
            report = sync_plan_schedules(engine, settings, as_of=datetime.now(UTC))
    except (httpx.HTTPError, OSError) as error:
        typer.echo(
            f"Chú ý: chưa cập nhật được lịch chạy trên Prefect ({settings.prefect_api_url}: "
            f"{error}). Lịch sẽ được cập nhật lúc 00:10 hoặc khi chạy `thidua up`.",
            err=True,
        )
        return
    changed = sum(row["Thay đổi"] != "giữ nguyên" for row in report)
    typer.echo(f"Lịch chạy trên Prefect theo kế hoạch: {changed} thay đổi.")


@plan_app.command("show")
@user_errors
def plan_show(year: Year = None, bloc: BlocCode = None) -> None:
    """In mốc thời gian của kế hoạch năm."""
    from sqlmodel import Session

    from domain.dates import fmt_day
    from models import queries
    from models.tables import Contact
    from models.timeline import build_timeline

    with Session(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        units = {u.id: u for u in queries.plan_units(session=session, plan=plan)}
        names = {unit_id: unit.name for unit_id, unit in units.items()}
        secretariat = session.get(Contact, plan.secretariat_contact_id)
        timeline = build_timeline(*queries.plan_events(session=session, plan=plan), names)
        typer.echo(plan.title.upper())
        typer.echo(f"Trạng thái: {STATE_NAMES.get(plan.state, plan.state)}")
        typer.echo(f"Trưởng khối: {names[plan.head_unit_id]}")
        typer.echo(f"Phó Trưởng khối: {names[plan.deputy_unit_id]}")
        if secretariat:
            typer.echo(f"Đầu mối: {_describe_contact(secretariat)}")
        typer.echo("")
        width = max(len(fmt_day(entry.day)) for entry in timeline)
        for entry in timeline:
            typer.echo(f"{fmt_day(entry.day):<{width}}  {entry.text}")


@app.command("status")
@user_errors
def status(
    year: Year = None,
    bloc: BlocCode = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"],
            help="Tính tại thời điểm (giờ Việt Nam).",
        ),
    ] = None,
) -> None:
    """Bảng đơn vị × hạn nộp: đã nộp / nộp muộn / chưa nộp / quá hạn."""
    from sqlmodel import Session

    from domain.dates import TZ, fmt_date, last_day, local_instant
    from domain.status import SubmissionState
    from models import queries

    instant = local_instant(as_of.date(), as_of.time()) if as_of else datetime.now(UTC)
    with Session(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        units = queries.plan_units(session=session, plan=plan)
        deadlines = [
            d for d in queries.plan_events(session=session, plan=plan)[2] if not d.cancelled
        ]
        owed = queries.obligations(session=session, plan=plan)
        receipts = queries.accepted_receipts(session=session, plan=plan)
        extended = queries.extensions(session=session, plan=plan)
    typer.echo(
        f"{plan.title} — tình hình lúc {instant.astimezone(TZ):%H:%M} {fmt_date(instant.astimezone(TZ).date())}"
    )
    deadlines.sort(key=lambda d: d.due_at)
    for number, d in enumerate(deadlines, 1):
        typer.echo(
            f"[{number}] {d.title}: {d.wording} (hạn cuối: hết ngày {fmt_date(last_day(d.due_at))})"
        )
    header = [
        "Đơn vị",
        *(f"[{n}] hết {last_day(d.due_at):%d/%m}" for n, d in enumerate(deadlines, 1)),
    ]
    rows = [
        [_unit_label(u), *(_cell(d, u, owed, receipts, extended, instant) for d in deadlines)]
        for u in units
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    counts = {state: sum(row.count(state.value) for row in rows) for state in SubmissionState}
    typer.echo("Tổng: " + "; ".join(f"{state.value}: {n}" for state, n in counts.items()))


def _cell(deadline, unit: "Unit", owed, receipts, extended, instant: datetime) -> str:
    from domain.extensions import unit_due_at
    from domain.status import submission_state

    key = deadline.id, unit.id
    if key not in owed:
        return "—"
    due_at = unit_due_at(deadline.due_at, extended.get(key))
    return submission_state(due_at, receipts.get(key, []), instant).value


def _unit_label(unit: "Unit") -> str:
    return f"{unit.code}  {unit.short_name or unit.name}"


def _describe_contact(contact: "Contact") -> str:
    parts = [contact.name]
    if contact.title:
        parts.append(contact.title)
    if contact.phone:
        parts.append(f"ĐT {contact.phone}")
    parts += contact.emails
    return ", ".join(parts)


def _links() -> "Links":
    from config.settings import get_settings
    from models.links import Links

    settings = get_settings()
    return Links(settings.base_url, settings.signing_key())


@calendar_app.command("publish")
@user_errors
def calendar_publish() -> None:
    """Dựng lại các lịch (chỉ những lịch có thay đổi mới đổi nội dung)."""
    from calendars.publish import publish_feeds
    from config.settings import get_settings
    from models.db import session_scope

    with session_scope(open_engine()) as session:
        changed = publish_feeds(session, settings=get_settings(), as_of=datetime.now(UTC))
    typer.echo(f"Đã cập nhật {len(changed)} lịch." if changed else "Các lịch không có gì thay đổi.")


@calendar_app.command("export")
@user_errors
def calendar_export(
    year: Year = None,
    bloc: BlocCode = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị: xuất lịch riêng của đơn vị.")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Tệp .ics (mặc định: in ra màn hình).")
    ] = None,
) -> None:
    """Xuất lịch chung của khối, hoặc lịch riêng của một đơn vị, ra tệp .ics."""
    from sqlmodel import select

    from calendars.publish import bloc_feed_key, publish_feeds, unit_feed_key
    from config.settings import get_settings
    from models import queries
    from models.db import session_scope
    from models.tables import Feed

    with session_scope(open_engine()) as session:
        found_bloc, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        if plan.state == "draft":
            raise queries.NotFound(
                f"kế hoạch năm {plan.year} còn là dự thảo: chạy `thidua plan activate` trước"
            )
        publish_feeds(session, settings=get_settings(), as_of=datetime.now(UTC))
        key = (
            unit_feed_key(find_unit(session, plan, unit).id)
            if unit
            else bloc_feed_key(found_bloc.code, plan.year)
        )
        body = session.exec(select(Feed.body).where(Feed.key == key)).one()
    if output is None:
        typer.echo(body.decode(), nl=False)
    else:
        output.write_bytes(body)
        typer.echo(f"Đã ghi {output} ({len(body)} byte).")


@calendar_app.command("urls")
@user_errors
def calendar_urls(year: Year = None, bloc: BlocCode = None) -> None:
    """In các đường dẫn: lịch chung của khối, lịch riêng và trang nộp hồ sơ của từng đơn vị."""
    from models import queries
    from models.db import session_scope
    from models.links import subscribe_links

    links = _links()
    with session_scope(open_engine()) as session:
        found_bloc, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        typer.echo(f"Lịch chung {found_bloc.name} năm {plan.year}:")
        for kind, url in subscribe_links(links.bloc_feed_url(found_bloc.code, plan.year)).items():
            typer.echo(f"  {kind:<8} {url}")
        units = queries.plan_units(session=session, plan=plan)
        typer.echo("Lịch riêng của từng đơn vị (không chia sẻ ra ngoài đơn vị):")
        for unit in units:
            typer.echo(f"  {unit.code:<10} {links.unit_feed_url(session, unit.id)}")
        typer.echo("Trang nộp hồ sơ của từng đơn vị:")
        for unit in units:
            typer.echo(f"  {unit.code:<10} {links.submit_url(session, unit.id)}")


def _rotate(unit: str, year: int | None, bloc: str | None, purpose: str) -> str:
    """Revoke a unit's private link for `purpose`, issue the next one, republish the feeds
    and return the new URL."""
    from config.settings import get_settings
    from models import queries
    from models.db import session_scope
    from operations.unit_links import rotate_link

    settings = get_settings()
    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        found = find_unit(session, plan, unit)
        rotate_link(
            session,
            settings,
            plan=plan,
            unit=found,
            purpose=purpose,
            actor=getpass.getuser(),
            at=datetime.now(UTC),
        )
        links = _links()
        return (
            links.unit_feed_url(session, found.id)
            if purpose == "calendar"
            else links.submit_url(session, found.id)
        )


@calendar_app.command("rotate")
@user_errors
def calendar_rotate(
    unit: Annotated[str, typer.Argument(help="Mã đơn vị.")],
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Cấp đường dẫn lịch riêng mới cho đơn vị; đường dẫn cũ ngừng hoạt động ngay."""
    typer.echo(f"Đường dẫn lịch mới của {unit}: {_rotate(unit, year, bloc, 'calendar')}")


@submission_app.command("rotate")
@user_errors
def submission_rotate(
    unit: Annotated[str, typer.Argument(help="Mã đơn vị.")],
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Cấp đường dẫn nộp hồ sơ mới cho đơn vị (khi lộ đường dẫn); đường dẫn cũ ngừng hoạt động ngay."""
    typer.echo(f"Đường dẫn nộp hồ sơ mới của {unit}: {_rotate(unit, year, bloc, 'portal')}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Cổng.")] = 8000,
) -> None:
    """Chạy máy chủ web: lịch iCalendar (và cổng nộp hồ sơ)."""
    from config.settings import get_settings

    warn_retired_settings()
    settings = get_settings()
    import uvicorn

    from portal.app import create_app
    from portal.server_log import log_config

    app = create_app(settings, on_plan_change=_sync_prefect_schedules)
    uvicorn.run(app, host=host, port=port, log_config=log_config(), log_level="info")


@app.command("outbox")
@user_errors
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option(
            help="pending (chờ gửi) | sending (đang gửi) | sent (đã gửi) | failed (không gửi "
            "được) | cancelled (đã hủy)"
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Số thư mới nhất được liệt kê.")] = 50,
) -> None:
    """Liệt kê thư trong hàng đợi gửi (mới nhất trước)."""
    from sqlmodel import Session, select

    from config.settings import get_settings
    from domain.dates import fmt_instant
    from models.tables import OutboxMessage
    from notifications.kinds import STATUS_NAMES, kind_name

    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    with Session(open_engine()) as session:
        rows = session.exec(query).all()
    settings = get_settings()
    if not settings.smtp_url:
        typer.echo(
            f"Chưa cấu hình THIDUA_SMTP_URL: thư được ghi thành tệp .eml trong {settings.eml_dir}"
        )
    if not rows:
        typer.echo("Không có thư nào.")
    for row in rows:
        status = STATUS_NAMES.get(row.status, row.status)
        line = f"{row.id:>6}  {status:<14} {fmt_instant(row.created_at)}  {kind_name(row.stage):<34} {row.recipient}  {row.subject}"
        typer.echo(line + (f"  [{row.last_error}]" if row.last_error else ""))


@submission_app.command("record")
@user_errors
def submission_record(
    unit: Annotated[str, typer.Argument(help="Mã đơn vị.")],
    deadline: Annotated[str, typer.Argument(help="Mã hạn nộp (xem `thidua status`).")],
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            formats=["%Y-%m-%d", "%Y-%m-%d %H:%M"],
            help="Thời điểm nhận (giờ Việt Nam; mặc định: bây giờ).",
        ),
    ] = None,
    channel: Annotated[
        str, typer.Option(help="paper (văn bản giấy) hoặc dispatch (công văn).")
    ] = "paper",
    note: Annotated[str | None, typer.Option(help="Ghi chú, ví dụ số công văn.")] = None,
    file: Annotated[
        list[Path] | None, typer.Option("--file", help="Tệp bản chụp/bản điện tử (lặp lại được).")
    ] = None,
    year: Year = None,
    bloc: BlocCode = None,
) -> None:
    """Ghi nhận hồ sơ đơn vị gửi bằng văn bản giấy hoặc công văn (dừng nhắc việc cho hạn đó)."""
    from sqlmodel import select

    from config.settings import get_settings
    from domain.dates import fmt_instant, local_instant
    from models import queries
    from models.db import session_scope
    from models.tables import Deadline
    from operations.intake import Upload, take_submission

    if channel not in ("paper", "dispatch"):
        raise fail("--channel phải là paper hoặc dispatch")
    settings = get_settings()
    received = local_instant(at.date(), at.time()) if at else datetime.now(UTC)
    uploads = []
    for path in file or []:
        try:
            uploads.append(Upload(path.name, path.read_bytes()[: settings.max_upload_bytes + 1]))
        except OSError as error:
            raise fail(f"không đọc được tệp {path}: {error.strerror}") from None
    with session_scope(open_engine()) as session:
        _, plan = queries.find_plan(session=session, year=year, bloc=bloc)
        found_unit = find_unit(session, plan, unit)
        found = session.exec(
            select(Deadline).where(Deadline.plan_id == plan.id, Deadline.code == deadline)
        ).one_or_none()
        if found is None or found.cancelled:
            raise queries.NotFound(f"không có hạn nộp '{deadline}' trong kế hoạch năm {plan.year}")
        submission = take_submission(
            session,
            settings,
            deadline=found,
            unit=found_unit,
            received_at=received,
            channel=channel,
            uploads=uploads,
            note=note,
            recorded_by=getpass.getuser(),
        )
        due_at = queries.due_at_for(session=session, deadline=found, unit=found_unit)
        late = " (nộp muộn)" if submission.received_at >= due_at else ""
        what = f"{found_unit.name} – {found.title}"
    if submission.status == "rejected":
        for error in submission.errors:
            typer.echo(error, err=True)
        raise fail(f"hồ sơ lần {submission.version} được lưu là không hợp lệ")
    typer.echo(f"Đã ghi nhận {what}, lần {submission.version}, lúc {fmt_instant(received)}{late}.")


@app.command("up")
def up(
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe của cổng thông tin.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Cổng của cổng thông tin và lịch.")] = 8000,
    prefect_port: Annotated[
        int, typer.Option(help="Cổng của máy chủ Prefect (giao diện chỉ mở trên 127.0.0.1).")
    ] = 4200,
) -> None:
    """Chạy toàn bộ hệ thống: máy chủ Prefect và giao diện, worker, cổng thông tin và lịch (Ctrl-C để dừng)."""
    from thidua.service import run

    warn_retired_settings()
    raise typer.Exit(run(host=host, port=port, prefect_port=prefect_port))
