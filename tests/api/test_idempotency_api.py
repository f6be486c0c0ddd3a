import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from kernel.models import IdempotencyKey
from orders.models import Order, OrderLine
from tests import factories as f
from tests.api.conftest import order_body
from tests.conftest import postgres_only


@pytest.fixture
def stocked(db):
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    f.receive(shirt, wh, 50)
    return shirt


@pytest.mark.django_db
def test_same_external_id_same_content_returns_the_first_order_with_200(api, stocked):
    first = api.post("/api/v1/orders/", order_body(), format="json")
    again = api.post("/api/v1/orders/", order_body(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["number"] == first.data["number"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_same_external_id_different_content_is_a_409(api, stocked):
    first = api.post("/api/v1/orders/", order_body(), format="json")
    r = api.post(
        "/api/v1/orders/", order_body(lines=[{"sku": "TSHIRT-M", "quantity": 3}]), format="json"
    )
    assert r.status_code == 409
    assert first.data["number"] in r.data["detail"]
    assert r.data["code"] == "duplicate_order"
    assert OrderLine.objects.get().quantity == 2


@pytest.mark.django_db
def test_idempotency_key_replays_the_first_response_and_changes_nothing(api, stocked):
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    first = api.post(f"/api/v1/orders/{number}/confirm/", HTTP_IDEMPOTENCY_KEY="k-1")
    movements = StockMovement.objects.count()
    replay = api.post(f"/api/v1/orders/{number}/confirm/", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == replay.status_code == 200
    assert replay.data == first.data
    assert replay["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.count() == movements
    # Without the key, the second confirm is refused by the state machine.
    assert api.post(f"/api/v1/orders/{number}/confirm/").status_code == 409


@pytest.mark.django_db
def test_idempotency_key_on_stock_receive_receives_once(api, stocked):
    body = {"sku": "TSHIRT-M", "warehouse": "SP-01", "quantity": 5}
    for _ in range(3):
        r = api.post("/api/v1/stock/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-7")
        assert r.status_code == 200 and r.data["on_hand"] == 55
    assert StockLevel.objects.get().on_hand == 55
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_key_reused_on_another_endpoint_is_refused(api, stocked):
    api.post(
        "/api/v1/stock/receive/",
        {"sku": "TSHIRT-M", "warehouse": "SP-01", "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    r = api.post(
        "/api/v1/stock/adjust/",
        {"sku": "TSHIRT-M", "warehouse": "SP-01", "delta": 1, "reason": "r"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert r.status_code == 422


@pytest.mark.django_db
def test_refused_request_is_replayed_as_refused(api, stocked):
    body = {"sku": "TSHIRT-M", "warehouse": "SP-01", "delta": -500, "reason": "lost"}
    r1 = api.post("/api/v1/stock/adjust/", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    r2 = api.post("/api/v1/stock/adjust/", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert r1.status_code == r2.status_code == 409
    assert StockLevel.objects.get().on_hand == 50


def _token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _run_parallel(n_threads, jobs, fn):
    barrier = threading.Barrier(n_threads)

    def worker(job):
        try:
            barrier.wait(timeout=10) if job < n_threads else None
            return fn(job)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return list(pool.map(worker, range(jobs)))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_identical_placements_at_once_make_one_order(api, stocked):
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    results = _run_parallel(
        10,
        10,
        lambda _: _token_client(token).post("/api/v1/orders/", order_body(), format="json"),
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 9 + [201]
    assert {r.data["number"] for r in results} == {Order.objects.get().number}
    assert OrderLine.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_confirming_80_orders_for_50_units_reserve_exactly_50(api, stocked):
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    numbers = [
        api.post(
            "/api/v1/orders/",
            order_body(external_id=f"E{i}", lines=[{"sku": "TSHIRT-M", "quantity": 1}]),
            format="json",
        ).data["number"]
        for i in range(80)
    ]
    results = _run_parallel(
        16,
        80,
        lambda i: _token_client(token).post(f"/api/v1/orders/{numbers[i]}/confirm/"),
    )
    assert [r.status_code for r in results] == [200] * 80
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (50, 50)
    allocated = Order.objects.filter(allocation_status="allocated").count()
    unallocated = Order.objects.filter(allocation_status="unallocated").count()
    assert (allocated, unallocated) == (50, 30)
    assert sum(OrderLine.objects.values_list("quantity_allocated", flat=True)) == 50
    assert stock_ledger_mismatches() == []
