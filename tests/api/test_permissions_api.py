import pytest

from tests import factories as f
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_everywhere(anon_api):
    for url in (
        "/api/v1/orders/",
        "/api/v1/stock/",
        "/api/v1/products/",
        "/api/v1/shipments/",
        "/api/v1/returns/",
        "/api/v1/channels/",
    ):
        assert anon_api.get(url).status_code == 401, url
    assert anon_api.post("/api/v1/orders/", order_body(), format="json").status_code == 401


def test_user_without_a_role_is_forbidden(nobody_api):
    assert nobody_api.get("/api/v1/orders/").status_code == 403


def test_warehouse_reads_and_runs_shipment_actions_only(warehouse_api, api):
    wh = f.make_warehouse("SP-01")
    p = f.make_product("TSHIRT-M")
    f.receive(p, wh, 5)
    assert warehouse_api.get("/api/v1/orders/").status_code == 200
    assert warehouse_api.get("/api/v1/stock/").status_code == 200
    assert warehouse_api.post("/api/v1/orders/", order_body(), format="json").status_code == 403
    assert warehouse_api.post("/api/v1/stock/receive/", {}, format="json").status_code == 403
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    assert warehouse_api.post(f"/api/v1/orders/{number}/confirm/").status_code == 403
    shipment = api.post(f"/api/v1/orders/{number}/confirm/").data["shipments"][0]["number"]
    r = warehouse_api.post(f"/api/v1/shipments/{shipment}/pick/")
    assert r.status_code == 200 and r.data["status"] == "picked"
    assert warehouse_api.post(f"/api/v1/shipments/{shipment}/ship/").status_code == 200


def test_manager_uses_the_api_with_session_auth(db, client):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("mgr", password="pw-123456")
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    assert client.get("/api/v1/orders/").status_code == 200


def test_token_endpoint_and_drf_create_token_command(db, capsys):
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework.test import APIClient

    User.objects.create_user("svc", password="pw-123456")
    call_command("drf_create_token", "svc")
    assert "Generated token" in capsys.readouterr().out
    r = APIClient().post(
        "/api/v1/auth/token/", {"username": "svc", "password": "pw-123456"}, format="json"
    )
    assert r.status_code == 200 and r.data["token"]
