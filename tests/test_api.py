"""The JSON API over real HTTP, with the unit's token: read status, submit, errors, 404."""

from tests.conftest import PDF


def _api(portal, unit: str) -> str:
    return "/api/v1" + portal.paths[unit]


def test_unit_status_lists_owed_deadlines_with_states(portal):
    body = portal.get(_api(portal, "syt")).json()
    assert body["code"] == "syt" and body["name"] == "Sở Y tế"
    assert [(d["code"], d["last_day"], d["state"]) for d in body["deadlines"]] == [
        ("dang-ky", "2020-03-04", "Quá hạn"),
        ("so-ket", "2020-06-19", "Quá hạn"),
        ("tong-ket", "2020-12-09", "Quá hạn"),
    ]


def test_registration_through_the_api_is_recorded_and_shown(portal):
    form = {"collective_title": "Tập thể Lao động tiên tiến", "count_1": "12"}
    response = portal.post(f"{_api(portal, 'bdt')}/nop/2020/dang-ky", data=form)
    assert response.status_code == 201
    assert (
        response.json()["status"] == "accepted"
        and response.json()["version"] == 1
        and response.json()["late"]
    )
    (deadline,) = [
        d for d in portal.get(_api(portal, "bdt")).json()["deadlines"] if d["code"] == "dang-ky"
    ]
    assert deadline["state"] == "Nộp muộn" and deadline["submissions"][0]["channel"] == "api"


def test_report_files_through_the_api(portal):
    response = portal.post(
        f"{_api(portal, 'syt')}/nop/2020/so-ket",
        files=[("files", ("../bc.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 201 and response.json()["files"] == ["bc.pdf"]


def test_invalid_submission_is_422_with_errors_and_kept(portal):
    response = portal.post(
        f"{_api(portal, 'syt')}/nop/2020/so-ket",
        files=[("files", ("x.pdf", b"MZ", "application/pdf"))],
    )
    assert response.status_code == 422
    assert response.json()["status"] == "rejected"
    assert response.json()["errors"] == [
        "Tệp “x.pdf”: nội dung không phải PDF, Word (DOC/DOCX), Excel (XLS/XLSX), ảnh PNG/JPG."
    ]
    (deadline,) = [
        d for d in portal.get(_api(portal, "syt")).json()["deadlines"] if d["code"] == "so-ket"
    ]
    assert deadline["submissions"][0]["status"] == "rejected"


def test_wrong_token_or_deadline_is_404(portal):
    assert portal.get("/api/v1/don-vi/" + "x" * 43).status_code == 404
    assert (
        portal.post(
            f"{_api(portal, 'sgddt')}/nop/2020/so-ket", files=[("files", ("a.pdf", PDF, "x"))]
        ).status_code
        == 404
    )


def test_openapi_documents_the_api(portal):
    paths = portal.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/api/v1/don-vi/{token}", "/api/v1/don-vi/{token}/nop/{year}/{code}"}
