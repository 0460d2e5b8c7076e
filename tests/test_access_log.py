"""The portal's logs, from `thidua serve` run as production runs it: no private token in any
line (access log, error log, tracebacks), and no trace of a ballot request."""

import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from calendars.publish import publish_feeds
from config.settings import Settings
from models.db import session_scope
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Unit, YearPlan
from portal.server_log import RedactingFormatter
from tests.conftest import EXAMPLE_PLAN, free_port

TOKEN = "kag3pY-iuGlYCVM4VSbtEN65caJRFZctyBVbtMdhU30"  # the shape of a real one


def _publish_and_link(db) -> tuple[str, str]:
    """The example plan, published; the unit syt's (submission token, calendar token)."""
    settings = Settings(data_dir=db.data_dir, database_url=db.url)
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
        publish_feeds(session, settings=settings, as_of=datetime.now(UTC))
        unit_id = session.exec(select(Unit.id).where(Unit.code == "syt")).one()
        submit_url, feed_url = Links("", settings.signing_key()).for_units(session, [unit_id])[
            unit_id
        ]
    return submit_url.rsplit("/", 1)[1], feed_url.rsplit("/", 1)[1].removesuffix(".ics")


def _websocket_attempt(port: int, path: str) -> None:
    """A WebSocket handshake on `path`: uvicorn answers 403 and reports it in its error log."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert b" 403 " in connection.recv(1024)


def _serve_until_ready(db, port: int, log) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "thidua", "serve", "--port", str(port)],
        cwd=db.data_dir,
        env={**os.environ, **db.env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    limit = time.monotonic() + 120
    while True:
        assert server.poll() is None, "thidua serve stopped"
        assert time.monotonic() < limit, "thidua serve did not start"
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json").raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.1)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the log does not depend on it
def test_served_logs_mask_every_private_token_and_leave_out_ballots(db, tmp_path):
    submit_token, calendar_token = _publish_and_link(db)
    port = free_port()
    log_path = tmp_path / "portal.log"
    with log_path.open("wb") as log:
        server = _serve_until_ready(db, port, log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                answers = [
                    client.get(f"/don-vi/{submit_token}").status_code,
                    client.get(f"/don-vi/{submit_token[:-1]}").status_code,  # mistyped
                    client.get(f"/api/v1/don-vi/{submit_token}").status_code,
                    client.get(f"/calendars/private/{calendar_token}.ics").status_code,
                    client.get("/calendars/bg-vhxh/2020.ics").status_code,
                ]
                client.post(f"/don-vi/{submit_token}/bo-phieu/2020", data={"submit": "1"})
            _websocket_attempt(port, f"/don-vi/{submit_token}")
            _websocket_attempt(port, f"/don-vi/{submit_token}/bo-phieu/2020")
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert answers == [200, 404, 200, 200, 200]
    text = log_path.read_text()
    assert "Uvicorn running on" in text  # the server's own lines are all there
    for secret in (submit_token, calendar_token):
        assert secret[:12] not in text and secret[-12:] not in text
    assert "bo-phieu" not in text and "POST" not in text
    for line in (
        '"GET /don-vi/*** HTTP/1.1" 200',
        '"GET /don-vi/*** HTTP/1.1" 404',
        '"GET /api/v1/don-vi/*** HTTP/1.1" 200',
        '"GET /calendars/private/*** HTTP/1.1" 200',
        '"GET /calendars/bg-vhxh/2020.ics HTTP/1.1" 200',  # nothing else is masked
        '"WebSocket /don-vi/***" 403',  # uvicorn's error log
    ):
        assert line in text, line


def test_a_traceback_in_the_error_log_is_masked_too():
    formatter = RedactingFormatter("%(levelprefix)s %(message)s", use_colors=False)
    try:
        raise LookupError(f"/calendars/private/{TOKEN}.ics not found (token {TOKEN})")
    except LookupError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in %s",
            ("ASGI",),
            sys.exc_info(),
        )
    line = formatter.format(record)
    assert line.startswith("ERROR:    Exception in ASGI\nTraceback")
    assert TOKEN not in line and "/calendars/private/*** not found (token ***)" in line
