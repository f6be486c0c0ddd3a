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


def test_token_header_authenticates_with_roles_in_one_query(db):
    """``Authorization: Token <key>`` (oms.authentication): a good key with a role
    passes, reading the roles once (on PostgreSQL with the token and user); a wrong key
    or an inactive user's key is a 401 and a user without a role a 403."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    integration = User.objects.create_user("shop", password="pw-123456")
    integration.groups.add(Group.objects.get(name="integration"))
    norole = User.objects.create_user("norole", password="pw-123456")
    inactive = User.objects.create_user("gone", password="pw-123456", is_active=False)
    inactive.groups.add(Group.objects.get(name="integration"))
    keys = {u.username: Token.objects.create(user=u).key for u in (integration, norole, inactive)}

    def get(key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/channels/")
        return response, [q["sql"] for q in ctx.captured_queries]

    response, queries = get(keys["shop"])
    assert response.status_code == 200 and {c["code"] for c in response.data["results"]} >= {
        "api",
        "web",
        "csv",
    }
    role_reads = [q for q in queries if "auth_user_groups" in q]
    together = connection.vendor == "postgresql"  # elsewhere DRF's query, roles after it
    assert len(role_reads) == 1 and ("authtoken_token" in role_reads[0]) == together, queries
    response, _ = get("0" * 40)
    assert response.status_code == 401 and "Invalid token" in str(response.data["detail"])
    assert get(keys["gone"])[0].status_code == 401
    assert get(keys["norole"])[0].status_code == 403
