"""Edits under concurrency on PostgreSQL, real threads each on its own connection: two
staff editing one order at once, and an edit taking the last unit racing placements for
it. Exact final quantities and a clean ledger every time."""

import pytest
from django.db.models import Sum

from fulfillment.exceptions import Conflict
from fulfillment.services import order_cancel_lines, order_confirm_and_allocate, order_edit
from orders.models import Order, OrderEvent, OrderLine
from tests import factories as f
from tests.conftest import postgres_only
from tests.threads import together

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def fresh(order) -> Order:
    return Order.objects.select_related("channel").get(pk=order.pk)


def reserved_by(order) -> int:
    return OrderLine.objects.filter(order=order).aggregate(n=Sum("quantity_allocated"))["n"]


def test_two_staff_editing_different_lines_both_land(main_and_products):
    main, mug, lamp, vase = main_and_products
    order = f.confirm(f.place([(mug, 2), (lamp, 1)]))
    mug_line, lamp_line = order.lines.get(product=mug), order.lines.get(product=lamp)

    for round_ in range(5):
        mug_qty, lamp_qty = 3 + round_ % 2, 2 - round_ % 2
        _, errors = together(
            lambda q=mug_qty: order_edit(
                order=fresh(order),
                quantities=[{"line": mug_line.pk, "quantity": q}],
                actor="ana",
            ),
            lambda q=lamp_qty: order_edit(
                order=fresh(order),
                quantities=[{"line": lamp_line.pk, "quantity": q}],
                add=[{"sku": vase.sku, "quantity": 1}],
                actor="bruno",
            ),
        )
        assert errors == [None, None]

    lines = {line.sku: line for line in fresh(order).lines.all()}
    assert lines["MUG"].quantity == 3 and lines["LAMP"].quantity == 2
    assert sum(1 for line in fresh(order).lines.all() if line.sku == "VASE") == 5
    assert f.quantities(mug, main) == (20, 3)
    assert f.quantities(lamp, main) == (20, 2)
    assert f.quantities(vase, main) == (20, 5)
    assert reserved_by(order) == 10
    assert order.events.filter(kind=OrderEvent.Kind.EDITED).count() == 10
    placed = fresh(order)
    assert placed.subtotal == sum(
        line.unit_price * (line.quantity - line.quantity_cancelled) for line in placed.lines.all()
    )
    f.assert_ledger_clean()


def test_two_staff_setting_the_same_line_one_gets_a_clean_conflict(main_and_products):
    main, mug, _, _ = main_and_products
    order = f.confirm(f.place([(mug, 2)]))
    line = order.lines.get()

    _, errors = together(
        lambda: order_edit(
            order=fresh(order), quantities=[{"line": line.pk, "quantity": 5, "expected": 2}]
        ),
        lambda: order_edit(
            order=fresh(order), quantities=[{"line": line.pk, "quantity": 1, "expected": 2}]
        ),
    )

    failed = [e for e in errors if e is not None]
    assert len(failed) == 1 and isinstance(failed[0], Conflict)
    assert "changed meanwhile" in failed[0].message
    winner = 5 if errors[0] is None else 1
    line.refresh_from_db()
    assert line.quantity == line.quantity_allocated == winner
    assert f.quantities(mug, main) == (20, winner)
    f.assert_ledger_clean()


def test_edit_and_cancel_of_the_same_order_queue_on_the_order(main_and_products):
    main, mug, lamp, _ = main_and_products
    order = f.confirm(f.place([(mug, 4), (lamp, 2)]))
    mug_line, lamp_line = order.lines.get(product=mug), order.lines.get(product=lamp)

    _, errors = together(
        lambda: order_edit(order=fresh(order), quantities=[{"line": mug_line.pk, "quantity": 6}]),
        lambda: order_cancel_lines(
            order=fresh(order), lines=[{"line": lamp_line.pk, "quantity": 1}], reason="race"
        ),
    )

    assert errors == [None, None]
    assert f.quantities(mug, main) == (20, 6)
    assert f.quantities(lamp, main) == (20, 1)
    lamp_line.refresh_from_db()
    assert (lamp_line.quantity_cancelled, lamp_line.quantity_allocated) == (1, 1)
    f.assert_ledger_clean()


def test_edit_taking_the_last_unit_races_placements_without_overselling():
    main = f.make_warehouse("MAIN", priority=1)
    for round_ in range(6):
        product = f.make_product(f"LAST-{round_}")
        f.receive(product, main, 3)
        order = f.confirm(f.place([(product, 2)]))  # 1 unit left
        line = order.lines.get()
        rivals = [f.place([(product, 1)], external_id=f"rival-{round_}-{i}") for i in range(3)]

        calls = [
            lambda o=order, pk=line.pk: order_edit(
                order=fresh(o), quantities=[{"line": pk, "quantity": 3}]
            )
        ] + [lambda o=rival: order_confirm_and_allocate(order=fresh(o)) for rival in rivals]
        _, errors = together(*calls)

        assert errors == [None] * 4
        assert f.quantities(product, main) == (3, 3)  # every unit reserved, none twice
        line.refresh_from_db()
        won_by_edit = line.quantity_allocated == 3
        rival_allocated = sum(reserved_by(r) for r in rivals)
        assert rival_allocated == (0 if won_by_edit else 1)
        assert line.quantity == 3
        assert line.quantity_allocated + rival_allocated == 3
        if not won_by_edit:
            assert line.quantity_backordered == 1
    f.assert_ledger_clean()


@pytest.fixture
def main_and_products():
    main = f.make_warehouse("MAIN", priority=1)
    products = [f.make_product(sku, price="5.00") for sku in ("MUG", "LAMP", "VASE")]
    for product in products:
        f.receive(product, main, 20)
    return main, *products


def test_address_re_route_races_placements_for_the_new_points_last_units():
    """An edit moves an order to NORTH (2 units left) while two orders from there are
    confirmed: whoever wins, NORTH's two units are reserved once, every order is allocated,
    and each line holds exactly what its shipments hold."""
    main = f.make_warehouse("MAIN", priority=1, region="SP", city="Campinas")
    north = f.make_warehouse("NORTH", priority=5, region="PE", city="Recife")
    channel = f.channel("near", routing_strategy="nearest")
    recife = {"name": "Rui", "line1": "Rua B 2", "city": "Recife", "region": "PE",
              "postcode": "50000-000", "country": "BR"}  # fmt: skip
    for round_ in range(4):
        product = f.make_product(f"NEAR-{round_}")
        f.receive(product, main, 5)
        f.receive(product, north, 2)
        order = f.confirm(f.place([(product, 2)], channel_code=channel.code))
        assert order.shipments.get().warehouse == main
        rivals = [
            f.place(
                [(product, 2)],
                channel_code=channel.code,
                external_id=f"near-{round_}-{i}",
                shipping_address=recife,
            )
            for i in range(2)
        ]

        calls = [
            lambda o=order: order_edit(
                order=fresh(o), address={"city": "Recife", "region": "PE"}, actor="ana"
            )
        ] + [lambda o=rival: order_confirm_and_allocate(order=fresh(o)) for rival in rivals]
        _, errors = together(*calls)

        assert errors == [None] * 3
        assert f.quantities(product, north) == (2, 2)  # reserved once, by one of them
        assert f.quantities(product, main) == (5, 4)
        for placed in [order, *rivals]:
            assert fresh(placed).allocation_status == Order.AllocationStatus.ALLOCATED
            line = placed.lines.get()
            held = line.shipment_lines.exclude(shipment__status="cancelled").aggregate(
                n=Sum("quantity")
            )["n"]
            assert line.quantity_allocated == held == 2
        assert fresh(order).ship_city == "Recife"
    f.assert_ledger_clean()


def test_a_double_click_on_the_order_page_adds_the_line_once(main_and_products):
    """Two posts of the same edit form at the same instant (a double click), each
    request on its own connection: one edit, one new line, one reservation."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from kernel.roles import MANAGER

    main, mug, _, vase = main_and_products
    order = f.confirm(f.place([(mug, 1)]))
    boss = User.objects.create_user("boss", password="pw-123456")
    boss.groups.add(Group.objects.get(name=MANAGER))
    line = order.lines.get()
    form = {
        f"qty-{line.pk}": "1",
        f"expected-{line.pk}": "1",
        "add-sku": vase.sku,
        "add-quantity": "2",
        "form-key": "e-double-click",
    }

    def post():
        client = Client()
        client.force_login(boss)
        return client.post(f"/orders/{order.number}/edit/", form).status_code

    results, errors = together(post, post)

    assert errors == [None, None] and results == [302, 302]
    assert order.lines.filter(sku=vase.sku).count() == 1
    assert f.quantities(vase, main) == (20, 2)
    assert order.events.filter(kind=OrderEvent.Kind.EDITED).count() == 1
    f.assert_ledger_clean()
