"""Property-based API testing with schemathesis over /openapi.json of a live server:
no 5xx, responses match the documented schemas, status codes and content types."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks


# POST /executions answers at once and runs the generated code in the background: each
# server keeps the production default share of executions per client (half of 4 workers),
# so a burst of them is answered 429 instead of queueing behind each other past the
# client's read timeout.
SHARE = {"MLPY_MAX_WORKERS": "4", "MLPY_MAX_CONCURRENT_PER_CLIENT": "2"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    from tests.server.conftest import module_server

    server = module_server(tmp_path_factory, "schema", SHARE)
    yield schemathesis.openapi.from_url(server.url + "/openapi.json")
    server.stop()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case):
    # no 5xx; status codes, content types, headers and bodies as documented; invalid data
    # rejected.  (positive_data_acceptance is left out: some limits -- context depth and size,
    # blank code, a valid nbformat notebook -- are checked beyond what the schema says.)
    case.call_and_validate(checks=[checks.not_a_server_error, checks.status_code_conformance,
                                   checks.content_type_conformance,
                                   checks.response_headers_conformance,
                                   checks.response_schema_conformance,
                                   checks.negative_data_rejection])


KEY = "schema-test-key"


@pytest.fixture(scope="module")
def keyed_schema(tmp_path_factory):
    """A live server with an API key configured, and its OpenAPI document."""
    from tests.server.conftest import module_server

    server = module_server(tmp_path_factory, "keyed", {"MLPY_API_KEYS": KEY,
                                                       "MLPY_ISOLATION": "thread", **SHARE})
    yield schemathesis.openapi.from_url(server.url + "/openapi.json")
    server.stop()


keyed = schemathesis.pytest.from_fixture("keyed_schema")


@keyed.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract_with_api_keys(case):
    # the auth checks too: a request without the key, or with a wrong one, must be refused
    # where the document says a key is needed; unsupported methods answer 405 with Allow
    case.call_and_validate(headers={"X-API-Key": KEY}, checks=[
        checks.not_a_server_error, checks.status_code_conformance,
        checks.content_type_conformance, checks.response_headers_conformance,
        checks.response_schema_conformance, checks.negative_data_rejection,
        checks.ignored_auth, checks.unsupported_method, checks.allow_header_conformance,
        checks.missing_required_header])
