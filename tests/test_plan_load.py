"""Loading a plan is an idempotent upsert; edits are applied and written to the audit log."""

from datetime import UTC, datetime

from sqlmodel import Session, func, select

from models.tables import (
    AuditEvent,
    Contact,
    Deadline,
    Meeting,
    Membership,
    Obligation,
    Round,
    ScoreItem,
    SQLModel,
    YearPlan,
)
from tests.conftest import EXAMPLE_PLAN


def _row_counts(db) -> dict[str, int]:
    with Session(db.engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }


def _plan_snapshot(db) -> list:
    with Session(db.engine) as session:
        return [
            row.model_dump(exclude={"id"})
            for model in (YearPlan, Round, Deadline, Meeting, ScoreItem)
            for row in session.exec(select(model).order_by(model.id)).all()
        ]


def test_loading_example_plan_creates_it_as_draft_with_every_part(db):
    result = db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    assert "Đã nạp kế hoạch năm 2020" in result.stdout
    counts = _row_counts(db)
    assert counts["unit"] == 9 and counts["membership"] == 9
    assert counts["round"] == 2 and counts["anniversary"] == 5
    assert counts["deadline"] == 3 and counts["obligation"] == 27 and counts["meeting"] == 2
    assert counts["scoregroup"] == 3 and counts["scoreitem"] == 14 + 3 + 6
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        assert plan.state == "draft"
        (event,) = session.exec(select(AuditEvent)).all()
        assert event.action == "plan.created" and event.details["sha256"] == plan.content_sha256


def test_loading_the_same_file_twice_changes_nothing(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    counts, snapshot = _row_counts(db), _plan_snapshot(db)
    second = db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    assert "không có gì thay đổi" in second.stdout
    assert _row_counts(db) == counts
    assert _plan_snapshot(db) == snapshot


def test_loading_an_edited_plan_updates_it_and_audits_each_change(db, plan_text, write_plan):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    edited = plan_text.replace("    date: 2020-06-20\n", "    date: 2020-06-22\n").replace(
        "    wording: trước ngày 20/6/2020\n", "    wording: trước ngày 22/6/2020\n"
    )
    meeting_start = edited.index("  - code: tong-ket-nam\n")
    edited = edited[:meeting_start] + edited[edited.index("\n# Default score sheet") :]
    result = db.cli("plan", "load", str(write_plan(edited)), check=True)
    assert "Đã cập nhật kế hoạch năm 2020: 4 thay đổi." in result.stdout, result.stdout
    with Session(db.engine) as session:
        so_ket = session.exec(select(Deadline).where(Deadline.code == "so-ket")).one()
        assert so_ket.due_on.isoformat() == "2020-06-22"
        assert so_ket.due_at == datetime(2020, 6, 21, 17, 0, tzinfo=UTC)  # 00:00 on 22/06 in Hà Nội
        meeting = session.exec(select(Meeting).where(Meeting.code == "tong-ket-nam")).one()
        assert meeting.cancelled
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "plan.updated")).one()
    assert set(event.details["changes"]) == {
        "hạn so-ket: wording 'trước ngày 20/6/2020' → 'trước ngày 22/6/2020'",
        "hạn so-ket: due_on 20/06/2020 → 22/06/2020",
        "hạn so-ket: due_at 00:00 20/06/2020 → 00:00 22/06/2020",
        "hủy cuộc họp tong-ket-nam",
    }


def test_restricting_a_deadline_to_some_units_updates_who_owes_it(db, plan_text, write_plan):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    edited = plan_text.replace(
        "    date: 2020-06-20\n", "    date: 2020-06-20\n    owed_by: [syt, sgddt]\n"
    )
    result = db.cli("plan", "load", str(write_plan(edited)), check=True)
    assert "đơn vị phải nộp hạn so-ket: 9 → 2 đơn vị" in result.stdout
    with Session(db.engine) as session:
        so_ket = session.exec(select(Deadline).where(Deadline.code == "so-ket")).one()
        owed = session.exec(select(Obligation).where(Obligation.deadline_id == so_ket.id)).all()
        assert len(owed) == 2
        assert session.exec(select(func.count()).select_from(Membership)).one() == 9


def test_a_closed_plan_is_not_reloaded(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    with Session(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        plan.state = "closed"
        session.add(plan)
        session.commit()
    result = db.cli("plan", "load", str(EXAMPLE_PLAN))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "Lỗi: kế hoạch năm 2020 của khối bg-vhxh đã kết thúc, không nạp lại được"
    )


def test_activating_a_plan_is_recorded_once(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    assert "đã được đưa vào thực hiện" in db.cli("plan", "activate", "--past", check=True).stdout
    assert "đã ở trạng thái đang thực hiện" in db.cli("plan", "activate", check=True).stdout
    with Session(db.engine) as session:
        assert session.exec(select(YearPlan)).one().state == "active"
        activations = session.exec(select(AuditEvent).where(AuditEvent.action == "plan.activated"))
        assert len(activations.all()) == 1


def test_removing_a_leader_from_the_plan_removes_the_contact(db, plan_text, write_plan):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    leader = "      leader:\n        name: Giám đốc Sở Y tế\n        emails: [giamdoc.syt@bacgiang.gov.vn.example]\n"
    assert leader in plan_text
    result = db.cli("plan", "load", str(write_plan(plan_text.replace(leader, ""))), check=True)
    assert "bỏ liên hệ leader của syt" in result.stdout
    with Session(db.engine) as session:
        leaders = session.exec(select(Contact).where(Contact.role == "leader")).all()
        assert len(leaders) == 8


def test_activating_a_past_year_is_refused_unless_asked(db):
    db.cli("plan", "load", str(EXAMPLE_PLAN), check=True)
    refused = db.cli("plan", "activate")
    assert refused.returncode == 1
    assert "năm kế hoạch 2020 đã qua" in refused.stderr and "--past" in refused.stderr
    with Session(db.engine) as session:
        assert session.exec(select(YearPlan)).one().state == "draft"
