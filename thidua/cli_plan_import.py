"""`thidua plan import`: a plan document in, a draft plan file out, and what is left to fill."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from thidua.cli_support import fail

if TYPE_CHECKING:
    from operations.plan_import import Imported

Document = Annotated[Path, typer.Argument(help="Văn bản kế hoạch: .docx, .pdf, .txt hoặc .md.")]
Output = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Tệp kế hoạch YAML sẽ ghi (mặc định: cạnh văn bản)."),
]
Force = Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có.")]


def plan_import(file: Document, output: Output = None, force: Force = False) -> None:
    """Đọc văn bản kế hoạch của khối và ghi bản nháp tệp kế hoạch YAML để kiểm tra, bổ sung."""
    from operations.plan_import import DocumentError, import_plan

    target = output or file.with_suffix(".yaml")
    if target.exists() and not force:
        raise fail(f"{target}: tệp đã có; chọn tên khác bằng -o hoặc thêm --force để ghi đè")
    try:
        imported = import_plan(file)
    except DocumentError as error:
        raise fail(f"{file}: {error}; chưa ghi gì") from None
    try:
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_text(imported.draft.text, encoding="utf-8")
        partial.replace(target)
    except OSError as error:
        raise fail(f"{target}: không ghi được tệp: {error.strerror or error}") from None
    _summary(imported, target)


def _summary(imported: "Imported", target: Path) -> None:
    """What was found, what is left for the user (each `# KIỂM TRA:`), the command to run next."""
    plan, checks = imported.plan, imported.draft.checks
    anniversaries = sum(len(item.anniversaries) for item in plan.rounds)
    typer.echo(
        f"Đã đọc kế hoạch năm {plan.year} của {plan.bloc} ({plan.province or 'chưa rõ tỉnh'})."
    )
    typer.echo(
        f"Tìm thấy: {len(plan.rounds)} đợt thi đua, {anniversaries} ngày kỷ niệm, "
        f"{len(plan.deadlines)} hạn nộp, {len(plan.meetings)} cuộc họp; "
        f"Trưởng khối: {plan.head or 'chưa rõ'}; "
        f"đầu mối: {plan.secretariat.name if plan.secretariat else 'chưa rõ'}."
    )
    typer.echo(f"Để lại cho người dùng ({len(checks)} chỗ «# KIỂM TRA:» trong tệp):")
    for check in checks:
        typer.echo(f"  - {check}")
    typer.echo(f"Đã ghi bản nháp: {target}")
    typer.echo(f"Bước tiếp theo: điền các chỗ trên rồi chạy `thidua plan check {target}`")
