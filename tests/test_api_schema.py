"""The JSON API against its own OpenAPI description, with schemathesis: whatever a client sends,
with a unit's token or a bogus one, valid or not, the API never answers 5xx and every answer is
one the description documents (status, content type, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
STATUS = "/api/v1/don-vi/{token}"
SUBMIT = "/api/v1/don-vi/{token}/nop/{year}/{code}"


def _addresses(portal, mode: GenerationMode) -> list[tuple[str, str, dict]]:
    """(path, method, fixed path parameters): a generated token, the unit's own token with a
    generated deadline, and each deadline the unit owes (the body generated). Negative data
    needs something that can be invalid: the status has only its token, and any text is one."""
    token = portal.paths["syt"].rsplit("/", 1)[1]
    owed = [
        {"token": token, "year": 2020, "code": code} for code in ("dang-ky", "so-ket", "tong-ket")
    ]
    status = [{}, {"token": token}] if mode.is_positive else []
    return [
        *[(STATUS, "GET", fixed) for fixed in status],
        *[(SUBMIT, "POST", fixed) for fixed in [{}, {"token": token}, *owed]],
    ]


# schemathesis's strategies draw from `random` (its own runner silences this warning too).
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_every_request_as_its_description_says(portal, mode):
    schema = schemathesis.openapi.from_url(f"{portal.base_url}/openapi.json")
    base_url = str(portal.base_url)
    for path, method, fixed in _addresses(portal, mode):
        strategy = schema[path][method].as_strategy(mode, path_parameters=fixed)

        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def answers_as_documented(case) -> None:
            case.call_and_validate(base_url=base_url, checks=CHECKS)

        answers_as_documented()
