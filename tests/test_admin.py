"""The secretariat's page: refused without credentials, shows the state, records paper."""

import httpx
import pytest
from sqlmodel import Session, select

from models.tables import Submission
from tests.conftest import PDF, running

AUTH = ("vanphong", "mat-khau-dai-va-kho-doan")


@pytest.fixture
def admin_portal(portal):
    settings = portal.settings.model_copy(update={"admin_user": AUTH[0], "admin_password": AUTH[1]})
    settings.admin_password = (
        type(portal.settings).model_fields["admin_password"].annotation.__args__[0](AUTH[1])
    )
    with running(settings) as client:
        yield client


@pytest.mark.parametrize("auth", [None, ("vanphong", "sai"), ("khac", AUTH[1])])
def test_admin_page_refuses_without_the_right_credentials(admin_portal, auth):
    response = admin_portal.get("/quan-tri", auth=httpx.BasicAuth(*auth) if auth else None)
    assert response.status_code == 401 and "Sở" not in response.text


def test_admin_page_does_not_exist_when_no_credentials_are_configured(portal):
    assert portal.get("/quan-tri", auth=AUTH).status_code == 404


def test_admin_sees_the_state_and_records_a_paper_submission(admin_portal, db):
    page = admin_portal.get("/quan-tri", auth=AUTH)
    assert (
        page.status_code == 200
        and "Ban Dân tộc tỉnh" in page.text
        and page.text.count("Quá hạn") >= 9
    )
    form = {
        "unit": "bdt",
        "deadline": "dang-ky",
        "received_at": "2020-03-03T10:00",
        "channel": "dispatch",
        "note": "CV 12/BDT",
    }
    response = admin_portal.post(
        "/quan-tri/ghi-nhan/2020",
        data=form,
        files=[("files", ("cv.pdf", PDF, "application/pdf"))],
        auth=AUTH,
    )
    assert (
        response.status_code == 200
        and "Đã ghi nhận Ban Dân tộc tỉnh – Gửi đăng ký danh hiệu thi đua năm 2020, lần 1."
        in response.text
    )
    with Session(db.engine) as session:
        (submission,) = session.exec(select(Submission)).all()
    assert (submission.channel, submission.recorded_by, submission.note) == (
        "dispatch",
        "vanphong",
        "CV 12/BDT",
    )
    bad = admin_portal.post(
        "/quan-tri/ghi-nhan/2020", data={**form, "unit": "khong-co", "received_at": ""}, auth=AUTH
    )
    assert bad.status_code == 422
    assert (
        "Đơn vị: hãy chọn một đơn vị trong danh sách." in bad.text
        and "Ngày giờ nhận: hãy nhập ngày và giờ." in bad.text
    )
