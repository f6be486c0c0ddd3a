"""Query counts of the pages that list many rows do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.services import pick_list_complete
from tests.factories import make_product
from tests.floor.conftest import stock

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def add_products(floor, n):
    start = len(floor.products)
    for i in range(start, start + n):
        product = make_product(f"Q{i:04d}")
        stock(product, floor.warehouse, 5, f"B-{i:04d}")
        floor.products.append(product)


def test_order_list_queries_do_not_grow_with_orders(floor, manager_client):
    p0, p1, _ = floor.products
    for i in range(3):
        floor.order([(p0, 1), (p1, 1)], external_id=f"S{i}")
    few = queries(manager_client, "/orders/")
    for i in range(40):
        floor.order([(p0, 1), (p1, 1)], external_id=f"M{i}")
    assert queries(manager_client, "/orders/") == few
    assert queries(manager_client, "/orders/?status=confirmed&q=P000&warehouse=SP-01") <= few + 1
    assert few <= 12


def test_order_detail_queries_do_not_grow_with_lines(floor, manager_client):
    small = floor.order([(p, 1) for p in floor.products[:2]], external_id="S")
    few = queries(manager_client, f"/orders/{small.number}/")
    add_products(floor, 30)
    big = floor.order([(p, 1) for p in floor.products], external_id="B")
    assert queries(manager_client, f"/orders/{big.number}/") == few


@pytest.mark.parametrize("lines", [10, 200])
def test_pick_list_page_queries_are_constant(
    floor, floor_client, lines, django_assert_max_num_queries
):
    add_products(floor, lines - len(floor.products))
    half = lines // 2  # two orders, so lines are summed over shipments too
    a = floor.order([(p, 1) for p in floor.products[:half]], external_id="A")
    b = floor.order([(p, 2) for p in floor.products], external_id="B")
    pick_list = floor.wave(a, b)
    with django_assert_max_num_queries(10):
        html = floor_client.get(f"/floor/pick/{pick_list.number}/").content.decode()
    assert html.count('class="bin"') == lines
    assert f"0 / {half + 2 * lines}" in html


def test_pick_list_page_10_and_200_lines_cost_the_same(floor, floor_client):
    add_products(floor, 7)
    small = floor.wave(floor.order([(p, 1) for p in floor.products], external_id="S"))
    few = queries(floor_client, f"/floor/pick/{small.number}/")
    add_products(floor, 190)
    big = floor.wave(floor.order([(p, 1) for p in floor.products], external_id="B"))
    assert queries(floor_client, f"/floor/pick/{big.number}/") == few


def test_pack_page_queries_do_not_grow_with_lines(floor, floor_client):
    def packable(products, ref):
        order = floor.order([(p, 1) for p in products], external_id=ref)
        pick_list_complete(pick_list=floor.wave(order))
        return order.shipments.get()

    small = packable(floor.products, "S")
    few = queries(floor_client, f"/floor/pack/{small.number}/")
    add_products(floor, 40)
    big = packable(floor.products, "B")
    assert queries(floor_client, f"/floor/pack/{big.number}/") == few
    assert few <= 10
