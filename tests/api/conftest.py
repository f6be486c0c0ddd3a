import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kernel.roles import INTEGRATION, MANAGER, WAREHOUSE


def _client_for(username: str, group: str | None) -> APIClient:
    user = User.objects.create_user(username=username, password="pw-123456")
    if group:
        user.groups.add(Group.objects.get(name=group))
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def api(db) -> APIClient:
    """An integration service account (token auth)."""
    return _client_for("shop-integration", INTEGRATION)


@pytest.fixture
def manager_api(db) -> APIClient:
    return _client_for("boss", MANAGER)


@pytest.fixture
def warehouse_api(db) -> APIClient:
    return _client_for("picker", WAREHOUSE)


@pytest.fixture
def nobody_api(db) -> APIClient:
    return _client_for("nobody", None)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


def order_body(**overrides) -> dict:
    body = {
        "channel": "web",
        "external_id": "1001",
        "currency": "EUR",
        "customer": {"email": "ana@example.com", "name": "Ana Lima"},
        "shipping_address": {
            "name": "Ana Lima",
            "line1": "Rua A 1",
            "city": "Campinas",
            "region": "SP",
            "postcode": "13023-000",
            "country": "BR",
        },
        "lines": [{"sku": "TSHIRT-M", "quantity": 2, "unit_price": "19.90"}],
        "shipping_total": "5.00",
        "placed_at": "2026-11-26T10:00:00Z",
    }
    body.update(overrides)
    return body
