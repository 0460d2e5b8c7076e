"""Private links stay private: no feed carries a link that can submit or vote; every response
forbids framing and sniffing, and nothing behind a private link or a login is cached; the
service refuses to start on a database it cannot use."""

import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from calendars.publish import publish_feeds
from config.settings import Settings
from models.db import HEAD, session_scope
from models.links import Links
from models.plan_file import read_plan
from models.plan_store import load_plan
from models.tables import Feed, Unit, YearPlan
from tests.conftest import EXAMPLE_PLAN, add_staff, free_port, running, same_site_client, sign_in

PUBLIC_URL = "https://thidua.example.gov.vn"
BLOC_PATH = "/calendars/bg-vhxh/2020.ics"


def _publish(db) -> Settings:
    """The example plan, loaded, activated and published; the settings it was published with."""
    settings = Settings(data_dir=db.data_dir, database_url=db.url, public_url=PUBLIC_URL)
    with session_scope(db.engine) as session:
        load_plan(session, read_plan(EXAMPLE_PLAN), actor="test")
        session.exec(select(YearPlan)).one().state = "active"
        publish_feeds(session, settings=settings, as_of=datetime(2020, 2, 20, 2, tzinfo=UTC))
    return settings


def _links(db, settings: Settings) -> dict[str, tuple[str, str]]:
    """Each unit's (submission URL, private feed URL), by unit code."""
    with session_scope(db.engine) as session:
        units = {u.id: u.code for u in session.exec(select(Unit)).all()}
        urls = Links(settings.base_url, settings.signing_key()).for_units(session, list(units))
    return {units[unit_id]: pair for unit_id, pair in urls.items()}


def test_no_feed_carries_a_link_that_can_submit_or_vote(db):
    settings = _publish(db)
    links = _links(db, settings)
    with Session(db.engine) as session:
        bodies = session.exec(select(Feed.key, Feed.body)).all()
    assert len(bodies) == 1 + len(links)  # the bloc feed and one private feed per unit
    for key, body in bodies:
        text = body.replace(b"\r\n ", b"").decode()  # unfolded: a link may span two lines
        for submit_url, _ in links.values():
            token = submit_url.rsplit("/", 1)[1]
            assert token not in text, key
        assert "/don-vi/" not in text and "/api/" not in text and "URL" not in text, key
        assert "ATTACH" not in text and "ORGANIZER" not in text, key
    private = dict(bodies)[f"unit/{_unit_id(db, 'syt')}"].replace(b"\r\n ", b"").decode()
    assert "theo đường dẫn trong thư của khối." in private


def _unit_id(db, code: str) -> int:
    with Session(db.engine) as session:
        return session.exec(select(Unit.id).where(Unit.code == code)).one()


@pytest.fixture
def served(db):
    """The app, with the example plan published and a member of staff signed in on
    `.admin`; the client gets `paths` of the unit syt: its page, its API resource and its
    private feed."""
    settings = _publish(db)
    add_staff(db.engine)
    submit_url, feed_url = _links(db, settings)["syt"]
    token = submit_url.rsplit("/", 1)[1]
    with running(settings) as client, same_site_client(client.base_url) as admin:
        signed_in = sign_in(admin)
        assert "Secure" in signed_in.headers["set-cookie"]  # the public address is https
        admin.headers["Cookie"] = f"thidua_quan_tri={signed_in.cookies['thidua_quan_tri']}"
        client.admin = admin
        client.paths = {
            "page": f"/don-vi/{token}",
            "api": f"/api/v1/don-vi/{token}",
            "feed": feed_url.removeprefix(PUBLIC_URL),
        }
        yield client


def _every_kind_of_response(client) -> dict[str, httpx.Response]:
    paths = client.paths
    return {
        "unit page": client.get(paths["page"]),
        "unknown token": client.get("/don-vi/khong-phai-ma"),
        "API": client.get(paths["api"]),
        "API, unknown token": client.get("/api/v1/don-vi/khong-phai-ma"),
        "private feed": client.get(paths["feed"]),
        "bloc feed": client.get(BLOC_PATH),
        "admin, no login": client.get("/quan-tri"),
        "admin sign-in": client.get("/quan-tri/dang-nhap"),
        "admin": client.admin.get("/quan-tri"),
        "unknown path": client.get("/khong-co"),
        "OpenAPI": client.get("/openapi.json"),
        "docs": client.get("/docs"),
    }


def test_every_response_forbids_framing_sniffing_and_the_referer(served):
    for kind, response in _every_kind_of_response(served).items():
        assert response.status_code < 500, kind
        assert response.headers["x-frame-options"] == "DENY", kind
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], kind
        assert response.headers["x-content-type-options"] == "nosniff", kind
        # The secretariat's pages send the Referer to this site only: see portal.sign_in.
        referrer = "same-origin" if kind.startswith("admin") else "no-referrer"
        assert response.headers["referrer-policy"] == referrer, kind


def test_nothing_behind_a_private_link_or_the_login_is_stored_by_a_cache(served):
    responses = _every_kind_of_response(served)
    private = ["unit page", "unknown token", "API", "API, unknown token", "private feed"]
    for kind in [*private, "admin, no login", "admin sign-in", "admin"]:
        assert responses[kind].headers["cache-control"] == "no-store", kind
    assert responses["API"].status_code == 200 and responses["private feed"].status_code == 200


def test_the_bloc_feed_stays_cacheable_and_answers_304_to_its_etag(served):
    first = served.get(BLOC_PATH)
    assert first.headers["cache-control"] == "no-cache" and first.headers["etag"]
    again = served.get(BLOC_PATH, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["x-frame-options"] == "DENY"


def test_pages_allow_only_their_inline_styles_and_same_site_forms(served):
    page = served.get(served.paths["page"])
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
    assert "form-action 'self'" in policy and "<script" not in page.text
    docs = served.get("/docs")  # Swagger UI runs scripts from a CDN: only framing is refused
    assert "<script" in docs.text and docs.headers["content-security-policy"] == (
        "frame-ancestors 'none'"
    )


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # what a browser does, not the database
def test_a_browser_renders_a_units_page_but_refuses_to_frame_it(served):
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, FLAGS

    url = str(served.base_url).rstrip("/") + served.paths["page"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(url)
        assert page.locator("h1").inner_text() == "Sở Y tế"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(246, 246, 244)"  # the inline stylesheet applies
        assert not [text for text in console if "Content Security Policy" in text]
        page.set_content(f'<iframe src="{url}"></iframe>')  # another site framing the page
        (framed,) = page.main_frame.child_frames
        assert framed.url != url and "Sở Y tế" not in framed.content()  # an error page instead
        browser.close()


def test_up_refuses_a_database_not_upgraded_before_starting_anything_or_stopping_others(
    tmp_path, monkeypatch, capsys
):
    from config.settings import get_settings
    from thidua.service import run

    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        code = run(host="127.0.0.1", port=free_port(), prefect_port=free_port())
        left_alone = bystander.poll() is None  # a process of the caller's, not of `up`'s
    finally:
        get_settings.cache_clear()
        bystander.kill()
        bystander.wait()
    assert code == 1 and left_alone
    assert capsys.readouterr().err.splitlines() == [
        f"Lỗi: cơ sở dữ liệu đang ở phiên bản trống, cần {HEAD}: chạy `thidua db upgrade`"
    ]
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_a_database_error_never_shows_the_values_of_its_statement(db):
    """An email body carries a unit's private link; a failed write must not print it."""
    from sqlalchemy.exc import IntegrityError

    from models.tables import OutboxMessage

    secret = "/don-vi/" + "s" * 43
    row = {"stage": "x", "recipient": "a@b.example", "subject": "s", "text": secret}
    with pytest.raises(IntegrityError) as caught, session_scope(db.engine) as session:
        for n in range(2):  # the same key twice
            session.add(OutboxMessage(key="k", message_id=f"<{n}@x>", **row))
            session.flush()
    assert secret not in str(caught.value) and "hidden due to hide_parameters" in str(caught.value)
