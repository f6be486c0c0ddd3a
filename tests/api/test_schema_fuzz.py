"""Schema fuzzing: schemathesis generates requests for every operation in our OpenAPI
schema and asserts no 5xx and responses that match the schema. Runs in-process against
the WSGI app, on the test database, with a bounded number of examples per operation."""

import json

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from fulfillment.services import order_confirm_and_allocate
from tests import factories as f

_raw = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(_raw)))
schema.app = get_wsgi_application()


@pytest.fixture
def token(db) -> str:
    # Some real rows so that natural keys in generated URLs sometimes hit.
    wh = f.make_warehouse("SP-01")
    product = f.make_product("TSHIRT-M")
    f.receive(product, wh, 100)
    order_confirm_and_allocate(order=f.place([(product, 1)], external_id="fuzz-1"))
    user = User.objects.create_user("fuzzer", password="pw-123456")
    user.groups.add(Group.objects.get(name="integration"))
    # The WSGI handler would close the connection after each request (and with it the
    # test's transaction); Django's own test client switches that off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield Token.objects.create(user=user).key
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_breaks_its_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
