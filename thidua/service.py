"""`thidua up`: the whole service on one machine, under one supervising process.

It starts the portal (feeds and submission pages), a Prefect server with its UI (SQLite under
`$THIDUA_DATA_DIR/prefect`), the `thidua` work pool and a process worker, registers the
deployments of prefect.yaml and the schedules that follow the plans, and prints the addresses.
Ctrl-C or SIGTERM stops every child (terminate, wait, kill), and nothing is left running.
Starting again reuses the same Prefect database: deployments are upserted by name, and runs
missed while it was down are caught up once (docs/deploy.md).
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from config.settings import Settings, get_settings
from models.db import SchemaOutdated, check_schema, make_engine
from models.links import Links
from models.tables import Bloc, YearPlan

PROJECT_DIR = Path(__file__).resolve().parent.parent  # holds prefect.yaml, flows/ and plans/
WORK_POOL = "thidua"
DEPLOY = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"]  # upserts by name
PREFECT_HOST = "127.0.0.1"  # the Prefect UI has no login: never on a public address
START_TIMEOUT = 180.0  # a first start migrates Prefect's database; slow disks take a while
STOP_TIMEOUT = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Urls:
    """Where the portal and the Prefect server listen."""

    host: str
    port: int
    prefect_port: int

    @property
    def portal(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '::') else self.host}:{self.port}"

    @property
    def prefect(self) -> str:
        return f"http://{PREFECT_HOST}:{self.prefect_port}"


class ServiceError(RuntimeError):
    """Why the service cannot start or keep running, in one line for the user."""


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived."""


@dataclass
class Child:
    label: str  # for the user: "cổng thông tin"
    process: subprocess.Popen
    log: Path
    lasting: bool  # a server or worker, not a one-off command


class Supervisor:
    """Starts children in their own process groups, watches them and stops them all."""

    def __init__(self, cwd: Path, env: dict[str, str], log_dir: Path):
        self.cwd, self.env, self.log_dir = cwd, env, log_dir
        self.children: list[Child] = []
        self.stop_signal: int | None = None
        self.others = set(_orphans(set()))  # children of this process that are not ours to stop

    def request_stop(self, signum: int, _frame) -> None:
        self.stop_signal = signum

    def spawn(self, name: str, label: str, args: list[str], *, lasting: bool = True) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
            )
        child = Child(label, process, log, lasting)
        self.children.append(child)
        return child

    def check(self) -> None:
        if self.stop_signal is not None:
            raise StopRequested
        for child in self.children:
            if child.lasting and child.process.poll() is not None:
                raise ServiceError(
                    f"{child.label} đã dừng bất ngờ (mã {child.process.returncode}); "
                    f"xem nhật ký {child.log}"
                )

    def wait_for(self, ready: Callable[[], bool], what: str, log: Path) -> None:
        limit = time.monotonic() + START_TIMEOUT
        while not ready():
            self.check()
            if time.monotonic() > limit:
                raise ServiceError(
                    f"{what} chưa sẵn sàng sau {START_TIMEOUT:.0f} giây; xem nhật ký {log}"
                )
            time.sleep(0.2)

    def run_to_end(self, name: str, label: str, args: list[str]) -> None:
        """Run a one-off command as a child (so Ctrl-C can stop it too); fail if it fails."""
        child = self.spawn(name, label, args, lasting=False)
        self.wait_for(lambda: child.process.poll() is not None, label, child.log)
        if child.process.returncode != 0:
            raise ServiceError(f"{label} thất bại; xem nhật ký {child.log}")

    def watch(self) -> None:
        while True:
            self.check()
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop the children, last started first; then anything they left behind."""
        for child in reversed(self.children):
            _stop_group(child.process)
        _stop_orphans(self.others | {child.process.pid for child in self.children})


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the child's process group, SIGKILL after STOP_TIMEOUT; then to what remains
    of the group (a flow run the worker started, say)."""
    with _gone_ok():
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with _gone_ok():
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with _gone_ok():
        os.killpg(process.pid, signal.SIGKILL)


def _gone_ok() -> suppress:
    return suppress(ProcessLookupError, PermissionError)  # already gone (or reused: not ours)


def _become_subreaper() -> None:
    """On Linux, processes orphaned below us (a flow run in its own session whose worker
    stopped) are re-parented to us instead of init, so `_stop_orphans` can find them."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _orphans(known: set[int]) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and int(entry.name) not in known:
            found.append(int(entry.name))
    return found


def _stop_orphans(known: set[int]) -> None:
    if not Path("/proc").is_dir():
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _orphans(known):
            with _gone_ok():
                os.kill(pid, sig)
        limit = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < limit and _reap() and _orphans(known):
            time.sleep(0.1)
    _reap()


def _reap() -> bool:
    """Collect exited orphans; False when we have no child left at all."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _check_ports(ports: list[tuple[str, int, str]]) -> None:
    for host, port, option in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                raise ServiceError(
                    f"cổng {port} trên {host} đang có chương trình khác dùng "
                    f"(có thể thidua đang chạy); dừng chương trình đó hoặc chọn cổng khác bằng {option}"
                ) from None


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _published_feeds(settings: Settings, base_url: str) -> list[tuple[str, str]]:
    """(label, URL) of each bloc feed being published (active and closed plans)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(Bloc.code, YearPlan.year)
                .join(YearPlan, YearPlan.bloc_id == Bloc.id)
                .where(YearPlan.state.in_(["active", "closed"]))
                .order_by(Bloc.code, YearPlan.year)
            ).all()
    finally:
        engine.dispose()
    links = Links(base_url, b"")  # bloc feeds are public: no key involved
    return [(f"Lịch chung {code} {year}", links.bloc_feed_url(code, year)) for code, year in rows]


def ensure_work_pool() -> None:
    """Create the `thidua` process pool unless it exists (then it is kept: an admin may have
    tuned it), on the Prefect API of the current settings."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    pool = WorkPoolCreate(
        name=WORK_POOL,
        type=ProcessWorker.type,
        base_job_template=ProcessWorker.get_default_base_job_template(),
    )
    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        client.create_work_pool(pool)


def _register(supervisor: Supervisor, api_url: str, settings: Settings) -> None:
    """The work pool, the deployments of prefect.yaml, the plans' schedules; then the worker,
    so that runs missed while we were down run with the deployments as they are now."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.schedules import sync_plan_schedules

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        ensure_work_pool()
        typer.echo("Đăng ký các deployment trong prefect.yaml…")
        supervisor.run_to_end("prefect-deploy", "việc đăng ký deployment", DEPLOY)
        engine = make_engine(settings.resolved_database_url)
        try:
            sync_plan_schedules(engine, settings, as_of=datetime.now(UTC))
        finally:
            engine.dispose()
    supervisor.spawn(
        "prefect-worker",
        "worker Prefect",
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL]
        + ["--name", f"thidua-{socket.gethostname()}"],
    )


def _start(supervisor: Supervisor, settings: Settings, urls: Urls, host: str) -> None:
    """Check, then start the portal and Prefect, register, and wait until both answer."""
    _check_ports([(host, urls.port, "--port"), (PREFECT_HOST, urls.prefect_port, "--prefect-port")])
    engine = make_engine(settings.resolved_database_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()
    supervisor.log_dir.mkdir(parents=True, exist_ok=True)
    _become_subreaper()
    typer.echo(f"Khởi động cổng thông tin ({urls.portal}) và máy chủ Prefect ({urls.prefect})…")
    portal = supervisor.spawn(
        "portal",
        "cổng thông tin",
        [sys.executable, "-m", "thidua", "serve", "--host", host, "--port", str(urls.port)],
    )
    server = supervisor.spawn(
        "prefect-server",
        "máy chủ Prefect",
        [sys.executable, "-m", "prefect", "server", "start"]
        + ["--host", PREFECT_HOST, "--port", str(urls.prefect_port)],
    )
    import prefect.client.orchestration  # noqa: F401  (takes seconds: meanwhile the server boots)

    supervisor.wait_for(
        lambda: _answers(f"{urls.prefect}/api/health"), "máy chủ Prefect", server.log
    )
    _register(supervisor, f"{urls.prefect}/api", settings)
    supervisor.wait_for(
        lambda: _answers(f"{urls.portal}/openapi.json"), "cổng thông tin", portal.log
    )


def run(*, host: str, port: int, prefect_port: int) -> int:
    """Start everything, print the addresses, run until Ctrl-C/SIGTERM; the exit code."""
    settings = get_settings()
    urls = Urls(host, port, prefect_port)
    data_dir = settings.data_dir.resolve()
    env = {
        **os.environ,
        "THIDUA_DATA_DIR": str(data_dir),
        "PREFECT_HOME": str(data_dir / "prefect"),  # Prefect's SQLite database lives here
        "PREFECT_API_URL": f"{urls.prefect}/api",
    }
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if "public_url" not in settings.model_fields_set:  # links then point at this portal
        env["THIDUA_PUBLIC_URL"] = urls.portal
    supervisor = Supervisor(PROJECT_DIR, env, data_dir / "logs")
    previous = {sig: signal.signal(sig, supervisor.request_stop) for sig in STOP_SIGNALS}
    try:
        _start(supervisor, settings, urls, host)
        _print_addresses(settings, env.get("THIDUA_PUBLIC_URL", settings.base_url), urls.prefect)
        supervisor.watch()
    except StopRequested:
        typer.echo("Đang dừng…")
    except (ServiceError, SchemaOutdated) as error:
        typer.echo(f"Lỗi: {error}", err=True)
        return 1
    except OperationalError as error:
        typer.echo(f"Lỗi: không kết nối được cơ sở dữ liệu: {error.orig}", err=True)
        return 1
    finally:
        supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if supervisor.children:
            typer.echo("Đã dừng.")
    return 0


def _print_addresses(settings: Settings, public_url: str, prefect_url: str) -> None:
    base = public_url.rstrip("/")
    rows = [("Giao diện Prefect", prefect_url), ("Cổng nộp hồ sơ và lịch", base)]
    rows += _published_feeds(settings, base)
    rows.append(("Trang Văn phòng", f"{base}/quan-tri"))
    rows.append(("Nhật ký", str(settings.data_dir.resolve() / "logs")))
    width = max(len(label) for label, _ in rows)
    typer.echo("thidua đang chạy:")
    for label, value in rows:
        typer.echo(f"  {label:<{width}}  {value}")
    typer.echo("  Đường dẫn riêng của từng đơn vị: thidua calendar urls")
    typer.echo("Nhấn Ctrl-C để dừng.")
