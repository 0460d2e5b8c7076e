"""The main command, `make run`, run as a user runs it: migrate, load and activate the demo year
(the example plan carried to a year still running), then `thidua up`; the Prefect API, the portal and the bloc feed answer; Ctrl-C stops
everything and leaves no process behind; `thidua up` again resumes on the same data without
duplicates and exits 0 on Ctrl-C."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from domain.dates import TZ
from tests.conftest import ROOT, free_port

READY = "Nhấn Ctrl-C để dừng."
SCHEDULED = {"publish-calendars", "chase-submissions", "collect-submissions", "sync-schedules"}


class Up:
    """A command in a session of its own, as a terminal runs a foreground job; its output."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def ready(self, timeout: float = 240) -> dict[str, str]:
        """Wait for the addresses; label -> URL."""
        limit = time.monotonic() + timeout
        printed = {}
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, limit - time.monotonic()))
            except queue.Empty:
                raise AssertionError("".join(self.output)) from None
            if line.strip() == READY:
                return printed
            if "http" in line:
                label, url = line.strip().rsplit(None, 1)
                printed[label.strip()] = url

    def tree(self) -> set[int]:
        """Every process below the command."""
        parents = {}
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, ValueError):
                continue
        found, frontier = set(), {self.process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier}
            found |= frontier
        return found

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the foreground process group, as a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)  # the last lines
        self.process.stdout.close()
        return code


def _alive(pids: set[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _prefect_state(prefect_port: int, *, wait_for_runs: bool = False) -> dict:
    """Deployments, their schedules and automations; with `wait_for_runs`, once the scheduler
    has planned the next runs of every scheduled deployment, also those runs."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{prefect_port}/api"}),
        get_client(sync_client=True) as client,
    ):
        deployments = {d.name: d for d in client.read_deployments()}
        limit = time.monotonic() + 60
        while wait_for_runs:
            runs = [r for r in client.read_flow_runs() if r.state.name == "Scheduled"]
            planned = {r.deployment_id for r in runs}
            if all(deployments[name].id in planned for name in SCHEDULED):
                break
            assert time.monotonic() < limit, "the scheduler planned no runs"
            time.sleep(1)
        return {
            "deployments": {name: d.id for name, d in deployments.items()},
            "schedules": {
                name: sorted(str(s.id) for s in d.schedules) for name, d in deployments.items()
            },
            "automations": sorted(a.name for a in client.read_automations()),
            "runs": runs if wait_for_runs else [],
        }


def _environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "THIDUA_DATA_DIR": str(data_dir)}
    for name in ("THIDUA_DATABASE_URL", "THIDUA_PUBLIC_URL", "PREFECT_API_URL", "PREFECT_HOME"):
        env.pop(name, None)
    return env


def test_make_run_serves_everything_stops_cleanly_and_resumes_without_duplicates(tmp_path):
    env = _environment(tmp_path / "var")
    port, prefect_port = free_port(), free_port()
    options = f"UP=--port {port} --prefect-port {prefect_port}"

    first = Up(["make", "--no-print-directory", "run", options], env)
    urls = first.ready()
    year = _live_demo_year("".join(first.output))
    assert urls["Giao diện Prefect"] == f"http://127.0.0.1:{prefect_port}"
    assert httpx.get(f"http://127.0.0.1:{prefect_port}/api/health").json() is True
    assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").status_code == 200
    assert _reminders_of_the_next_morning(tmp_path / "var", year)[0] == []  # nothing overdue
    home = httpx.get(f"http://127.0.0.1:{port}/").text  # the bloc's page, with subscribe links
    assert f"Năm {year}" in home and "Sắp tới" in home
    assert f"webcal://127.0.0.1:{port}/calendars/bg-vhxh/{year}.ics" in home
    feed_url = urls[f"Lịch chung bg-vhxh {year}"]
    assert feed_url == f"http://127.0.0.1:{port}/calendars/bg-vhxh/{year}.ics"
    feed = httpx.get(feed_url)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    before = _prefect_state(prefect_port)
    assert SCHEDULED | {"load-plan", "open-round"} <= set(before["deployments"])
    children = first.tree()
    assert len(children) >= 4  # thidua up, the portal, the Prefect server, the worker
    first.interrupt()  # make itself then ends with "Interrupt", as on any Ctrl-C
    assert _alive(children) == []
    assert "Đã dừng." in "".join(first.output) and "Lỗi" not in "".join(first.output)

    up = [sys.executable, "-m", "thidua", "up", "--port", str(port)]
    second = Up([*up, "--prefect-port", str(prefect_port)], env)  # same data and ports
    second.ready()
    after = _prefect_state(prefect_port, wait_for_runs=True)
    assert after["deployments"] == before["deployments"]  # upserted by name, same ids
    assert after["schedules"] == before["schedules"]
    assert after["automations"] == before["automations"]
    planned = Counter((r.deployment_id, r.expected_start_time) for r in after["runs"])
    assert max(planned.values()) == 1, "a run is planned twice"
    children = second.tree()
    assert second.interrupt() == 0, "".join(second.output)
    assert _alive(children) == []


def _live_demo_year(output: str) -> int:
    """The demo year `make run` loaded, checked to be live: its timeline has a deadline whose
    last day is still to come."""
    loaded = re.search(r"Đã nạp kế hoạch năm (\d{4})", output)
    assert loaded, output
    today = datetime.now(TZ).date()
    last_days = [
        datetime.strptime(m.group(1), "%d/%m/%Y").date()
        for m in re.finditer(r"^\S+ ?\S*, (\d\d/\d\d/\d{4})\s+Hạn nộp:", output, re.M)
    ]
    assert len(last_days) == 3 and max(last_days) >= today, output
    assert int(loaded.group(1)) in (today.year, today.year + 1)
    return int(loaded.group(1))


def _reminders_of_the_next_morning(data_dir: Path, year: int) -> tuple[list[str], list[str]]:
    """The reminder stages the chase would send at 09:00 on the next working day: (overdue
    ones, the others)."""
    from sqlmodel import Session

    from models.db import make_engine
    from models.links import Links
    from models.queries import find_plan
    from notifications.drafts import due_reminders
    from notifications.state import plan_state

    engine = make_engine(f"sqlite:///{data_dir / 'thidua.db'}")
    with Session(engine) as session:
        _, plan = find_plan(session=session, year=year, bloc="bg-vhxh")
        state = plan_state(session, plan=plan, links=Links("", b"unused"))
        morning = state.calendar.shift(datetime.now(TZ).date(), 1)
        as_of = datetime.combine(morning, datetime.min.time().replace(hour=9), TZ)
        stages = [d.stage.name for d in due_reminders(state, as_of)]
    engine.dispose()
    return [s for s in stages if s.startswith("overdue")], [
        s for s in stages if not s.startswith("overdue")
    ]


def _up_fails(data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "thidua", "up", *options],
        cwd=ROOT,
        env=_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result


def test_up_refuses_a_port_in_use_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        result = _up_fails(tmp_path, "--port", str(free_port()), "--prefect-port", str(taken))
    assert result.stderr.splitlines() == [
        f"Lỗi: cổng {taken} trên 127.0.0.1 đang có chương trình khác dùng (có thể thidua đang "
        "chạy); dừng chương trình đó hoặc chọn cổng khác bằng --prefect-port"
    ]
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_up_on_a_database_never_migrated_says_what_to_run(tmp_path):
    result = _up_fails(tmp_path, "--port", str(free_port()), "--prefect-port", str(free_port()))
    assert result.stderr.startswith("Lỗi: cơ sở dữ liệu đang ở phiên bản trống")
    assert "thidua db upgrade" in result.stderr
