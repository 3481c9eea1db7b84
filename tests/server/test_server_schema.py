"""Property-based API testing with schemathesis over /openapi.json of a live server, with every
check schemathesis has: no 5xx; status codes, content types, headers and bodies as
documented; schema-invalid requests rejected and schema-valid ones accepted; and, with keys
configured, requests without (or with a wrong) key refused, unsupported methods 405 with
`Allow`."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

# two servers x 15 operations x EXAMPLES requests (and the checks' own): ~4 minutes on 2 busy
# cores at 250, past the suite's 300 s per test on a slower day
pytestmark = pytest.mark.timeout(900)

checks.load_all_checks()
ALL_CHECKS = list(checks.CHECKS.get_all())
# examples per operation; SCHEMA_EXAMPLES=1000 for a longer hunt by hand
EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "250"))

# GET /calculate: a schema-valid pair of numbers whose result is not a JSON number (1e308 *
# 10 overflows), or whose computation fails (division by zero), is answered 400 with the ML
# error, as documented -- no JSON Schema can say "b != 0 when operation=divide".  Every other
# operation must accept every schema-valid request.
# POST /notebooks/execute: the OpenAPI document says what every nbformat 4 notebook has;
# the full rules are nbformat's schema for the notebook's minor version (one JSON Schema per
# minor version, applied by nbformat.validate), so a body that is schema-valid here may still
# be a 422 "not a valid nbformat 4 notebook".
# A schema-violating body over MLPY_MAX_BODY_BYTES (e.g. code far past its maxLength) is
# refused before it is read: 413, as documented, beside the 4xx schemathesis expects.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429",
            "5xx"]
CONFIG_DICT = {
    "checks": {"negative_data_rejection": {"expected-statuses": REJECTED}},
    "operations": [
    {"include-path": "/calculate",
     "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}}},
    {"include-path": "/notebooks/execute",
     "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}}},
    ]}
CONFIG = SchemathesisConfig.from_dict(CONFIG_DICT)

# The servers run generated programs: a short ceiling on a program's run time (every request
# may ask for up to 2 s, a notebook for 4 s in all) keeps each reply far below the client's
# read timeout however loaded the machine is.  POST /executions answers at once and runs the
# code in the background: each server keeps the production default share of executions per
# client (half of 4 workers), so a burst of them is answered 429 rather than queueing.
SERVER = {"MLPY_MAX_WORKERS": "4", "MLPY_MAX_CONCURRENT_PER_CLIENT": "2",
          "MLPY_MAX_TIMEOUT": "2", "MLPY_MAX_NOTEBOOK_SECONDS": "4"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    from tests.server.conftest import module_server

    server = module_server(tmp_path_factory, "schema", SERVER)
    yield schemathesis.openapi.from_url(server.url + "/openapi.json", config=CONFIG)
    server.stop()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case):
    case.call_and_validate(checks=ALL_CHECKS)


KEY = "schema-test-key"
# The key goes in through schemathesis's own auth setting, not a header forced onto every
# request: schemathesis then knows the request carries it. A forced header once turned a
# negative case (key removed, `b` a one-item array, which a query string writes as `b=0.0`)
# back into a valid request that schemathesis still counted as schema-violating.
KEYED_CONFIG = SchemathesisConfig.from_dict({
    **CONFIG_DICT, "auth": {"openapi": {"APIKeyHeader": {"api_key": KEY}}}})


@pytest.fixture(scope="module")
def keyed_schema(tmp_path_factory):
    """A live server with an API key configured (thread isolation), and its OpenAPI."""
    from tests.server.conftest import module_server

    server = module_server(tmp_path_factory, "keyed", {"MLPY_API_KEYS": KEY,
                                                       "MLPY_ISOLATION": "thread", **SERVER})
    yield schemathesis.openapi.from_url(server.url + "/openapi.json", config=KEYED_CONFIG)
    server.stop()


keyed = schemathesis.pytest.from_fixture("keyed_schema")


@keyed.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract_with_api_keys(case):
    # the auth checks too: a request without the key, or with a wrong one, must be refused
    # where the document says a key is needed
    response = case.call_and_validate(checks=ALL_CHECKS)
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        assert response.status_code != 401, "a schema-valid request went without the key"
