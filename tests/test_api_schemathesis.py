"""Property-based fuzzing of /api/v1 from its own OpenAPI schema (schemathesis).

Every operation of ``/api/v1/openapi.json`` is called in-process through the
WSGI app (so the calls see the test transaction) with a valid private key of
Acme Main and generated arguments, valid and invalid. Checks: never a 5xx,
2xx responses conform to the schema, and every 4xx is the documented error
shape (JSON, ``"status": "error"`` and a ``type``). CI-sized: a fixed seed
(derandomized), a few dozen examples per operation, no example database.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from customers.api.v1 import api as v1_api

MAX_EXAMPLES = 25


# The document /api/v1/openapi.json serves, built without a request (collection
# runs outside the test database); the calls go in-process to the WSGI app.
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(v1_api.get_openapi_schema(path_prefix="/api/v1")))
)
schema.app = get_wsgi_application()
schema.config.generation.update(
    modes=list(schemathesis.GenerationMode),
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    unique_inputs=True,
)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(autouse=True)
def _in_test_transaction(db, settings):
    # Hundreds of calls with one key: the per-key rate limit is not under test here.
    settings.API_RATE_LIMIT_REQUESTS = 0
    # Like Django's test client: a WSGI request must not close the connection that
    # holds the test transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def error_shape(ctx, response, case):
    """Every 4xx is JSON in the one error shape.

    ninja documents only the success status of each operation, so this stands in
    for status_code_conformance on the error side.
    """
    if 400 <= response.status_code < 500:
        body = json.loads(response.content)
        assert body.get("status") == "error", body
        assert isinstance(body.get("type"), str) and body["type"], body


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_v1_holds_up_to_generated_calls(case, api_key):
    auth = f"Bearer {api_key.api_key.key}:{api_key.private_key}"
    case.headers = {**(case.headers or {}), "Authorization": auth}
    case.call_and_validate(
        checks=[
            not_a_server_error,
            content_type_conformance,
            response_schema_conformance,
            error_shape,
        ],
    )


def test_the_fuzzed_schema_is_the_served_one(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == schema.raw_schema
