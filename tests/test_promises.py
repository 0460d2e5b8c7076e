"""Promises the README and docs make that had no test (issue 16): the year-end ballot waits for
every verified score; the `disciplined` disqualifier; evidence for a self-scored criterion; a
deadline's own reminders and the plan's days off and office hours in the chase; `submission
record --file` and its receipt; cancelled events in `plan show`; `rehearse --from/--to/--keep`.

The flows run through their bodies (`close_run`, `mail_run`) with a moving clock, as the
rehearsal drives them: no Prefect server is needed for what is promised here."""

import email
import email.policy
import getpass
import html
import io
import logging
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from config.settings import Settings
from domain.dates import TZ
from flows.chase import chase_decisions, mail_run
from flows.close import close_run
from models import filestore
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.scores import save_self_scores, sheet_view
from models.submissions import record_submission
from models.tables import (
    Deadline,
    OutboxMessage,
    Poll,
    Score,
    ScoreItem,
    Submission,
    SubmissionFile,
    Unit,
    YearPlan,
)
from models.year_end import (
    YearEndError,
    accept_self_scores,
    candidate_ids,
    cast_ballot,
    verify_score,
)
from notifications.kinds import kind_name
from operations.approval import automatic
from tests.conftest import EXAMPLE_PLAN, PDF

LOG = logging.getLogger("tests.promises")
AFTER_REPORTS = datetime(2020, 12, 14, 8, 0, tzinfo=TZ)  # Monday after the 10/12 deadline
MEMBERS = ["stttt", "svhttdl", "sgddt", "syt", "sldtbxh", "skhcn", "bdt", "baobg", "dptth"]
CRITERIA = [
    *(f"I.{n}" for n in range(1, 6)),
    *(f"II.{n}" for n in range(1, 5)),
    *(f"III.{n}" for n in range(1, 6)),
]


def activate(db, path) -> None:
    """Load the plan file at `path` and put it in force."""
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(path), actor="test")
        session.exec(select(YearPlan)).one().state = "active"


def settings(db, smtp_server=None) -> Settings:
    smtp = {"smtp_url": smtp_server.url + "?timeout=5"} if smtp_server else {}
    return Settings(data_dir=db.data_dir, database_url=db.url, **smtp)


def received(smtp_server) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in smtp_server.handler.accepted
    ]


# --- The year-end ballot --------------------------------------------------------------------


def hand_in_scores(db, extra: dict[str, dict] | None = None) -> None:
    """The example plan in force; every unit registered and self-scored: each criterion at its
    maximum, plus `extra` per unit code ({"scores": {...}, "occurrences": {...}})."""
    activate(db, EXAMPLE_PLAN)
    with session_scope(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        registration = session.exec(select(Deadline).where(Deadline.code == "dang-ky")).one()
        view = sheet_view(session, plan=plan)
        full = {i.code: i.max_points for i in view.items if i.kind == "criterion"}
        for unit in session.exec(select(Unit)).all():
            record_submission(
                session,
                deadline=registration,
                unit=unit,
                received_at=datetime(2020, 3, 2, 9, 0, tzinfo=TZ),
                channel="paper",
            )
            own = (extra or {}).get(unit.code, {})
            data = {
                "scores": full | own.get("scores", {}),
                "occurrences": own.get("occurrences", {}),
            }
            at = datetime(2020, 12, 8, 9, 0, tzinfo=TZ)
            save_self_scores(session, view=view, unit_id=unit.id, data=data, at=at)


def verify(db, *, codes: list[str], except_items: tuple[str, ...] = ()) -> None:
    """The secretariat keeps the self score of every item of these units (`except_items` left)."""
    at = datetime(2020, 12, 11, 9, 0, tzinfo=TZ)
    with session_scope(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        view = sheet_view(session, plan=plan)
        for unit in session.exec(select(Unit).where(Unit.code.in_(codes))).all():
            if not except_items:
                accept_self_scores(session, plan=plan, unit=unit, actor="test", at=at)
                continue
            own = {
                code: points
                for code, points in session.exec(
                    select(ScoreItem.code, Score.self_points)
                    .join(Score, Score.item_id == ScoreItem.id)
                    .where(Score.unit_id == unit.id)
                )
            }
            for item in view.items:
                if item.code not in except_items:
                    value = own[item.code] / item.points if item.points else own[item.code]
                    verify_score(
                        session,
                        plan=plan,
                        unit=unit,
                        code=item.code,
                        value=value,
                        reason=None,
                        actor="test",
                        at=at,
                    )


def close_step(db, at: datetime) -> dict:
    """One run of the close-year flow's body."""
    approve = automatic("test", at)
    (row,) = close_run(
        engine=db.engine, settings=settings(db), instant=at, log=LOG, approve=approve
    )
    return row


def ballot_state(db) -> tuple[int, int]:
    """(polls, ballot emails queued)."""
    with Session(db.engine) as session:
        polls = session.exec(select(Poll)).all()
        invitations = session.exec(select(OutboxMessage).where(OutboxMessage.stage == "ballot"))
        return len(polls), len(invitations.all())


def test_the_ballot_opens_only_once_every_item_of_every_unit_is_verified(db):
    hand_in_scores(db)
    verify(db, codes=[code for code in MEMBERS if code != "syt"])
    waiting = close_step(db, AFTER_REPORTS)
    assert (waiting["Bước"], waiting["Chi tiết"]) == ("đang chờ", "chờ thẩm định điểm của: Sở Y tế")
    verify(db, codes=["syt"], except_items=("III.5",))  # one item of one unit left
    still = close_step(db, AFTER_REPORTS.replace(hour=9))
    assert (still["Bước"], still["Chi tiết"]) == ("đang chờ", "chờ thẩm định điểm của: Sở Y tế")
    assert ballot_state(db) == (0, 0)
    verify(db, codes=["syt"])
    opened = close_step(db, AFTER_REPORTS.replace(hour=10))
    assert opened["Bước"] == "mở bỏ phiếu" and opened["Chi tiết"].startswith("Mở bỏ phiếu: ")
    polls, invitations = ballot_state(db)
    assert polls == 4 and invitations == 10  # flag, certificates, head, deputy; 10 addresses


def test_a_verified_disciplinary_penalty_keeps_a_unit_off_the_flag_ballot_only(db):
    hand_in_scores(
        db,
        {
            "stttt": {"scores": {"T.1": 4}, "occurrences": {"P.4": 1}},  # 103: first
            "svhttdl": {"occurrences": {"P.5": 1}},  # declared, verified as none
        },
    )
    with session_scope(db.engine) as session:
        plan = session.exec(select(YearPlan)).one()
        svhttdl = session.exec(select(Unit).where(Unit.code == "svhttdl")).one()
        reason = "Quyết định kỷ luật ban hành năm 2019, không tính năm 2020"
        at = datetime(2020, 12, 11, 9, 0, tzinfo=TZ)
        verify_score(
            session, plan=plan, unit=svhttdl, code="P.5", value=0, reason=reason, actor="t", at=at
        )
    verify(db, codes=MEMBERS)
    assert close_step(db, AFTER_REPORTS)["Bước"] == "mở bỏ phiếu"
    with Session(db.engine) as session:
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        codes = {u.id: code for code, u in units.items()}
        polls = {p.code: p for p in session.exec(select(Poll)).all()}
        flag = {codes[i] for i in candidate_ids(session, poll=polls["co-thi-dua"])}
        certificate = {codes[i] for i in candidate_ids(session, poll=polls["bang-khen"])}
        assert flag == set(units) - {"stttt"}  # the flag's rules: disqualified_if [disciplined]
        assert "stttt" in certificate  # the certificate's rules name no disqualifier
        members = set(codes)
        flag_poll = polls["co-thi-dua"]
        with pytest.raises(YearEndError, match="trong danh sách ứng viên"):
            cast_ballot(
                session,
                poll=flag_poll,
                voter=units["syt"],
                members=members,
                choices=[units["stttt"].id],
                at=AFTER_REPORTS,
            )


# --- Evidence for the self score ------------------------------------------------------------


def annual_report(portal, data: dict, files: list = ()):
    return portal.post(
        f"{portal.paths['syt']}/nop/2020/tong-ket",
        data=data,
        files=[("files", ("bao-cao-tong-ket.pdf", PDF, "application/pdf")), *files],
    )


def evidence(code: str, name: str = "bien-ban.pdf"):
    return (f"evidence_{code}", (name, PDF, "application/pdf"))


def saved_scores(db) -> dict[str, float]:
    with Session(db.engine) as session:
        return dict(
            session.exec(
                select(ScoreItem.code, Score.self_points)
                .join(Score, Score.item_id == ScoreItem.id)
                .join(Unit, Unit.id == Score.unit_id)
                .where(Unit.code == "syt")
            ).all()
        )


MISSING_I2 = (
    "Tiêu chí I.2 (Cải cách hành chính, ứng dụng công nghệ thông tin, dịch vụ công trực tuyến):"
    " tự chấm 5 điểm nhưng chưa có tài liệu kiểm chứng."
)


def test_a_criterion_scored_without_evidence_is_refused_naming_it(portal, db):
    form = {f"score_{code}": "0" for code in CRITERIA} | {"score_I.1": "20", "score_I.2": "5"}
    refused = annual_report(portal, form, [evidence("I.1")])
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and MISSING_I2 in text
    assert "Tiêu chí I.1 (" not in text and "Tiêu chí I.3 (" not in text  # evidenced, or 0
    with Session(db.engine) as session:
        (rejected,) = session.exec(select(Submission)).all()
    assert rejected.status == "rejected" and MISSING_I2 in rejected.errors
    assert saved_scores(db) == {}
    accepted = annual_report(portal, form, [evidence("I.1"), evidence("I.2", "quyet-dinh.pdf")])
    assert accepted.status_code == 200, html.unescape(accepted.text)[-3000:]
    assert saved_scores(db)["I.2"] == 5


def test_a_plan_without_evidence_required_takes_a_claim_without_evidence(
    portal, db, plan_text, write_plan
):
    relaxed = plan_text.replace("  evidence_required: true\n", "  evidence_required: false\n")
    assert relaxed != plan_text
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(write_plan(relaxed, "relaxed.yaml")), actor="test")
    form = {f"score_{code}": "1" for code in CRITERIA}
    response = annual_report(portal, form)
    assert response.status_code == 200, html.unescape(response.text)[-3000:]
    assert "chưa có tài liệu kiểm chứng" not in response.text


def filled_template(portal, evidence_for: dict[str, str]) -> bytes:
    """Syt's template: every criterion at its maximum, column E as given."""
    response = portal.get(f"{portal.paths['syt']}/bang-diem/2020.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Tự chấm điểm"]
    for row in range(6, sheet.max_row + 1):
        code = sheet[f"A{row}"].value
        if code and not sheet[f"D{row}"].protection.locked:
            sheet[f"D{row}"] = sheet[f"C{row}"].value if code in CRITERIA else 0
            sheet[f"E{row}"] = evidence_for.get(code)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_templates_evidence_column_or_a_file_evidences_a_criterion(portal, db):
    named = {code: f"https://vanban.bacgiang.gov.vn/syt/{code}.pdf" for code in CRITERIA}
    named["I.1"] = "Quyết định số 12/QĐ-SYT ngày 05/02/2020"
    workbook = ("score_file", ("bang-diem.xlsx", filled_template(portal, named), "application/pdf"))
    without = {code: text for code, text in named.items() if code != "III.5"}
    workbook_without = (
        "score_file",
        ("bang-diem.xlsx", filled_template(portal, without), "application/octet-stream"),
    )
    refused = annual_report(portal, {}, [workbook_without])
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and text.count("chưa có tài liệu kiểm chứng") == 1
    assert "Tiêu chí III.5 (" in text and "tự chấm 3 điểm" in text
    by_file = annual_report(portal, {}, [workbook_without, evidence("III.5")])
    assert by_file.status_code == 200, html.unescape(by_file.text)[-3000:]
    by_column = annual_report(portal, {}, [workbook])
    assert by_column.status_code == 200
    with Session(db.engine) as session:
        versions = session.exec(select(Submission).order_by(Submission.version)).all()
        files = session.exec(
            select(SubmissionFile).where(SubmissionFile.submission_id == versions[1].id)
        ).all()
    assert [v.status for v in versions] == ["rejected", "accepted", "accepted"]
    assert {f.criterion_code for f in files} == {None, "III.5"}
    assert versions[2].data["evidence"] == named  # kept for the verification


# --- Reminders: the deadline's own policy, the plan's days off and office hours --------------


def chase(db, smtp_server, at: datetime, **only) -> list[tuple[str, str]]:
    """One run of the chase flow's body at `at`: (deadline, stage) of each reminder sent."""
    before = len(smtp_server.handler.accepted)
    rows = mail_run(
        chase_decisions,
        engine=db.engine,
        settings=settings(db, smtp_server),
        instant=at,
        log=LOG,
        **only,
    )
    assert len(smtp_server.handler.accepted) - before == len(rows)  # decided, then delivered
    return sorted(
        {(r["Hạn nộp"], r["Loại thư"]) for r in rows if r["Loại thư"] != kind_name("digest")}
    )


def sent(deadline: str, stage: str) -> list[tuple[str, str]]:
    """What `chase` returns for one reminder: the run table's words for it."""
    return [(EXAMPLE_TITLES[deadline], kind_name(stage))]


EXAMPLE_TITLES = {
    "dang-ky": "Gửi đăng ký danh hiệu thi đua năm 2020",
    "so-ket": "Báo cáo sơ kết phong trào thi đua đợt thứ nhất năm 2020",
}


OWN_REMINDERS = "    reminders:\n      before: [2]\n      on_day: false\n"


def test_a_deadlines_own_reminders_replace_the_plans_for_that_deadline_only(
    db, plan_text, write_plan, smtp_server
):
    text = plan_text.replace("    date: 2020-03-05\n", "    date: 2020-03-05\n" + OWN_REMINDERS)
    assert text.count(OWN_REMINDERS) == 1
    activate(db, write_plan(text))
    assert chase(db, smtp_server, datetime(2020, 2, 24, 8, 0, tzinfo=TZ)) == []  # plan: before-7
    assert chase(db, smtp_server, datetime(2020, 3, 2, 8, 0, tzinfo=TZ)) == sent(
        "dang-ky", "before-2"
    )
    assert chase(db, smtp_server, datetime(2020, 3, 4, 8, 0, tzinfo=TZ)) == []  # no due-today
    june = datetime(2020, 6, 10, 8, 0, tzinfo=TZ)  # 7 working days before 19/06
    assert chase(db, smtp_server, june, deadline="so-ket") == sent("so-ket", "before-7")


def test_the_chase_sends_nothing_on_an_extra_holiday_or_outside_the_plans_office_hours(
    db, plan_text, write_plan, smtp_server
):
    hours = '  office_hours: ["07:30", "17:00"]\n'
    calendar = '  office_hours: ["09:00", "11:00"]\n  extra_holidays: [2020-02-24]\n'
    assert hours in plan_text
    activate(db, write_plan(plan_text.replace(hours, calendar)))
    # Monday 24/02 is the registration's before-7 unless it is a day off: then Friday 21/02 is.
    assert chase(db, smtp_server, datetime(2020, 2, 24, 10, 0, tzinfo=TZ)) == []
    assert chase(db, smtp_server, datetime(2020, 2, 25, 8, 30, tzinfo=TZ)) == []  # before 09:00
    assert chase(db, smtp_server, datetime(2020, 2, 25, 11, 0, tzinfo=TZ)) == []  # closed at 11
    assert smtp_server.handler.accepted == []  # not even the digest
    reminded = chase(db, smtp_server, datetime(2020, 2, 25, 10, 59, tzinfo=TZ))
    assert reminded == sent("dang-ky", "before-7")


# --- `thidua submission record --file` ------------------------------------------------------


def test_a_recorded_submission_keeps_its_files_and_its_receipt_leaves_with_the_next_mail_run(
    db, smtp_server, tmp_path
):
    activate(db, EXAMPLE_PLAN)
    scans = {
        "cong-van-45.pdf": PDF,
        "giao-uoc-da-ky.pdf": PDF.replace(b"<<>>", b"<</Type/Catalog>>", 1),
    }
    args = []
    for name, content in scans.items():
        (tmp_path / name).write_bytes(content)
        args += ["--file", str(tmp_path / name)]
    note = "Công văn số 45/SYT-VP"
    recorded = db.cli(
        "submission",
        "record",
        "syt",
        "dang-ky",
        "--at",
        "2020-03-05 09:30",
        "--channel",
        "dispatch",
        "--note",
        note,
        *args,
        check=True,
    )
    assert recorded.stdout.strip() == (
        "Đã ghi nhận Sở Y tế – Gửi đăng ký danh hiệu thi đua năm 2020, lần 1, lúc 09:30 05/03/2020 "
        "(nộp muộn)."
    )
    with Session(db.engine) as session:
        (submission,) = session.exec(select(Submission)).all()
        files = session.exec(select(SubmissionFile)).all()
        (receipt,) = session.exec(
            select(OutboxMessage).where(OutboxMessage.stage == "receipt")
        ).all()
    assert (submission.status, submission.channel, submission.note) == (
        "accepted",
        "dispatch",
        note,
    )
    assert submission.recorded_by == getpass.getuser()
    store = db.data_dir / "files"
    assert {f.filename: filestore.path_of(store, f.sha256).read_bytes() for f in files} == scans
    assert {f.filename: f.size for f in files} == {n: len(c) for n, c in scans.items()}
    assert list((store / "incoming").glob("*/*")) == []
    assert (receipt.status, receipt.recipient) == (
        "pending",
        "vanphong.syt@bacgiang.gov.vn.example",
    )
    assert smtp_server.handler.accepted == []  # the command itself sends nothing
    next_run = datetime(2020, 3, 5, 10, 0, tzinfo=TZ)
    mail_run(
        chase_decisions,
        engine=db.engine,
        settings=settings(db, smtp_server),
        instant=next_run,
        log=LOG,
        unit="syt",  # reminders and digest for others aside; syt owes nothing more now
    )
    (message,) = received(smtp_server)
    assert message["Subject"] == (
        "[Thi đua 2020] Đã nhận: Gửi đăng ký danh hiệu thi đua năm 2020 (lần 1)"
    )
    assert message["To"] == "vanphong.syt@bacgiang.gov.vn.example"
    body = message.get_body(("plain",)).get_content()
    assert "Hệ thống đã nhận hồ sơ của Sở Y tế lúc 09:30 05/03/2020 (nộp muộn):" in body
    assert "- Lần nộp: 1" in body
    assert "- Tệp: cong-van-45.pdf" in body and "- Tệp: giao-uoc-da-ky.pdf" in body
    with Session(db.engine) as session:
        assert session.get(OutboxMessage, receipt.id).status == "sent"


# --- Cancelled events in `thidua plan show` -------------------------------------------------


def without(text: str, start: str, end: str) -> str:
    """`text` less the part from `start` up to (not including) `end`."""
    assert start in text and end in text
    return text[: text.index(start)] + text[text.index(end) :]


def load(db, path) -> list[str]:
    """What `thidua plan load` does to the plan (the feeds aside); the changes it prints."""
    with session_scope(db.engine) as session:
        return load_plan(session, read_plan(path), actor="test").changes


def shown(db) -> list[str]:
    """The timeline lines of `thidua plan show`, spacing normalised."""
    out = db.cli("plan", "show", check=True).stdout
    return [" ".join(line.split()) for line in out.split("\n\n", 1)[1].splitlines()]


CANCELLED = [  # what the edited plan drops: a round, anniversaries, deadlines, a meeting
    "Đợt thi đua thứ hai",
    "Kỷ niệm 45 năm giải phóng miền Nam",
    "Kỷ niệm 75 năm ngày Cách mạng tháng Tám",
    "Kỷ niệm 75 năm Quốc khánh",
    "Hạn nộp: Báo cáo sơ kết",
    "Hạn nộp: Báo cáo tổng kết",
    "Họp: Họp Khối",
]


def test_cancelled_events_leave_plan_show_and_return_when_the_plan_restores_them(
    db, plan_text, write_plan
):
    original = write_plan(plan_text)
    edited = without(plan_text, "  - code: dot-2\n", "\ndeadlines:\n")
    edited = without(edited, "  - code: so-ket\n", "\nmeetings:\n")
    edited = without(edited, "  - code: tong-ket-nam\n", "\n# Default score sheet")
    edited = without(edited, "      - date: 2020-04-30\n", "      - date: 2020-05-19\n")
    load(db, original)
    dropped = load(db, write_plan(edited, "edited.yaml"))
    assert {"hủy đợt dot-2", "hủy hạn so-ket", "hủy cuộc họp tong-ket-nam"} <= set(dropped)
    cancelled = shown(db)
    load(db, original)  # the original file again: every event back
    restored = shown(db)
    assert all(any(event in line for line in restored) for event in CANCELLED)
    assert cancelled == [line for line in restored if not any(e in line for e in CANCELLED)]


# --- `thidua rehearse --from --to --keep` ---------------------------------------------------


@pytest.fixture(scope="module")
def rehearsals(tmp_path_factory):
    """Two rehearsals at once, as a user runs them: 24–28/02/2020 kept in `giu-lai/`, and
    25/02/2020 alone without --keep; each with its own empty temporary folder, and a data
    folder of the caller's own that must stay untouched."""
    base = tmp_path_factory.mktemp("rehearse")
    runs = {
        "kept": ["--from", "2020-02-24", "--to", "2020-02-28", "--keep", "giu-lai"],
        "scratch": ["--from", "2020-02-25", "--to", "2020-02-25"],
    }
    started = {}
    for name, options in runs.items():
        (base / f"tmp-{name}").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
        env |= {"TMPDIR": str(base / f"tmp-{name}"), "THIDUA_DATA_DIR": str(base / "real")}
        started[name] = subprocess.Popen(
            [sys.executable, "-m", "thidua", "rehearse", str(EXAMPLE_PLAN), *options],
            cwd=base,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    outputs = {name: run.communicate(timeout=300) for name, run in started.items()}
    for name, run in started.items():
        assert run.returncode == 0, outputs[name]
    return base, {name: out for name, (out, _) in outputs.items()}


def days_shown(out: str) -> set[str]:
    return {line[:10] for line in out.splitlines() if re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d ", line)}


def total_emails(out: str) -> int:
    return int(re.search(r"Tổng: (\d+) thư; máy chủ thư nhận \1\.", out).group(1))


def test_rehearse_from_and_to_bound_the_days_rehearsed(rehearsals):
    _, out = rehearsals
    # before-7 on Monday 24/02, bdt's early registration on Thursday 27/02, before-3 on Friday
    # 28/02; the quiet days between send nothing (no digest when nothing changed)
    assert days_shown(out["kept"]) == {"24/02/2020", "27/02/2020", "28/02/2020"}
    assert days_shown(out["scratch"]) == {"25/02/2020"}
    assert kind_name("before-7") in out["scratch"]  # a run that starts late sends it now


def test_rehearse_keep_leaves_its_database_with_every_email_in_the_folder(rehearsals):
    base, out = rehearsals
    kept = base / "giu-lai" / "rehearsal.db"
    with closing(sqlite3.connect(kept)) as connection:
        (count, first, last), *_ = connection.execute(
            "SELECT count(*), min(created_at), max(created_at) FROM outboxmessage"
        ).fetchall()
    assert count == total_emails(out["kept"]) > 0
    assert first.startswith("2020-02-24") and last.startswith("2020-02-28")  # UTC, 08:00 local


def test_rehearse_without_keep_leaves_nothing_and_touches_no_real_data(rehearsals):
    base, out = rehearsals
    assert total_emails(out["scratch"]) > 0
    assert list((base / "tmp-scratch").iterdir()) == []
    assert list((base / "tmp-kept").iterdir()) == []  # with --keep the folder given is used
    assert not (base / "real").exists()
