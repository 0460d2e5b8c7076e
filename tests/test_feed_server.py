"""The feeds over real HTTP: a uvicorn server on loopback, requests with httpx."""

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
from sqlmodel import select

from calendars.publish import publish_feeds
from config.settings import Settings
from models.db import session_scope
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import YearPlan
from tests.conftest import EXAMPLE_PLAN, running

BLOC_PATH = "/calendars/bg-vhxh/2020.ics"


@pytest.fixture
def server(db):
    """The app serving `db`, with the example plan loaded, activated and published."""
    settings = Settings(data_dir=db.data_dir, database_url=db.url, feed_refresh_seconds=0.1)
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
        publish_feeds(session, settings=settings, as_of=datetime.now(UTC))
    with running(settings) as client:
        yield client


def eventually(probe, timeout: float = 10.0):
    """Poll `probe` until it returns a truthy value: the app picks up changes on its refresh."""
    limit = time.monotonic() + timeout
    while not (result := probe()):
        assert time.monotonic() < limit, "condition not reached in time"
        time.sleep(0.05)
    return result


def _private_urls(db) -> dict[str, str]:
    out = db.cli("calendar", "urls", check=True).stdout
    return {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if "/calendars/private/" in line
    }


def test_feed_is_served_as_utf8_calendar_with_validators(server):
    response = server.get(BLOC_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 66
    assert response.headers["last-modified"].endswith(" GMT")
    assert "no-cache" in response.headers["cache-control"]
    assert response.headers["x-robots-tag"] == "noindex"
    assert "Khối thi đua các cơ quan lĩnh vực Văn hóa" in response.content.decode("utf-8")


def test_repeated_request_with_the_etag_gets_304(server):
    first = server.get(BLOC_PATH)
    again = server.get(BLOC_PATH, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["last-modified"] == first.headers["last-modified"]


def test_if_modified_since_answers_304_only_when_nothing_changed_since(server):
    first = server.get(BLOC_PATH)
    same = server.get(BLOC_PATH, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert same.status_code == 304
    old = format_datetime(datetime(2019, 1, 1, tzinfo=UTC), usegmt=True)
    assert server.get(BLOC_PATH, headers={"If-Modified-Since": old}).status_code == 200
    assert server.get(BLOC_PATH, headers={"If-Modified-Since": "not a date"}).status_code == 200
    stale = {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]}
    assert server.get(BLOC_PATH, headers=stale).status_code == 200  # If-None-Match wins


def test_head_gives_the_headers_without_the_body(server):
    full = server.get(BLOC_PATH)
    head = server.head(BLOC_PATH)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == full.headers["etag"]
    assert int(head.headers["content-length"]) == len(full.content)


@pytest.mark.parametrize(
    "path",
    [
        "/calendars/bg-vhxh/2021.ics",
        "/calendars/khac/2020.ics",
        "/calendars/bg-vhxh/abc.ics",
        "/calendars/bg-vhxh/²⁰²⁰.ics",
        "/calendars/bg-vhxh/" + "9" * 5000 + ".ics",
        "/calendars/private/" + "A" * 43 + ".ics",
    ],
)
def test_unknown_feed_or_token_is_404(server, path):
    response = server.get(path)
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.text


def test_private_feed_answers_and_its_old_url_is_404_after_rotation(server, db):
    old = _private_urls(db)["syt"]  # issued now: served from the app's next refresh
    path = httpx.URL(old).path
    feed = eventually(lambda: (r := server.get(path)).status_code == 200 and r)
    assert (
        "Sở Y tế" in feed.text and "[Quá hạn] Hạn nộp" in feed.text
    )  # 2020's deadlines, seen today
    rotated = db.cli("calendar", "rotate", "syt", check=True).stdout
    new_path = httpx.URL(rotated.strip().split()[-1]).path
    assert new_path != path
    eventually(lambda: server.get(path).status_code == 404)
    assert server.get(new_path).content == feed.content  # same feed, new address
    assert _private_urls(db)["bdt"] != _private_urls(db)["syt"]
    other = server.get(httpx.URL(_private_urls(db)["bdt"]).path)
    assert "Ban Dân tộc" in other.text and "Sở Y tế" not in other.text


def test_feed_changes_etag_after_the_plan_changes(server, db, plan_text, write_plan):
    before = server.get(BLOC_PATH)
    edited = plan_text.replace("    date: 2020-06-20\n", "    date: 2020-06-25\n")
    db.cli("plan", "load", str(write_plan(edited)), check=True)
    after = eventually(
        lambda: (
            (
                r := server.get(BLOC_PATH, headers={"If-None-Match": before.headers["etag"]})
            ).status_code
            == 200
            and r
        )
    )
    assert after.headers["etag"] != before.headers["etag"]
    assert "DTSTART;VALUE=DATE:20200624" in after.text


def test_database_outage_answers_503_not_an_empty_calendar(tmp_path):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:9/thidua"  # nothing listens on port 9
    with running(Settings(data_dir=tmp_path, database_url=unreachable)) as client:
        response = client.get(BLOC_PATH)
    assert response.status_code == 503 and response.headers["retry-after"] == "300"


def test_calendar_export_writes_the_served_bytes(server, db, tmp_path):
    target = tmp_path / "out.ics"
    db.cli("calendar", "export", "--unit", "syt", "-o", str(target), check=True)
    path = httpx.URL(_private_urls(db)["syt"]).path
    served = eventually(lambda: (r := server.get(path)).status_code == 200 and r)
    assert target.read_bytes() == served.content
