"""The OpenAPI schema documents the error answers each operation really gives: every
operation is called the ways that fail (an unknown key in the path, an empty body,
malformed filters, a state conflict) and the status it answers must be one its schema
declares, with the error body (``detail``) the schema describes."""

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from fulfillment.services import order_confirm_and_allocate
from orders.services import order_cancel
from tests import factories as f
from tests.api.conftest import manager_api  # noqa: F401

BAD = "zz-no-such-key"


@pytest.fixture(scope="module")
def schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


def operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


def declared(op) -> set[int]:
    return {int(code) for code in op["responses"]}


def fill(path: str, op) -> str:
    types = {p["name"]: p.get("schema", {}).get("type") for p in op.get("parameters", [])}
    return re.sub(
        r"\{(\w+)\}", lambda m: "987654" if types.get(m.group(1)) == "integer" else BAD, path
    )


def call(client, method, url, body=None):
    if method in ("get", "delete"):
        return client.generic(method.upper(), url)
    return getattr(client, method)(url, body if body is not None else {}, format="json")


@pytest.mark.django_db
def test_an_unknown_key_in_the_path_gives_a_documented_404(manager_api, schema):  # noqa: F811
    checked = 0
    for method, path, op in operations(schema):
        if "{" not in path:
            continue
        response = call(manager_api, method, fill(path, op))
        status = response.status_code
        assert status in declared(op), (method, path, status, sorted(declared(op)))
        assert status in (400, 401, 404), (method, path, status)
        if status == 404:
            assert "detail" in response.json()
        checked += 1
    assert checked > 30


@pytest.mark.django_db
def test_an_empty_or_malformed_body_gives_a_documented_400(manager_api, schema):  # noqa: F811
    f.make_warehouse("WH1")
    checked = 0
    for method, path, op in operations(schema):
        if method not in ("post", "put", "patch") or "{" in path:
            continue
        if path.endswith("/auth/token/"):
            response = manager_api.post(path, {}, format="json")
        else:
            response = call(manager_api, method, path, {"quantity": "many", "sku": ["x"]})
        assert response.status_code == 400, (method, path, response.status_code)
        assert 400 in declared(op), (method, path)
        assert "detail" in response.json()
        checked += 1
    assert checked >= 8


@pytest.mark.django_db
def test_a_malformed_filter_gives_a_documented_400(manager_api, schema):  # noqa: F811
    for method, path, op in operations(schema):
        if method != "get" or "{" in path:
            continue
        params = {
            p["name"]: "not-a-valid-value-!"
            for p in op.get("parameters", [])
            if p["in"] == "query" and p["name"] not in ("page", "cursor", "search", "ordering")
        }
        response = manager_api.get(path, params)
        if response.status_code == 400:
            assert 400 in declared(op), path
            assert "detail" in response.json()
        else:
            assert response.status_code in declared(op), (path, response.status_code)


@pytest.mark.django_db
def test_state_conflicts_are_documented_409s(manager_api, schema):  # noqa: F811
    ops = {(m, p): op for m, p, op in operations(schema)}
    wh, product = f.make_warehouse("WH1"), f.make_product("SKU-A")
    f.make_warehouse("WH2")  # the transfer's destination
    f.receive(product, wh, 2)
    cancelled = f.place([(product, 1)], external_id="C-1")
    order_cancel(order=cancelled, reason="test")
    # one of the two units reserved: adjusting by -2 would leave less than reserved
    order_confirm_and_allocate(order=f.place([(product, 1)], external_id="C-2"))
    conflicts = [
        (
            "post",
            "/api/v1/orders/{number}/confirm/",
            f"/api/v1/orders/{cancelled.number}/confirm/",
            {},
        ),
        (
            "post",
            "/api/v1/stock/transfer/",
            "/api/v1/stock/transfer/",
            {"sku": "SKU-A", "source": "WH1", "destination": "WH2", "quantity": 50},
        ),
        (
            "post",
            "/api/v1/stock/adjust/",
            "/api/v1/stock/adjust/",
            {"sku": "SKU-A", "warehouse": "WH1", "delta": -2, "reason": "damaged"},
        ),
    ]
    for method, template, url, body in conflicts:
        response = call(manager_api, method, url, body)
        assert response.status_code == 409, (url, response.status_code, response.content)
        assert 409 in declared(ops[(method, template)]), template
        assert response.json()["code"]
