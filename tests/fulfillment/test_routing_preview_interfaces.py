"""The routing dry run through the API and the admin button: shown, nothing reserved."""

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.models import Shipment
from inventory.models import StockMovement
from orders.services import order_confirm
from tests import factories as f
from tests.api.conftest import _client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def backordered_order():
    sp = f.make_warehouse("SP-01", priority=1, region="SP")
    rj = f.make_warehouse("RJ-01", priority=2, region="RJ")
    shirt = f.make_product("TSHIRT-M")
    f.receive(shirt, sp, 1)
    f.receive(shirt, rj, 5)
    order = f.place([(shirt, 3)], external_id="prev-1")
    order_confirm(order=order)  # confirmed, not yet allocated: all 3 backordered
    return order


def test_api_routing_preview_lists_every_strategy_and_reserves_nothing(backordered_order):
    api = _client_for("svc", "integration")
    movements = StockMovement.objects.count()
    r = api.get(f"/api/v1/orders/{backordered_order.number}/routing-preview/")
    assert r.status_code == 200, r.data
    assert set(r.data["strategies"]) == {"priority", "single_shipment", "nearest", "cost"}
    single = r.data["strategies"]["single_shipment"]
    assert [s["warehouse"] for s in single["shipments"]] == ["RJ-01"]
    assert r.data["scope"] == "backordered"
    assert StockMovement.objects.count() == movements
    assert Shipment.objects.count() == 0
    bad = api.get(f"/api/v1/orders/{backordered_order.number}/routing-preview/?scope=x")
    assert bad.status_code == 400 and "scope" in bad.data
    assert api.get("/api/v1/orders/SO-999999/routing-preview/").status_code == 404


def test_admin_routing_preview_button_and_page(client, backordered_order):
    manager = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    manager.groups.add(Group.objects.get(name="manager"))
    client.force_login(manager)
    change = client.get(f"/admin/orders/order/{backordered_order.pk}/change/")
    assert change.status_code == 200
    url = f"/admin/orders/order/{backordered_order.pk}/routing-preview/"
    assert url in change.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "RJ-01" in body and "Dry run" in body
    assert Shipment.objects.count() == 0
