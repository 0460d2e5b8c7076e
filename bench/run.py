"""Every benchmark, one command (`make bench`), one table of medians.

1. Feed endpoint vs a bare route serving the same bytes from memory (wrk, same server process).
2. The 304 path (If-None-Match) on the same endpoint.
3. Rebuilding all feeds of a bloc of 1,000 units (first build, and after a plan edit moves a
   deadline so that every feed changes).
4. Emails per second of `chase_submissions` for 1,000 units (deciding, rendering, outbox,
   sending) vs a bare aiosmtplib loop sending the same messages to the same local SMTP sink.
5. `thidua rehearse` of the example plan's whole year, and of a 300-unit copy, vs 60 s.
6. How long a command takes to answer (`thidua --help`, `plan check`, `status`, `plan show`)
   vs starting Python itself, and vs its goal (1 s, 2 s for the commands that read the database).
7. The secretariat's workspace `/quan-tri` for 300 units, signed in, over HTTP: the page and its
   Excel export, vs the goal of 300 ms.
8. `make run`'s work until every URL answers (`thidua up` after the demo year is loaded), vs 60 s;
   and how long a flow run waits between the worker taking it (Pending) and its body starting
   (Running), read from the run's state history, vs 8 s.
"""

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calendars.publish import publish_feeds  # noqa: E402
from config.settings import Settings  # noqa: E402
from models.db import make_engine, session_scope, upgrade  # noqa: E402
from models.links import Links  # noqa: E402
from models.plan_file import read_plan  # noqa: E402
from models.plan_store import load_plan  # noqa: E402
from models.tables import YearPlan  # noqa: E402

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here
REPEATS = 3
DURATION = os.environ.get("BENCH_DURATION", "5s")
EXAMPLE = ROOT / "plans" / "bac-giang-vhxh-2020.yaml"


def _prepare(folder: Path, plan_path: Path, as_of: datetime) -> tuple[Settings, float]:
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'thidua.db'}")
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        load_plan(session, read_plan(plan_path), actor="bench")
        session.exec(select(YearPlan)).one().state = "active"
        started = time.perf_counter()
        publish_feeds(session, settings=settings, as_of=as_of)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return settings, elapsed


def _wrk(url: str, header: str | None = None) -> float:
    command = ["wrk", "-t1", "-c16", f"-d{DURATION}", url]
    if header:
        command[1:1] = ["-H", header]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses", output):
        raise RuntimeError(f"errors from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def _private_url(folder: Path, base: str) -> str:
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'thidua.db'}")
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        unit_id = session.exec(select(YearPlan)).one().deputy_unit_id
        url = Links(base, settings.signing_key()).unit_feed_url(session, unit_id)
    engine.dispose()
    return url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_http(folder: Path) -> list[tuple[str, float, str]]:
    _prepare(folder, EXAMPLE, datetime.now(UTC))
    port = _free_port()
    env = {
        **os.environ,
        "THIDUA_DATA_DIR": str(folder),
        "THIDUA_DATABASE_URL": f"sqlite:///{folder / 'thidua.db'}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.feed_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        feed_url = f"{base}/calendars/bg-vhxh/2020.ics"
        etag = subprocess.run(["curl", "-sI", feed_url], capture_output=True, text=True).stdout
        etag = re.search(r'(?i)^etag: (".*")', etag, flags=re.MULTILINE).group(1)
        private_url = _private_url(folder, base)
        runs: dict[str, list[float]] = {"bare": [], "feed": [], "private": [], "304": []}
        for _ in range(REPEATS):  # interleaved, so drift hits every variant alike
            runs["bare"].append(_wrk(f"{base}/bare.ics"))
            runs["feed"].append(_wrk(feed_url))
            runs["private"].append(_wrk(private_url))
            runs["304"].append(_wrk(feed_url, f"If-None-Match: {etag}"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    bare, feed, private, not_modified = (
        statistics.median(runs[k]) for k in ("bare", "feed", "private", "304")
    )
    return [
        ("bare route, same bytes from memory (req/s)", bare, "the limit"),
        ("bloc feed endpoint, 200 (req/s)", feed, f"{feed / bare:.0%} of bare (goal ≥ 80%)"),
        ("private unit feed endpoint, 200 (req/s)", private, f"{private / bare:.0%} of bare"),
        (
            "feed endpoint, 304 with If-None-Match (req/s)",
            not_modified,
            f"{not_modified / bare:.0%} of bare",
        ),
    ]


def _big_plan(folder: Path, units: int) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    head, rest = text.split("units:\n", 1)
    tail = rest[rest.index("\nrounds:\n") :]
    tail = re.sub(r"  rotation: \[.*\]", "  rotation: []", tail)
    lines = []
    for i in range(units):
        code = "stttt" if i == 0 else ("svhttdl" if i == 1 else f"dv{i:04d}")
        lines += [
            f"  - code: {code}",
            f"    name: Đơn vị số {i} (ví dụ)",
            "    contacts:",
            "      focal_point:",
            f"        name: Văn phòng đơn vị số {i}",
            f"        emails: [vanphong.{code}@bacgiang.gov.vn.example]",
        ]
    path = folder / "big.yaml"
    path.write_text(head + "units:\n" + "\n".join(lines) + "\n" + tail, encoding="utf-8")
    return path


def bench_rebuild(folder: Path, units: int = 1000) -> list[tuple[str, float, str]]:
    first, moved = [], []
    for run in range(REPEATS):
        work = folder / f"rebuild-{run}"
        work.mkdir()
        path = _big_plan(work, units)
        as_of = datetime(2020, 2, 20, 2, tzinfo=UTC)
        settings, elapsed = _prepare(work, path, as_of)
        first.append(elapsed)
        path.write_text(
            path.read_text(encoding="utf-8").replace("date: 2020-06-20", "date: 2020-06-22"),
            encoding="utf-8",
        )
        engine = make_engine(settings.resolved_database_url)
        with session_scope(engine) as session:
            load_plan(session, read_plan(path), actor="bench")
            started = time.perf_counter()
            changed = publish_feeds(session, settings=settings, as_of=as_of + timedelta(days=1))
            moved.append(time.perf_counter() - started)
        engine.dispose()
        assert len(changed) == units + 1, len(changed)
    return [
        (f"first build of {units + 1} feeds, {units} units (s)", statistics.median(first), ""),
        (
            f"rebuild after a deadline moved, all {units + 1} feeds change (s)",
            statistics.median(moved),
            "",
        ),
    ]


async def _bare_loop(port: int, contents: list, connections: int) -> float:
    """What a plain script does: build each EmailMessage and aiosmtplib.send_message() it."""
    import aiosmtplib

    async def one_connection(batch):
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            for recipient, subject, text, html in batch:
                message = EmailMessage()
                message["From"] = "Khối thi đua <no-reply@thidua.invalid>"
                message["To"] = recipient
                message["Subject"] = subject
                message.set_content(text)
                message.add_alternative(html, subtype="html")
                await client.send_message(message)

    started = time.perf_counter()
    await asyncio.gather(*(one_connection(contents[i::connections]) for i in range(connections)))
    return len(contents) / (time.perf_counter() - started)


async def _wire_loop(port: int, wire: list, connections: int) -> float:
    import aiosmtplib

    async def one_connection(batch):
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            for message in batch:
                await client.sendmail(message.sender, [message.recipient], message.data)

    started = time.perf_counter()
    await asyncio.gather(*(one_connection(wire[i::connections]) for i in range(connections)))
    return len(wire) / (time.perf_counter() - started)


def bench_mail(folder: Path, units: int = 1000) -> list[tuple[str, float, str]]:
    from prefect.testing.utilities import prefect_test_harness

    from config.settings import get_settings
    from flows.chase import chase_submissions
    from models.tables import OutboxMessage
    from notifications.mailer import build_email

    template = folder / "mail-template"
    template.mkdir()
    _prepare(template, _big_plan(template, units), datetime(2020, 2, 20, 2, tzinfo=UTC))
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port)], stdout=subprocess.PIPE
    )
    sink.stdout.readline()
    monday = datetime(2020, 2, 24, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội: every unit's before-7
    chase_rates, bare_rates, wire_rates = [], [], []
    try:
        with prefect_test_harness(server_startup_timeout=120):
            for run in range(REPEATS):
                work = folder / f"mail-{run}"
                shutil.copytree(template, work)
                os.environ.update(
                    THIDUA_DATA_DIR=str(work),
                    THIDUA_DATABASE_URL=f"sqlite:///{work / 'thidua.db'}",
                    THIDUA_SMTP_URL=f"smtp://127.0.0.1:{port}",
                )
                get_settings.cache_clear()
                started = time.perf_counter()
                rows = chase_submissions(as_of=monday)
                chase_rates.append(len(rows) / (time.perf_counter() - started))
                engine = make_engine(f"sqlite:///{work / 'thidua.db'}")
                with Session(engine) as session:
                    sent = session.exec(
                        select(OutboxMessage).where(OutboxMessage.status == "sent")
                    ).all()
                    contents = [(m.recipient, m.subject, m.text, m.html) for m in sent]
                    wire = [
                        build_email(
                            m,
                            sender=get_settings().mail_from,
                            reply_to=None,
                            written_at=datetime.now(UTC),
                        )
                        for m in sent
                    ]
                engine.dispose()
                assert len(sent) == len(rows) == units + 1, (len(sent), len(rows))
                bare_rates.append(
                    asyncio.run(_bare_loop(port, contents, get_settings().smtp_connections))
                )
                wire_rates.append(
                    asyncio.run(_wire_loop(port, wire, get_settings().smtp_connections))
                )
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    chase, bare, wire = (statistics.median(r) for r in (chase_rates, bare_rates, wire_rates))
    return [
        (
            f"bare aiosmtplib loop: build + send_message, {units + 1} messages (emails/s)",
            bare,
            "the limit",
        ),
        ("  the same, bytes built beforehand: SMTP alone (emails/s)", wire, "transport ceiling"),
        (
            f"chase_submissions, {units} units end to end (emails/s)",
            chase,
            f"{chase / bare:.0%} of bare (goal ≥ 70%)",
        ),
    ]


def bench_rehearsal(folder: Path) -> list[tuple[str, float, str]]:
    from thidua.rehearsal import rehearse

    rows = []
    big = folder / "rehearsal-300"
    big.mkdir()
    for label, plan in (("the example plan", EXAMPLE), ("300 units", _big_plan(big, 300))):
        times = []
        for i in range(REPEATS):
            work = folder / f"rehearsal-{label}-{i}"
            work.mkdir()
            started = time.perf_counter()
            result = rehearse(plan, work_dir=work)
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        rows.append(
            (
                f"rehearsal of a year, {label}, {len(result.emails)} emails (s)",
                seconds,
                f"limit 60 s: {seconds / 60:.0%} of it",
            )
        )
    return rows


def _seconds(command: list[str], env: dict[str, str], cwd: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_commands(folder: Path) -> list[tuple[str, float, str]]:
    """Each command as a clerk runs it: a new process, warm disk cache, the example plan."""
    _prepare(folder, EXAMPLE, datetime.now(UTC))
    env = {
        **os.environ,
        "THIDUA_DATA_DIR": str(folder),
        "THIDUA_DATABASE_URL": f"sqlite:///{folder / 'thidua.db'}",
    }
    thidua = [sys.executable, "-m", "thidua"]
    python = _seconds([sys.executable, "-c", "pass"], env, folder)
    rows = [("python -c pass: starting Python (s)", python, "the limit")]
    for args, goal in (
        (["--help"], 1.0),
        (["plan", "check", str(EXAMPLE)], 1.0),
        (["status"], 2.0),
        (["plan", "show"], 2.0),
    ):
        seconds = _seconds(thidua + args, env, folder)
        rows.append((f"thidua {' '.join(args[:2])} (s)", seconds, f"goal ≤ {goal:g} s"))
    return rows


def bench_service(folder: Path, runs: int = 3) -> list[tuple[str, float, str]]:
    """`thidua up` as `make run` starts it, then deployment runs started as the UI's Quick run."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
    env |= {"THIDUA_DATA_DIR": str(folder)}
    thidua = [sys.executable, "-m", "thidua"]
    for args in (["db", "upgrade"], ["plan", "demo", str(EXAMPLE)]):
        subprocess.run(thidua + args, env=env, cwd=ROOT, check=True, capture_output=True)
    port, prefect_port = _free_port(), _free_port()
    started = time.perf_counter()
    up = subprocess.Popen(
        [*thidua, "up", "--port", str(port), "--prefect-port", str(prefect_port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        for line in up.stdout:
            if line.strip() == "Nhấn Ctrl-C để dừng.":
                break
        ready = time.perf_counter() - started
        waits = []
        api = f"http://127.0.0.1:{prefect_port}/api"
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("publish-calendars/publish-calendars")
            for _ in range(runs):
                run = client.create_flow_run_from_deployment(deployment.id)
                while not client.read_flow_run(run.id).state.is_final():
                    time.sleep(0.5)
                states = {s.type.value: s.timestamp for s in client.read_flow_run_states(run.id)}
                waits.append((states["RUNNING"] - states["PENDING"]).total_seconds())
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)
    return [
        ("thidua up until every URL answers, demo year loaded (s)", ready, "goal ≤ 60 s warm"),
        (
            f"flow run: worker takes it (Pending) → body starts (Running), {runs} runs (s)",
            statistics.median(waits),
            "goal ≤ 8 s",
        ),
    ]


def bench_workspace(folder: Path, units: int = 300) -> list[tuple[str, float, str]]:
    import threading

    import httpx
    import uvicorn

    from models.staff import add_account
    from portal.app import create_app

    settings, _ = _prepare(folder, _big_plan(folder, units), datetime(2020, 2, 20, 2, tzinfo=UTC))
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        add_account(
            session, name="bench", password="mat-khau-do-kiem", actor="bench", at=datetime.now(UTC)
        )
    engine.dispose()
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = {"/quan-tri": [], "/quan-tri/tong-quan/2020.xlsx": []}
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=60) as client:
        form = client.get("/quan-tri/dang-nhap")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
        data = {"csrf": csrf, "name": "bench", "password": "mat-khau-do-kiem"}
        assert client.post("/quan-tri/dang-nhap", data=data).status_code == 303
        for path, times in timings.items():
            client.get(path).raise_for_status()  # warm
            for _ in range(10):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
    server.should_exit = True
    return [
        (f"GET {path}, {units} units (ms)", statistics.median(times), "goal ≤ 300 ms")
        for path, times in timings.items()
    ]


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "http").mkdir()
        (folder / "commands").mkdir()
        (folder / "workspace").mkdir()
        (folder / "service").mkdir()
        rows = (
            bench_commands(folder / "commands")
            + bench_service(folder / "service")
            + bench_http(folder / "http")
            + bench_rebuild(folder)
            + bench_mail(folder)
            + bench_rehearsal(folder)
            + bench_workspace(folder / "workspace")
        )
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'median':>10}  compared")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10.2f}  {note}")


if __name__ == "__main__":
    main()
