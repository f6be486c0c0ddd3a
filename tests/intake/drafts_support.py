"""Helpers of the staff order tests: a manager on the staff order page."""

from django.urls import reverse

from intake.models import OrderDraft
from tests.floor.conftest import make_user

ADDRESS = {
    "name": "Ana Lima",
    "line1": "Rua A 1",
    "line2": "Casa 2",
    "city": "Campinas",
    "region": "SP",
    "postcode": "13023-000",
    "country": "BR",
}
HTMX = {"HTTP_HX_REQUEST": "true"}


def details(**overrides) -> dict:
    """The details form as a manager fills it in for Ana."""
    data = {
        "customer_email": "ana.lima@example.com",
        "customer_name": "Ana Lima",
        "customer_phone": "",
        **{f"ship_{k}": v for k, v in ADDRESS.items()},
        "ship_phone": "",
        "currency": "BRL",
        "shipping_method": "",
        "shipping_total": "10.00",
        "financial_status": "pending",
        "payment_method": "",
        "payment_reference": "",
        "notes": "",
        "then": "save",
    }
    data.update(overrides)
    return data


class Desk:
    """A manager at the staff order page, through Django's test client."""

    def __init__(self, client, username: str = "mia"):
        self.user = make_user(username, "manager")
        self.client = client
        client.force_login(self.user)

    def start(self) -> OrderDraft:
        response = self.client.post(reverse("staff-orders:start"))
        assert response.status_code == 302, response.content
        return OrderDraft.objects.latest("pk")

    def url(self, draft: OrderDraft, name: str = "edit") -> str:
        return reverse(f"staff-orders:{name}", args=[draft.pk])

    def scan(self, draft: OrderDraft, code: str, qty: str = "", *, htmx: bool = True):
        extra = HTMX if htmx else {}
        return self.client.post(self.url(draft, "scan"), {"code": code, "qty": qty}, **extra)

    def save(self, draft: OrderDraft, **overrides):
        return self.client.post(self.url(draft), details(**overrides))

    def place(self, draft: OrderDraft):
        return self.client.post(self.url(draft, "place"))

    def page(self, draft: OrderDraft) -> str:
        response = self.client.get(self.url(draft))
        assert response.status_code == 200, response.status_code
        return response.content.decode()
