"""Query counts on list and retrieve do not grow with the number of orders or lines."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.services import order_confirm_and_allocate
from tests import factories as f
from tests.conftest import postgres_only

pytestmark = pytest.mark.django_db


def make_orders(n, products):
    for i in range(n):
        order = f.place([(p, 1) for p in products], external_id=f"Q{n}-{i}")
        order_confirm_and_allocate(order=order)


def count(api, url):
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(url)
        assert r.status_code == 200
    return len(ctx.captured_queries)


def test_order_list_and_retrieve_queries_are_constant(api):
    wh = f.make_warehouse("SP-01")
    products = [f.make_product() for _ in range(5)]
    for p in products:
        f.receive(p, wh, 1000)
    make_orders(10, products)
    small_list = count(api, "/api/v1/orders/?page_size=100")
    from orders.models import Order

    small_detail = count(api, f"/api/v1/orders/{Order.objects.first().number}/")
    make_orders(90, products)
    assert count(api, "/api/v1/orders/") == small_list
    assert count(api, f"/api/v1/orders/{Order.objects.first().number}/") == small_detail
    assert small_list <= 8 and small_detail <= 10


def test_shipment_and_stock_lists_are_constant(api):
    wh = f.make_warehouse("SP-01")
    products = [f.make_product() for _ in range(5)]
    for p in products:
        f.receive(p, wh, 1000)
    make_orders(5, products)
    few = (
        count(api, "/api/v1/shipments/"),
        count(api, "/api/v1/stock/"),
        count(api, "/api/v1/stock/movements/"),
    )
    make_orders(30, products)
    assert (
        count(api, "/api/v1/shipments/"),
        count(api, "/api/v1/stock/"),
        count(api, "/api/v1/stock/movements/"),
    ) == few


@postgres_only  # the pinned counts are PostgreSQL's set-based statements
@pytest.mark.parametrize("auto_confirm", [True, False])
def test_placement_answer_is_the_stored_order_and_its_queries_are_pinned(api, auto_confirm):
    """The 201 answer is built from what placement wrote (no read-back); it must equal
    what a later GET returns, field for field, and the queries a 3-line placement with
    auto-confirm and allocation takes stay pinned (and do not grow with the lines)."""
    from orders.models import Channel
    from tests.api.conftest import order_body

    Channel.objects.create(code="shop", name="Shop", auto_confirm=auto_confirm)
    near, far = f.make_warehouse("SP-01", priority=1), f.make_warehouse("RJ-02", priority=2)
    products = [f.make_product(f"PQ-{i}") for i in range(6)]
    for p in products[:5]:
        f.receive(p, near, 10)
    f.receive(products[5], far, 10)  # the last line ships from a second point

    def place(external_id, skus):
        body = order_body(
            channel="shop",
            external_id=external_id,
            financial_status="paid",
            lines=[{"sku": s, "quantity": 2, "unit_price": "10.00"} for s in skus],
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api.post("/api/v1/orders/", body, format="json")
        assert r.status_code == 201, r.content
        return r.json(), len(ctx.captured_queries)

    place("P-1", ["PQ-2"])  # creates the customer: the counts below find it
    answer, three = place("P-3", ["PQ-0", "PQ-1", "PQ-5"])
    assert answer == api.get(f"/api/v1/orders/{answer['number']}/").json()
    if auto_confirm:
        assert answer["status"] == "confirmed" and len(answer["shipments"]) == 2
        assert [e["kind"] for e in answer["events"]] == ["placed", "confirmed", "allocated"]
    else:
        assert answer["status"] == "pending" and answer["shipments"] == []
    _, six = place("P-6", [p.sku for p in products])
    assert six == three
    # one of them records the captured payment of an order placed as paid
    assert three == (21 if auto_confirm else 10), three
