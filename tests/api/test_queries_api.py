"""Query counts on list and retrieve do not grow with the number of orders or lines."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.services import order_confirm_and_allocate
from tests import factories as f

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
