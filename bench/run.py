"""Every benchmark, one command (`make bench`), one table of medians.

1. Feed endpoint vs a bare route serving the same bytes from memory (wrk, same server process).
2. The 304 path (If-None-Match) on the same endpoint.
3. Rebuilding all feeds of a bloc of 1,000 units (first build, and after a plan edit moves a
   deadline so that every feed changes).
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calendars.publish import publish_feeds  # noqa: E402
from models.db import make_engine, session_scope, upgrade  # noqa: E402
from models.plan_file import read_plan  # noqa: E402
from models.plan_store import load_plan  # noqa: E402
from models.tables import YearPlan  # noqa: E402
from thidua.links import Links  # noqa: E402
from thidua.settings import Settings  # noqa: E402

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


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "http").mkdir()
        rows = bench_http(folder / "http") + bench_rebuild(folder)
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'median':>10}  compared")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10.2f}  {note}")


if __name__ == "__main__":
    main()
