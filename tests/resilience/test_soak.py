"""A compressed soak: many mixed API calls in a seeded random order, then a recount.

The calls go through ``rest_framework.test.APIClient`` as an integration account: place
orders (some replayed), confirm, hold, release, cancel, pick, pack, ship, deliver,
request/approve/reject/receive/refund returns, receive, adjust and transfer stock, and a
few reads. Refusals (400/409) are expected and fine; a 5xx is not. At the end every
counter must equal a recount from the rows it summarises, and the ledger must be clean.

``SOAK_CALLS`` sets the number of calls (default 1500, so CI stays fast);
``SOAK_CALLS=20000`` is the full soak (a 30-minute-equivalent of a busy day), and
``SOAK_SEED`` replays another sequence. Runs on PostgreSQL or SQLite.
"""

import os
import random
import time
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Sum
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment, ShipmentLine
from inventory.models import StockLevel
from inventory.selectors import stock_ledger_mismatches
from kernel.roles import INTEGRATION
from orders.models import Channel, Order, OrderLine
from returns.models import Refund, ReturnLine, ReturnRequest
from returns.services import returnable_quantities
from tests import factories as f

# transaction=True: on-commit work (backorder fills after receipts) runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CALLS = int(os.environ.get("SOAK_CALLS", "1500"))
SEED = int(os.environ.get("SOAK_SEED", "20261126"))
SKUS = [f"SOAK-{i:02d}" for i in range(10)]
WAREHOUSES = ["SOAK-A", "SOAK-B", "SOAK-C"]
SH = Shipment.Status
SHIPPED_STATUSES = (SH.SHIPPED, SH.DELIVERED)

# operation -> weight (a busy day: mostly orders moving through the warehouse)
WEIGHTS = {
    "place": 22,
    "replay": 2,
    "confirm": 7,
    "hold": 2,
    "release": 2,
    "cancel": 4,
    "pick": 6,
    "pack": 6,
    "ship": 12,
    "deliver": 6,
    "return_request": 5,
    "return_approve": 4,
    "return_reject": 1,
    "return_receive": 4,
    "return_refund": 3,
    "stock_receive": 6,
    "stock_adjust": 4,
    "stock_transfer": 2,
    "read": 2,
}


def pick(rng: random.Random, queryset, field: str = "number"):
    """A random row's ``field`` from ``queryset`` (by pk order, so the seed replays)."""
    count = queryset.count()
    if not count:
        return None
    return queryset.order_by("pk").values_list(field, flat=True)[rng.randrange(count)]


class Soak:
    def __init__(self, api: APIClient, rng: random.Random):
        self.api = api
        self.rng = rng
        self.placed: list[dict] = []
        self.seq = 0

    def post(self, path: str, body: dict | None = None):
        return self.api.post(path, body or {}, format="json")

    # ----------------------------------------------------------------- orders
    def place(self):
        rng = self.rng
        self.seq += 1
        body = {
            "channel": rng.choice(["soak-auto", "soak-auto", "web"]),
            "external_id": f"soak-{self.seq}",
            "currency": "BRL",
            "financial_status": "paid",
            "customer": {"email": f"c{rng.randrange(50)}@example.com", "name": "Soak"},
            "shipping_address": {
                "name": "Soak",
                "line1": "Rua C 3",
                "city": "Campinas",
                "region": "SP",
                "postcode": "13023-000",
                "country": "BR",
            },
            "lines": [
                {"sku": sku, "quantity": rng.randint(1, 4), "unit_price": "10.00"}
                for sku in rng.sample(SKUS, rng.randint(1, 3))
            ],
            "shipping_total": "5.00",
            "placed_at": "2026-11-26T10:00:00Z",
        }
        self.placed.append(body)
        return self.post("/api/v1/orders/", body)

    def replay(self):
        if not self.placed:
            return None
        r = self.post("/api/v1/orders/", self.rng.choice(self.placed))
        assert r.status_code == 200, r.data  # idempotent: the existing order
        return r

    def _order_action(self, action: str, statuses, body=None):
        number = pick(self.rng, Order.objects.filter(status__in=statuses))
        return number and self.post(f"/api/v1/orders/{number}/{action}/", body)

    def confirm(self):
        return self._order_action("confirm", ["pending"])

    def hold(self):
        return self._order_action("hold", ["pending", "confirmed"], {"reason": "soak check"})

    def release(self):
        return self._order_action("release", ["on_hold"])

    def cancel(self):
        return self._order_action("cancel", ["pending", "on_hold", "confirmed"])

    # ----------------------------------------------------------------- shipments
    def _shipment_action(self, action: str, statuses, body=None):
        number = pick(self.rng, Shipment.objects.filter(status__in=statuses))
        return number and self.post(f"/api/v1/shipments/{number}/{action}/", body)

    def pick(self):
        return self._shipment_action("pick", [SH.ALLOCATED, SH.PICKING])

    def pack(self):
        return self._shipment_action("pack", [SH.PICKED])

    def ship(self):
        body = {"carrier": "soak-post", "tracking_number": f"TRK{self.rng.randrange(10**9)}"}
        return self._shipment_action("ship", [SH.ALLOCATED, SH.PICKED, SH.PACKED], body)

    def deliver(self):
        return self._shipment_action("deliver", [SH.SHIPPED])

    # ----------------------------------------------------------------- returns
    def return_request(self):
        order_id = pick(self.rng, Order.objects.filter(lines__quantity_shipped__gt=0), "pk")
        if order_id is None:
            return None
        order = Order.objects.get(pk=order_id)
        returnable = returnable_quantities(order)
        open_units = [
            (line, returnable[line.pk])
            for line in order.lines.order_by("pk")
            if returnable.get(line.pk, 0) > 0
        ]
        if not open_units:
            return None
        line, n = self.rng.choice(open_units)
        reason = self.rng.choice([c for c, _ in ReturnLine.Reason.choices])
        body = {
            "order": order.number,
            "lines": [{"sku": line.sku, "quantity": self.rng.randint(1, n), "reason": reason}],
        }
        return self.post("/api/v1/returns/", body)

    def _return_action(self, action: str, statuses, body=None):
        number = pick(self.rng, ReturnRequest.objects.filter(status__in=statuses))
        return number and self.post(f"/api/v1/returns/{number}/{action}/", body)

    def return_approve(self):
        return self._return_action("approve", ["requested"])

    def return_reject(self):
        return self._return_action("reject", ["requested"], {"reason": "outside the window"})

    def return_receive(self):
        number = pick(self.rng, ReturnRequest.objects.filter(status="approved"))
        if number is None:
            return None
        body = {}
        if self.rng.random() < 0.5:  # else: omitted lines come back in full, restocked
            body["lines"] = [
                {
                    "sku": rl.order_line.sku,
                    "quantity_received": self.rng.randint(0, rl.quantity),
                    "condition": self.rng.choice(["new", "opened", "damaged"]),
                    "disposition": self.rng.choice(["restock", "scrap"]),
                }
                for rl in ReturnLine.objects.filter(return_request__number=number)
                .select_related("order_line")
                .order_by("pk")
            ]
        return self.post(f"/api/v1/returns/{number}/receive/", body)

    def return_refund(self):
        received = ReturnRequest.objects.filter(status="received", lines__quantity_received__gt=0)
        number = pick(self.rng, received.distinct())
        return number and self.post(f"/api/v1/returns/{number}/refund/", {"reference": "soak"})

    # ----------------------------------------------------------------- stock
    def stock_receive(self):
        rng = self.rng
        body = {
            "sku": rng.choice(SKUS),
            "warehouse": rng.choice(WAREHOUSES),
            "quantity": rng.randint(1, 25),
            "reference": "PO-SOAK",
        }
        return self.post("/api/v1/stock/receive/", body)

    def stock_adjust(self):
        rng = self.rng
        body = {"sku": rng.choice(SKUS), "warehouse": rng.choice(WAREHOUSES), "reason": "soak"}
        if rng.random() < 0.7:
            body["delta"] = rng.choice([-3, -2, -1, 1, 2, 3])
        else:
            body["counted"] = rng.randint(0, 30)
        return self.post("/api/v1/stock/adjust/", body)

    def stock_transfer(self):
        rng = self.rng
        source, destination = rng.sample(WAREHOUSES, 2)
        body = {
            "sku": rng.choice(SKUS),
            "source": source,
            "destination": destination,
            "quantity": rng.randint(1, 5),
        }
        return self.post("/api/v1/stock/transfer/", body)

    def read(self):
        number = pick(self.rng, Order.objects.all())
        if number and self.rng.random() < 0.5:
            return self.api.get(f"/api/v1/orders/{number}/")
        return self.api.get("/api/v1/stock/", {"sku": self.rng.choice(SKUS)})


def _setup() -> APIClient:
    warehouses = [f.make_warehouse(code, priority=i) for i, code in enumerate(WAREHOUSES)]
    for sku in SKUS:
        product = f.make_product(sku, price="10.00")
        for warehouse in warehouses[:2]:
            f.receive(product, warehouse, 30)
    Channel.objects.create(
        code="soak-auto", name="Soak", auto_confirm=True, auto_confirm_require_payment=False
    )
    user = User.objects.create_user("soak-integration", password="pw-123456")
    user.groups.add(Group.objects.get(name=INTEGRATION))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def _sum(queryset, *keys: str, field: str = "quantity") -> defaultdict:
    """Sum of ``field`` grouped by ``keys`` (one key: by value; several: by tuple)."""
    totals: defaultdict = defaultdict(int)
    for *key, n in queryset.values(*keys).annotate(n=Sum(field)).values_list(*keys, "n"):
        totals[key[0] if len(key) == 1 else tuple(key)] += n or 0
    return totals


@pytest.fixture
def persistent_connection(monkeypatch):
    """Keep one database connection across requests, as production does with
    CONN_MAX_AGE (the test default, 0, reconnects around every request)."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    connection.close()
    yield
    connection.close()


def test_soak_of_mixed_api_calls_ends_with_counters_equal_to_a_recount(persistent_connection):
    api = _setup()
    rng = random.Random(SEED)
    soak = Soak(api, rng)
    ops, weights = zip(*WEIGHTS.items(), strict=True)
    seen: Counter = Counter()
    server_errors = []
    started = time.monotonic()
    for _ in range(CALLS):
        op = rng.choices(ops, weights)[0]
        response = getattr(soak, op)()
        if response is None:
            seen[f"{op} skipped"] += 1
            continue
        seen[f"{op} {response.status_code}"] += 1
        if response.status_code >= 500:
            server_errors.append((op, response.status_code, getattr(response, "data", None)))
    elapsed = time.monotonic() - started
    print(f"\nsoak: {CALLS} calls in {elapsed:.1f} s, seed {SEED}: {sorted(seen.items())}")

    assert server_errors == []
    if CALLS >= 1000:  # the mix really exercised every workflow
        for op in (
            "place",
            "confirm",
            "cancel",
            "ship",
            "deliver",
            "return_request",
            "return_receive",
            "return_refund",
            "stock_receive",
            "stock_adjust",
        ):
            assert seen[f"{op} 200"] + seen[f"{op} 201"] > 0, f"no successful {op}"

    # ------------------------------------------------------------------ recount
    open_lines = ShipmentLine.objects.filter(shipment__status__in=OPEN_SHIPMENT_STATUSES)
    shipped_lines = ShipmentLine.objects.filter(shipment__status__in=SHIPPED_STATUSES)
    open_by_line = _sum(open_lines, "order_line_id")
    shipped_by_line = _sum(shipped_lines, "order_line_id")
    returned_by_line = _sum(ReturnLine.objects, "order_line_id", field="quantity_received")
    lines_by_order = defaultdict(list)
    for line in OrderLine.objects.order_by("pk"):
        assert line.quantity_allocated == open_by_line[line.pk], f"allocated of line {line.pk}"
        assert line.quantity_shipped == shipped_by_line[line.pk], f"shipped of line {line.pk}"
        assert line.quantity_returned == returned_by_line[line.pk], f"returned of {line.pk}"
        assert line.quantity_allocated + line.quantity_shipped + line.quantity_cancelled <= (
            line.quantity
        )
        lines_by_order[line.order_id].append(line)

    refunds = _sum(Refund.objects, "order_id", field="amount")
    A, F = Order.AllocationStatus, Order.FulfillmentStatus
    for order in Order.objects.order_by("pk"):
        lines = lines_by_order[order.pk]
        wanted = sum(x.quantity - x.quantity_cancelled for x in lines)
        allocated = sum(x.quantity_allocated + x.quantity_shipped for x in lines)
        shipped = sum(x.quantity_shipped for x in lines)
        if wanted:  # a cancelled order keeps its last allocation status
            expected = A.ALLOCATED if allocated >= wanted else A.PARTIAL if allocated else None
            assert order.allocation_status == (expected or A.UNALLOCATED), order.number
        expected = (
            F.FULFILLED if wanted and shipped >= wanted else F.PARTIAL if shipped else F.UNFULFILLED
        )
        assert order.fulfillment_status == expected, order.number
        assert order.refunded_total == Decimal(refunds[order.pk]), order.number
        assert order.refunded_total <= order.total, order.number
        if expected == F.FULFILLED:
            assert order.status != Order.Status.CONFIRMED, order.number

    reserved = _sum(open_lines, "order_line__product_id", "shipment__warehouse_id")
    for level in StockLevel.objects.all():
        assert level.reserved == reserved[(level.product_id, level.warehouse_id)], str(level)
    assert stock_ledger_mismatches() == []
