"""Shared set-up of the floor page tests: users per role, a warehouse with binned stock,
carriers with rate tables, and confirmed orders routed to it (all through services)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.models import Carrier, CarrierService, PickList, ShippingRate
from fulfillment.services import pick_list_create
from inventory.models import StockLevel
from inventory.services import stock_set_location
from kernel.roles import MANAGER, WAREHOUSE
from tests.factories import confirm, make_product, make_warehouse, place, receive


def make_user(username: str, group: str | None, *, password: bool = False, **kw) -> User:
    """A staff user in ``group``; with ``password`` it can log in through the form as
    ``<username>-pw-2026`` (hashing is slow: only the browser tests need it)."""
    user = User.objects.create_user(
        username, password=f"{username}-pw-2026" if password else None, **kw
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def picker(db):
    return make_user("picker", WAREHOUSE)


@pytest.fixture
def boss(db):
    return make_user("boss", MANAGER, is_staff=True)


@pytest.fixture
def floor_client(client, picker):
    client.force_login(picker)
    return client


@pytest.fixture
def manager_client(client, boss):
    client.force_login(boss)
    return client


def stock(product, warehouse, quantity: int, bin: str) -> StockLevel:
    receive(product, warehouse, quantity, reference="PO-TEST")
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    return stock_set_location(level=level, bin=bin, reorder_point=0)


def add_carrier() -> None:
    carrier = Carrier.objects.create(code="correios", name="Correios")
    for code, name, price, days in (("pac", "PAC", "15.90", 5), ("sedex", "SEDEX", "29.90", 1)):
        service = CarrierService.objects.create(carrier=carrier, code=code, name=name)
        ShippingRate.objects.create(
            service=service,
            country="BR",
            min_weight_grams=0,
            max_weight_grams=30000,
            price=Decimal(price),
            currency="BRL",
            transit_days=days,
        )


class Floor:
    """A warehouse (SP-01) with products in bins and helpers to make orders."""

    def __init__(self, n_products: int = 3, catalogue=None):
        """``catalogue``: [(sku, name, grams, bin), ...]; else P000, P001... in bins
        numbered the other way round, so walking order is not SKU order."""
        self.warehouse = make_warehouse("SP-01", priority=1, name="CD São Paulo")
        catalogue = catalogue or [
            (f"P{i:03d}", f"Product P{i:03d}", 200 + i, f"A-{n_products - i:03d}")
            for i in range(n_products)
        ]
        self.products = []
        for sku, name, grams, bin in catalogue:
            product = make_product(sku, name=name, weight_grams=grams)
            stock(product, self.warehouse, 50, bin)
            self.products.append(product)
        add_carrier()

    def order(self, lines, **kw):
        """A confirmed order routed to SP-01: ``lines`` = [(product, qty), ...]."""
        return confirm(place(lines, **kw))

    def wave(self, *orders, user=None) -> PickList:
        shipments = [s for o in orders for s in o.shipments.all()]
        return pick_list_create(
            warehouse=self.warehouse, shipments=shipments, actor=user, assigned_to=user
        )


@pytest.fixture
def floor(db):
    return Floor()


def flash(response) -> str:
    """The text of the flash messages in a page or panel."""
    import re

    html = response.content.decode()
    return " | ".join(
        re.sub(r"<[^>]+>", "", m).strip()
        for m in re.findall(r'<div class="(?:flash|msg)[^"]*"[^>]*>(.*?)</div>', html, re.S)
    )
