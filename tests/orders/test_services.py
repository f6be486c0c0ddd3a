"""orders.services: placement (validation, totals, idempotency) and the state machine."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fulfillment.models import Shipment
from fulfillment.services import (
    order_cancel_and_release,
    order_release_and_allocate,
    shipment_ship,
)
from inventory.models import StockMovement
from kernel.exceptions import Conflict, InvalidTransition
from orders.exceptions import DuplicateOrder, OrderInvalid
from orders.models import Customer, Order, OrderEvent, OrderLine
from orders.services import (
    MAX_LINE_QUANTITY,
    order_add_note,
    order_cancel,
    order_confirm,
    order_hold,
    order_mark_paid,
    order_place,
    order_release,
    order_set_financial_status,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
FS = Order.FulfillmentStatus
PAY = Order.FinancialStatus
E = OrderEvent.Kind

FRESH = (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)


@pytest.fixture
def wh():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def shirt():
    return f.make_product("TSHIRT-M", price="19.90")


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


def payload(**overrides) -> dict:
    data = {
        "channel": f.channel("web"),
        "external_id": "1001",
        "currency": "EUR",
        "customer": {"email": "Ana@Example.com", "name": "Ana Lima", "phone": "+55 19 1234"},
        "shipping_address": {
            "name": "Ana Lima",
            "line1": "Rua A 1",
            "city": "Campinas",
            "region": "SP",
            "postcode": "13023-000",
            "country": "br",
        },
        "lines": [
            {"sku": "TSHIRT-M", "quantity": 2, "unit_price": "19.90"},
            {"sku": "MUG", "quantity": 1, "unit_price": "7.50"},
        ],
        "shipping_total": "5.00",
        "tax_total": "1.10",
        "placed_at": datetime(2026, 11, 26, 10, 0, tzinfo=UTC),  # a Thursday
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- place


def test_place_creates_the_order_lines_customer_and_placed_event(shirt, mug):
    order, created = order_place(**payload(), actor="integration-bot")

    assert created is True
    assert re.fullmatch(r"SO-\d{6}", order.number)
    assert order.subtotal == Decimal("47.30")
    assert order.shipping_total == Decimal("5.00")
    assert order.tax_total == Decimal("1.10")
    assert order.total == Decimal("53.40")
    assert isinstance(order.total, Decimal)
    assert order.currency == "EUR"
    assert order.ship_country == "BR"
    assert (order.ship_city, order.ship_postcode) == ("Campinas", "13023-000")
    # two business days after a Thursday: the Monday
    assert order.ship_by == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert len(order.tracking_token) >= 24
    assert f.statuses(order) == FRESH

    assert order.customer.email == "ana@example.com"
    assert (order.customer.name, order.customer.phone) == ("Ana Lima", "+55 19 1234")
    lines = list(order.lines.order_by("pk"))
    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in lines] == [
        ("TSHIRT-M", "Product TSHIRT-M", 2, Decimal("19.90")),
        ("MUG", "Product MUG", 1, Decimal("7.50")),
    ]
    assert all(ln.quantity_allocated == ln.quantity_shipped == 0 for ln in lines)

    event = order.events.get()
    assert event.kind == E.PLACED
    assert event.message == "Placed on web as 1001: 2 line(s), 53.40 EUR"
    assert (event.actor, event.public) == ("integration-bot", True)
    assert not StockMovement.objects.exists()


def test_place_refuses_more_decimals_than_the_currency_has_and_defaults_the_unit_price(shirt, mug):
    with pytest.raises(OrderInvalid) as exc:
        order_place(**payload(lines=[{"sku": "TSHIRT-M", "quantity": 3, "unit_price": "0.335"}]))
    assert exc.value.field == "lines[0].unit_price"
    assert "2 decimal place(s)" in exc.value.message
    with pytest.raises(OrderInvalid) as exc:
        order_place(**payload(shipping_total=Decimal("0.005")))
    assert exc.value.field == "shipping_total"

    order, _ = order_place(
        **payload(
            lines=[
                {"sku": "TSHIRT-M", "quantity": 3, "unit_price": "0.340"},
                {"product": mug, "quantity": 2},
            ],
            shipping_total=Decimal("0.01"),
            tax_total=0,
        )
    )
    prices = list(order.lines.order_by("pk").values_list("unit_price", flat=True))
    assert prices == [Decimal("0.34"), Decimal("7.50")]
    assert order.subtotal == Decimal("16.02")
    assert order.total == Decimal("16.03")


def test_place_reuses_the_customer_by_email_case_insensitively(shirt, mug):
    first, _ = order_place(**payload(external_id="1"))
    second, _ = order_place(
        **payload(external_id="2", customer={"email": "ANA@example.COM", "name": "Other"})
    )

    assert first.customer_id == second.customer_id
    assert Customer.objects.get().name == "Ana Lima"


def test_place_without_external_id_always_makes_a_new_order(shirt, mug):
    first, created1 = order_place(**payload(external_id=None))
    second, created2 = order_place(**payload(external_id=""))

    assert created1 and created2
    assert first.pk != second.pk
    assert first.external_id is None and second.external_id is None


def test_second_identical_order_returns_the_first(shirt, mug):
    first, created = order_place(**payload())
    # same content, other order of lines, other placed_at, case of the e-mail and country
    again = payload(
        lines=list(reversed(payload()["lines"])),
        placed_at=datetime(2026, 11, 27, tzinfo=UTC),
        customer={"email": "ana@example.com", "name": "Ana Lima"},
    )
    second, created_again = order_place(**again)

    assert (created, created_again) == (True, False)
    assert second.pk == first.pk
    assert second.number == first.number
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2
    assert f.event_kinds(first) == [E.PLACED]


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [{"sku": "TSHIRT-M", "quantity": 3, "unit_price": "19.90"}]},
        {"shipping_total": "6.00"},
        {"currency": "USD"},
        {"customer": {"email": "bob@example.com"}},
    ],
    ids=["lines", "shipping", "currency", "customer"],
)
def test_same_external_id_with_different_content_is_a_duplicate(shirt, mug, change):
    first, _ = order_place(**payload())

    with pytest.raises(DuplicateOrder) as exc:
        order_place(**payload(**change))

    assert isinstance(exc.value, Conflict)
    assert exc.value.field == "external_id"
    assert exc.value.data["number"] == first.number
    assert first.number in exc.value.message
    assert Order.objects.count() == 1
    assert f.event_kinds(first) == [E.PLACED]


def test_same_external_id_on_another_channel_is_another_order(shirt, mug):
    first, _ = order_place(**payload())
    second, created = order_place(**payload(channel=f.channel("amazon")))

    assert created is True
    assert second.pk != first.pk
    assert Order.objects.count() == 2


def _bad_line(**line):
    return {"lines": [{"sku": "TSHIRT-M", "quantity": 1, "unit_price": "1.00", **line}]}


@pytest.mark.parametrize(
    "overrides, field",
    [
        (_bad_line(sku="NOPE"), "lines[0].sku"),
        (_bad_line(sku=""), "lines[0].sku"),
        (_bad_line(quantity=0), "lines[0].quantity"),
        (_bad_line(quantity=-1), "lines[0].quantity"),
        (_bad_line(quantity=1.5), "lines[0].quantity"),
        (_bad_line(quantity="2"), "lines[0].quantity"),
        (_bad_line(quantity=True), "lines[0].quantity"),
        (_bad_line(quantity=None), "lines[0].quantity"),
        (_bad_line(quantity=MAX_LINE_QUANTITY + 1), "lines[0].quantity"),
        (_bad_line(unit_price="-0.01"), "lines[0].unit_price"),
        (_bad_line(unit_price="abc"), "lines[0].unit_price"),
        (_bad_line(unit_price="NaN"), "lines[0].unit_price"),
        (_bad_line(unit_price="Infinity"), "lines[0].unit_price"),
        (_bad_line(unit_price="1e20"), "lines[0].unit_price"),
        (
            {
                "lines": [
                    {"sku": "TSHIRT-M", "quantity": 1},
                    {"sku": "MUG", "quantity": 0},
                ]
            },
            "lines[1].quantity",
        ),
        ({"lines": []}, "lines"),
        ({"shipping_total": "-5"}, "shipping_total"),
        ({"shipping_total": "five"}, "shipping_total"),
        ({"tax_total": "-1"}, "tax_total"),
        ({"currency": "EU"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "E1R"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"shipping_address": {"country": "BRA"}}, "shipping_address.country"),
        ({"shipping_address": {"country": "B1"}}, "shipping_address.country"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"customer": {"email": "ana@"}}, "customer.email"),
    ],
)
def test_place_refuses_bad_input_with_a_field(shirt, mug, overrides, field):
    with pytest.raises(OrderInvalid) as exc:
        order_place(**payload(**overrides))

    assert exc.value.field == field
    assert exc.value.message
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Customer.objects.exists()
    assert not OrderEvent.objects.exists()


def test_place_refuses_an_inactive_sku(shirt, mug):
    mug.active = False
    mug.save()

    with pytest.raises(OrderInvalid, match="MUG is inactive") as exc:
        order_place(**payload())

    assert exc.value.field == "lines[1].sku"
    assert not Order.objects.exists()


def test_place_refuses_an_inactive_channel(shirt, mug):
    closed = f.channel("closed", active=False)

    with pytest.raises(OrderInvalid) as exc:
        order_place(**payload(channel=closed))

    assert exc.value.field == "channel"
    assert not Order.objects.exists()


def test_place_accepts_the_maximum_line_quantity(shirt, mug):
    order, _ = order_place(**payload(**_bad_line(quantity=MAX_LINE_QUANTITY)))
    assert order.lines.get().quantity == MAX_LINE_QUANTITY
    assert order.total == Decimal("10006.10")


def test_order_numbers_are_unique_and_human_readable(shirt, mug):
    numbers = [order_place(**payload(external_id=str(i)))[0].number for i in range(5)]

    assert len(set(numbers)) == 5
    assert all(re.fullmatch(r"SO-\d{6}", n) for n in numbers)
    values = [int(n.split("-")[1]) for n in numbers]
    assert values == sorted(values)


# --------------------------------------------------------------------------- confirm


def test_confirm_moves_pending_to_confirmed_with_an_event(shirt):
    order = f.place([(shirt, 1)])

    order_confirm(order=order, actor="staff")

    assert f.statuses(order) == (S.CONFIRMED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert order.confirmed_at is not None
    event = f.last_event(order)
    assert (event.kind, event.message, event.actor) == (E.CONFIRMED, "Order confirmed", "staff")


def test_confirming_twice_is_an_invalid_transition(shirt):
    order = f.place([(shirt, 1)])
    order_confirm(order=order)

    with pytest.raises(InvalidTransition) as exc:
        order_confirm(order=order)

    assert str(exc.value) == f"Order {order.number} is confirmed; cannot confirm"
    assert (exc.value.current, exc.value.move) == ("confirmed", "confirm")
    assert exc.value.status_code == 409
    assert f.event_kinds(order) == [E.PLACED, E.CONFIRMED]


def test_confirming_an_order_on_hold_asks_to_release_first(shirt):
    order = f.place([(shirt, 1)])
    order_hold(order=order, reason="fraud check")

    with pytest.raises(InvalidTransition, match="is on_hold; cannot confirm") as exc:
        order_confirm(order=order)

    assert "release the hold first (fraud check)" in str(exc.value)
    assert f.statuses(order)[0] == S.ON_HOLD


def test_confirming_a_cancelled_order_is_refused(shirt):
    order = f.place([(shirt, 1)])
    order_cancel_and_release(order=order, reason="customer")

    with pytest.raises(InvalidTransition, match="is cancelled; cannot confirm"):
        order_confirm(order=order)

    assert f.statuses(order)[0] == S.CANCELLED


# --------------------------------------------------------------------------- hold / release


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_hold_needs_a_reason(shirt, reason):
    order = f.place([(shirt, 1)])

    with pytest.raises(OrderInvalid) as exc:
        order_hold(order=order, reason=reason)

    assert exc.value.field == "reason"
    assert f.statuses(order) == FRESH
    assert f.event_kinds(order) == [E.PLACED]


def test_hold_and_release_a_pending_order_goes_back_to_pending(shirt):
    order = f.place([(shirt, 1)])

    order_hold(order=order, reason="  address check ")
    assert f.statuses(order) == (S.ON_HOLD, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert order.hold_reason == "address check"
    assert f.last_event(order).message == "On hold: address check"

    order_release(order=order)
    assert f.statuses(order) == FRESH
    assert order.hold_reason == ""
    event = f.last_event(order)
    assert event.kind == E.RELEASED
    assert event.message == "Hold released (address check); back to pending"
    assert f.event_kinds(order) == [E.PLACED, E.HELD, E.RELEASED]


def test_hold_and_release_a_confirmed_order_goes_back_to_confirmed(shirt, wh):
    f.receive(shirt, wh, 5)
    order = f.confirm(f.place([(shirt, 2)]))
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)

    order_hold(order=order, reason="fraud check")
    # reservations stay while on hold
    assert f.statuses(order) == (S.ON_HOLD, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.quantities(shirt, wh) == (5, 2)

    order_release(order=order)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.last_event(order).message == "Hold released (fraud check); back to confirmed"
    assert f.quantities(shirt, wh) == (5, 2)


def test_release_and_allocate_routes_what_arrived_while_on_hold(shirt, wh):
    order = f.confirm(f.place([(shirt, 2)]))
    assert f.statuses(order)[:2] == (S.CONFIRMED, A.UNALLOCATED)
    order_hold(order=order, reason="fraud check")
    f.receive(shirt, wh, 3)  # on_commit does not fire inside the test transaction

    order_release_and_allocate(order=order)

    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.quantities(shirt, wh) == (3, 2)
    assert order.shipments.get().status == Shipment.Status.ALLOCATED
    assert f.event_kinds(order)[-2:] == [E.RELEASED, E.ALLOCATED]


def test_hold_twice_and_release_when_not_held_are_invalid(shirt):
    order = f.place([(shirt, 1)])

    with pytest.raises(InvalidTransition, match=r"is pending; cannot release$"):
        order_release(order=order)

    order_hold(order=order, reason="check")
    with pytest.raises(InvalidTransition, match=r"is on_hold; cannot hold$"):
        order_hold(order=order, reason="again")
    assert f.statuses(order)[0] == S.ON_HOLD
    order.refresh_from_db()
    assert order.hold_reason == "check"


def test_hold_of_a_shipped_order_is_refused(shirt, wh):
    f.receive(shirt, wh, 1)
    order = f.confirm(f.place([(shirt, 1)]))
    shipment_ship(shipment=order.shipments.get())

    with pytest.raises(InvalidTransition, match=r"is shipped; cannot hold"):
        order_hold(order=order, reason="too late")

    assert f.statuses(order)[0] == S.SHIPPED


def test_hold_of_a_partly_shipped_order_is_refused(shirt, mug, wh):
    f.receive(shirt, wh, 1)
    order = f.confirm(f.place([(shirt, 1), (mug, 1)]))
    shipment_ship(shipment=order.shipments.get())
    assert f.statuses(order) == (S.CONFIRMED, A.PARTIAL, FS.PARTIAL, PAY.PENDING)

    with pytest.raises(InvalidTransition, match="part of it has already shipped"):
        order_hold(order=order, reason="check")

    assert f.statuses(order)[0] == S.CONFIRMED


# --------------------------------------------------------------------------- cancel


def test_cancel_a_pending_order(shirt, mug):
    order = f.place([(shirt, 2), (mug, 1)])

    order_cancel_and_release(order=order, reason="customer changed mind", actor="staff")

    assert f.statuses(order) == (S.CANCELLED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert order.cancel_reason == "customer changed mind"
    assert [(ln.quantity, ln.quantity_cancelled) for ln in order.lines.order_by("pk")] == [
        (2, 2),
        (1, 1),
    ]
    event = f.last_event(order)
    assert (event.kind, event.message, event.public) == (
        E.CANCELLED,
        "Cancelled: customer changed mind",
        True,
    )
    assert not StockMovement.objects.exists()


def test_cancel_releases_reservations_and_cancels_open_shipments(shirt, mug, wh):
    store = f.make_warehouse("STORE", priority=5)
    f.receive(shirt, wh, 1)
    f.receive(shirt, store, 5)
    f.receive(mug, wh, 5)
    order = f.confirm(f.place([(shirt, 3), (mug, 2)]))
    shipments = list(order.shipments.order_by("pk"))
    # the shirt line goes whole to STORE (MAIN has too few), the mugs come from MAIN
    assert [s.warehouse.code for s in shipments] == ["STORE", "MAIN"]
    assert f.quantities(shirt, store) == (5, 3)

    order_cancel_and_release(order=order, reason="fraud")

    assert f.statuses(order) == (S.CANCELLED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.quantities(shirt, wh) == (1, 0)
    assert f.quantities(shirt, store) == (5, 0)
    assert f.quantities(mug, wh) == (5, 0)
    for shipment in shipments:
        shipment.refresh_from_db()
        assert shipment.status == Shipment.Status.CANCELLED
        assert shipment.cancelled_at is not None
        releases = f.movements(reference=shipment.number, kind="release")
        reserves = f.movements(reference=shipment.number, kind="reserve")
        assert sorted(r[2] for r in releases) == sorted(-r[2] for r in reserves)
    lines = list(order.lines.order_by("pk"))
    assert [(ln.quantity_allocated, ln.quantity_cancelled) for ln in lines] == [(0, 3), (0, 2)]
    kinds = f.event_kinds(order)
    assert kinds.count(E.SHIPMENT_CANCELLED) == 2
    assert kinds[-1] == E.CANCELLED
    assert "order cancelled: fraud" in f.last_event(order, E.SHIPMENT_CANCELLED).message
    f.assert_ledger_clean()


def test_cancel_of_an_authorized_order_voids_the_authorization(shirt):
    order = f.place([(shirt, 1)], financial_status=PAY.AUTHORIZED)

    order_cancel_and_release(order=order, reason="customer")

    assert f.statuses(order) == (S.CANCELLED, A.UNALLOCATED, FS.UNFULFILLED, PAY.VOIDED)
    assert E.PAYMENT in f.event_kinds(order)


def test_cancel_of_a_shipped_order_is_refused(shirt, wh):
    f.receive(shirt, wh, 1)
    order = f.confirm(f.place([(shirt, 1)]))
    shipment_ship(shipment=order.shipments.get())

    with pytest.raises(InvalidTransition) as exc:
        order_cancel_and_release(order=order, reason="too late")

    assert str(exc.value) == f"Order {order.number} is shipped; cannot cancel"
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)
    assert f.quantities(shirt, wh) == (0, 0)


def test_cancel_once_part_of_the_order_shipped_is_refused(shirt, mug, wh):
    store = f.make_warehouse("STORE", priority=5)
    f.receive(shirt, wh, 1)
    f.receive(mug, store, 1)
    order = f.confirm(f.place([(shirt, 1), (mug, 1)]))
    first, second = order.shipments.order_by("pk")
    shipment_ship(shipment=first)

    with pytest.raises(InvalidTransition, match="part of it has already shipped"):
        order_cancel_and_release(order=order, reason="customer")

    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.PARTIAL, PAY.PENDING)
    second.refresh_from_db()
    assert second.status == Shipment.Status.ALLOCATED
    assert f.quantities(mug, store) == (1, 1)


def test_cancelling_twice_is_an_invalid_transition(shirt):
    order = f.place([(shirt, 1)])
    order_cancel_and_release(order=order, reason="x")

    with pytest.raises(
        InvalidTransition, match=rf"^Order {order.number} is cancelled; cannot cancel"
    ):
        order_cancel_and_release(order=order, reason="again")

    assert f.event_kinds(order).count(E.CANCELLED) == 1


def test_plain_order_cancel_refuses_while_stock_is_allocated(shirt, wh):
    f.receive(shirt, wh, 1)
    order = f.confirm(f.place([(shirt, 1)]))

    with pytest.raises(InvalidTransition, match="stock is still allocated"):
        order_cancel(order=order, reason="x")

    assert f.statuses(order)[0] == S.CONFIRMED
    assert f.quantities(shirt, wh) == (1, 1)


# --------------------------------------------------------------------------- payment, notes


def test_mark_paid_moves_the_financial_status_with_a_payment_event(shirt):
    order = f.place([(shirt, 1)])

    order_mark_paid(order=order, actor="psp")

    assert f.statuses(order) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PAID)
    event = f.last_event(order)
    assert (event.kind, event.message, event.actor) == (E.PAYMENT, "Payment pending -> paid", "psp")
    assert event.data["from"] == "pending" and event.data["to"] == "paid"
    # marking it paid records the capture of its total, which later refunds are bound by
    payment = order.payments.get()
    assert (payment.kind, payment.amount, payment.actor) == ("captured", order.total, "psp")
    assert event.data["amount"] == str(order.total)


def test_mark_paid_twice_is_an_invalid_transition(shirt):
    order = f.place([(shirt, 1)])
    order_mark_paid(order=order)

    with pytest.raises(InvalidTransition) as exc:
        order_mark_paid(order=order)

    assert str(exc.value) == f"Order {order.number} is paid; cannot set payment to paid"
    assert f.event_kinds(order).count(E.PAYMENT) == 1


def test_mark_paid_on_a_cancelled_order_is_refused(shirt):
    order = f.place([(shirt, 1)])
    order_cancel_and_release(order=order, reason="x")

    with pytest.raises(InvalidTransition, match="is cancelled; cannot mark paid"):
        order_mark_paid(order=order)

    assert f.statuses(order)[3] == PAY.PENDING


def test_authorized_then_paid(shirt):
    order = f.place([(shirt, 1)])
    order_set_financial_status(order=order, status=PAY.AUTHORIZED)
    order_mark_paid(order=order)

    assert f.statuses(order)[3] == PAY.PAID
    with pytest.raises(InvalidTransition, match="is paid; cannot set payment to authorized"):
        order_set_financial_status(order=order, status=PAY.AUTHORIZED)


def test_add_note_needs_text(shirt):
    order = f.place([(shirt, 1)])

    with pytest.raises(OrderInvalid) as exc:
        order_add_note(order=order, message="  ")
    assert exc.value.field == "message"

    event = order_add_note(order=order, message="gift wrap", actor="staff")
    assert (event.kind, event.message, event.public) == (E.NOTE, "gift wrap", False)


@pytest.mark.parametrize("days", [0, 1, 2, 5, 6, 11])
def test_add_business_days_skips_weekends_from_every_day_of_the_week(days):
    """Against walking the calendar day by day, from each weekday and hour."""
    from datetime import timedelta

    from orders.services import add_business_days

    start = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # a Monday
    for hours in range(0, 7 * 24, 5):
        moment = start + timedelta(hours=hours)
        walked, added = moment, 0
        while added < days:
            walked += timedelta(days=1)
            added += walked.weekday() < 5
        assert add_business_days(moment, days) == walked, (moment, days)
