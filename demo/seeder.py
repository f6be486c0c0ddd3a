"""Demo data for ``manage.py seed_demo``: a Brazilian seller with four fulfillment
points, 62 products and three months of orders on seven channels.

Every change of a status or a quantity goes through the services, so the stock ledger,
the order timelines and the document numbers are the ones the system itself writes.
Catalogue rows (points, products, channels, carriers, rates) are plain inserts.

Two things make the data look lived in and keep it the same on every run:

* ``random.Random`` with fixed seeds plans everything up front: catalogue, customers,
  each order's contents and what happens to it (one generator for contents, another for
  dates, so redrawing a date never changes what was ordered);
* a simulated clock: the plan is a list of dated steps (placed, paid, confirmed, picked,
  packed, shipped, delivered, returned...) played in date order, and while a step runs
  ``django.utils.timezone.now`` returns its date, so ``placed_at``, ``shipped_at``,
  ``created_at`` of events and ledger rows, etc. are spread over the last 90 days.
  Only the dates move with today's date (tokens and tracking numbers stay random).

The whole run is one transaction. Stock arrivals queue
``fulfillment.tasks.allocate_backorders`` on commit; the demo runs those jobs inline
(django-q2 ``sync``) after the commit instead of leaving them in the queue, and calls
``allocate_backorders`` itself, at the simulated date, where a delivery fills backorders.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from demo.actions import DemoActions
from demo.planning import DemoPlanner
from demo.support import demo_present, ensure_users, tasks_inline
from fulfillment.models import (
    PickList,
    Shipment,
)
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from orders.models import Channel, Customer, Order
from orders.notifications import notifications_muted
from returns.models import Refund, ReturnRequest


class DemoSeeder(DemoPlanner, DemoActions):
    """Plans the demo (``build``), then plays it (``run``)."""

    def run(self) -> None:
        self.users = ensure_users()
        self.manager = self.users["manager"][0]
        self.floor = self.users["warehouse"][0]
        self.integration = self.users["integration"][0]
        self.build()
        with self.clock.installed():
            for when, _, fn, args in sorted(self.steps, key=lambda s: (s[0], s[1])):
                self.clock.current = when
                fn(*args)
        self.clock.current = None


# --------------------------------------------------------------------------- entry point


def seed_demo(*, now: datetime | None = None) -> dict:
    """Seed the demo unless it is there already; returns what happened.

    ``{"created": bool, "users": {...}, "counts": {...}}``. Users are reset either way.
    """
    # The demo's history is invented: no customer e-mails for it.
    with tasks_inline(), notifications_muted():
        with transaction.atomic():
            if demo_present():
                users = ensure_users()
                created = False
            else:
                seeder = DemoSeeder(now=now or timezone.now())
                seeder.run()
                users = seeder.users
                created = True
    return {"created": created, "users": users, "counts": demo_counts()}


def demo_counts() -> dict:
    def by(qs, field_name):
        return dict(qs.order_by().values_list(field_name).annotate(n=Count("pk")))

    return {
        "warehouses": Warehouse.objects.count(),
        "products": Product.objects.count(),
        "stock levels": StockLevel.objects.count(),
        "stock movements": StockMovement.objects.count(),
        "channels": Channel.objects.count(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "orders by status": by(Order.objects.all(), "status"),
        "shipments by status": by(Shipment.objects.all(), "status"),
        "pick lists": PickList.objects.count(),
        "returns by status": by(ReturnRequest.objects.all(), "status"),
        "refunds": Refund.objects.count(),
    }
