"""Staff drafts under contention, on PostgreSQL with real threads: two managers placing
the same draft at the same instant get one order (one reservation, a clean ledger), and
scans into the same draft from two desks at once are all kept."""

import threading

import pytest

from intake.drafts import draft_create, draft_line_add, draft_place, draft_update
from intake.models import OrderDraft
from inventory.models import StockLevel, StockMovement
from orders.models import Order
from tests import factories as f
from tests.conftest import postgres_only
from tests.test_concurrency import in_threads

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

ADDRESS = {"name": "Ana Lima", "line1": "Rua A 1", "city": "Campinas", "postcode": "13023-000",
           "region": "SP", "country": "BR"}  # fmt: skip


def test_two_managers_placing_the_same_draft_at_once_get_one_order():
    wh = f.make_warehouse("SP-01", priority=1)
    mug = f.make_product("MUG-01", price="9.90")
    f.receive(mug, wh, 5)
    f.channel("phone", kind="phone", auto_confirm=True, auto_confirm_require_payment=False)
    draft = draft_create()
    draft_update(
        draft=draft,
        customer_email="ana@example.com",
        customer_name="Ana Lima",
        shipping_address=ADDRESS,
        currency="BRL",
    )
    draft_line_add(draft=draft, product=mug, quantity=2)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def place(_: int) -> None:
        barrier.wait()
        try:
            results.append(draft_place(draft=OrderDraft.objects.get(pk=draft.pk)))
        except Exception as exc:  # asserted on below
            errors.append(exc)

    in_threads(4, place)

    assert errors == []
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({order.pk for order, _ in results}) == 1
    order = Order.objects.get()
    assert order.status == "confirmed"
    assert OrderDraft.objects.get(pk=draft.pk).placed_order == order
    level = StockLevel.objects.get(product=mug, warehouse=wh)
    assert (level.on_hand, level.reserved) == (5, 2)
    assert StockMovement.objects.filter(kind="reserve").count() == 1
    f.assert_ledger_clean()


def test_scans_from_two_desks_into_one_draft_are_all_kept():
    products = [f.make_product(f"SKU-{n}") for n in range(6)]
    f.channel("phone", kind="phone")
    draft = draft_create()
    barrier = threading.Barrier(2)

    def scan(i: int) -> None:
        barrier.wait()
        for product in products[i::2]:
            for _ in range(3):
                draft_line_add(draft=OrderDraft.objects.get(pk=draft.pk), product=product)

    in_threads(2, scan)

    draft.refresh_from_db()
    assert sorted((line["sku"], line["quantity"]) for line in draft.lines) == [
        (p.sku, 3) for p in products
    ]
