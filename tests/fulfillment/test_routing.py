"""Routing: strategies on a small map, explained decisions, preview, backorders,
re-routes and short picks."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from fulfillment.exceptions import FulfillmentError, RoutingError
from fulfillment.models import Carrier, CarrierService, Shipment, ShipmentLine, ShippingRate
from fulfillment.services import (
    order_cancel_and_release,
    route_preview,
    shipment_reroute,
    shipment_short_pick,
    shipment_start_picking,
)
from inventory.models import StockMovement
from inventory.selectors import stock_ledger_mismatches
from inventory.services import stock_adjust
from kernel.exceptions import InvalidTransition
from orders.models import Order, OrderEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

A = Order.AllocationStatus
E = OrderEvent.Kind
SH = Shipment.Status
Kind = StockMovement.Kind

# Real places near each state capital: Cajamar (SP), Duque de Caxias (RJ), Contagem (MG).
ADDRESSES = {
    "SP": ("São Paulo", "01310-100"),
    "RJ": ("Rio de Janeiro", "20040-002"),
    "MG": ("Belo Horizonte", "30130-010"),
}


@pytest.fixture
def sp():
    return f.make_warehouse(
        "SP-01", priority=1, region="SP", latitude=Decimal("-23.356"), longitude=Decimal("-46.877")
    )


@pytest.fixture
def rj():
    return f.make_warehouse(
        "RJ-02", priority=2, region="RJ", latitude=Decimal("-22.785"), longitude=Decimal("-43.312")
    )


@pytest.fixture
def mg():
    return f.make_warehouse(
        "MG-03", priority=3, region="MG", latitude=Decimal("-19.932"), longitude=Decimal("-44.054")
    )


@pytest.fixture
def products():
    return [f.make_product(sku, weight_grams=400) for sku in ("A", "B", "C")]


def ship_to(region: str) -> dict:
    city, postcode = ADDRESSES[region]
    return {
        "name": "Ana Lima",
        "line1": "Rua A 1",
        "city": city,
        "region": region,
        "postcode": postcode,
        "country": "BR",
    }


def route(lines, *, strategy: str, region: str, **kw) -> Order:
    order = f.place(
        lines,
        channel_code=f"ch-{strategy.replace('_', '-')}",
        shipping_address=ship_to(region),
        **kw,
    )
    order.channel.routing_strategy = strategy
    order.channel.save(update_fields=["routing_strategy"])
    return f.confirm(order)


def split(order) -> dict[str, list[tuple[str, int]]]:
    """{warehouse code: [(sku, qty), ...]} of the order's open shipments."""
    out: dict[str, list[tuple[str, int]]] = {}
    for line in (
        ShipmentLine.objects.filter(shipment__order=order)
        .exclude(shipment__status=SH.CANCELLED)
        .order_by("shipment__warehouse__code", "pk")
        .select_related("shipment__warehouse", "order_line")
    ):
        out.setdefault(line.shipment.warehouse.code, []).append(
            (line.order_line.sku, line.quantity)
        )
    return out


def stock_everywhere(products, warehouses, qty=10):
    for w in warehouses:
        for p in products:
            f.receive(p, w, qty)


def allocated_message(order) -> str:
    return f.last_event(order, E.ALLOCATED).message


# --------------------------------------------------------------------------- strategies


@pytest.mark.parametrize("region", ["SP", "RJ", "MG"])
def test_priority_ships_from_the_first_point_by_priority_wherever_the_order_goes(
    region, sp, rj, mg, products
):
    stock_everywhere(products, [sp, rj, mg])
    order = route([(p, 1) for p in products], strategy="priority", region=region)

    assert split(order) == {"SP-01": [("A", 1), ("B", 1), ("C", 1)]}
    message = allocated_message(order)
    assert "Routed by priority" in message
    assert "SP-01 chosen: ships all 3 lines" in message
    assert "A x1 from SP-01 (first by priority with enough stock)" in message


@pytest.mark.parametrize(
    ("region", "expected", "km"),
    [("SP", "SP-01", "33 km"), ("RJ", "RJ-02", "20 km"), ("MG", "MG-03", "13 km")],
)
def test_nearest_ships_from_the_closest_point_and_says_how_far(
    region, expected, km, sp, rj, mg, products
):
    stock_everywhere(products, [sp, rj, mg])
    order = route([(p, 1) for p in products], strategy="nearest", region=region)

    assert split(order) == {expected: [("A", 1), ("B", 1), ("C", 1)]}
    message = allocated_message(order)
    assert f"{expected} chosen: ships all 3 lines, {km}" in message
    assert f"Nearest to {ADDRESSES[region][0]}, {region}, BR" in message
    event = f.last_event(order, E.ALLOCATED)
    assert event.data["strategy"] == "nearest"
    assert event.data["distances_km"][expected] < 40


def test_nearest_takes_each_line_from_the_closest_point_that_has_it(sp, rj, mg, products):
    a, b, c = products
    f.receive(a, rj, 5)  # RJ-02 has only A
    f.receive(b, mg, 5)  # MG-03 (second closest to Rio) has B
    f.receive(b, sp, 5)
    f.receive(c, sp, 5)

    order = route([(a, 1), (b, 1), (c, 1)], strategy="nearest", region="RJ")

    assert split(order) == {"MG-03": [("B", 1)], "RJ-02": [("A", 1)], "SP-01": [("C", 1)]}
    message = allocated_message(order)
    assert "RJ-02 chosen: ships 1 of 3 lines, 20 km" in message
    assert "B x1 from MG-03 (nearest with enough stock, 343 km)" in message


def test_nearest_splits_a_line_nearest_first_when_no_point_has_enough(sp, rj, mg, products):
    a = products[0]
    f.receive(a, sp, 3)
    f.receive(a, rj, 3)

    order = route([(a, 5)], strategy="nearest", region="RJ")

    assert split(order) == {"RJ-02": [("A", 3)], "SP-01": [("A", 2)]}
    assert "A x5 split: 3 from RJ-02, 2 from SP-01" in allocated_message(order)
    assert order.allocation_status == A.ALLOCATED


def test_nearest_skips_inactive_points(sp, rj, mg, products):
    stock_everywhere(products[:1], [sp, rj, mg])
    rj.active = False
    rj.save()

    order = route([(products[0], 1)], strategy="nearest", region="RJ")

    assert split(order) == {"MG-03": [("A", 1)]}


def test_nearest_without_coordinates_prefers_same_region_then_country_then_priority(products):
    # Argentina: the table knows the country, not its provinces.
    far = f.make_warehouse("AR-1", priority=1, country="AR", region="B")
    near = f.make_warehouse("AR-2", priority=9, country="AR", region="C")
    abroad = f.make_warehouse("UY-1", priority=0, country="UY", region="MO")
    for w in (far, near, abroad):
        f.receive(products[0], w, 5)
    order = f.place(
        [(products[0], 1)],
        channel_code="ch-nearest",
        shipping_address={"city": "Buenos Aires", "region": "C", "country": "AR"},
    )
    order.channel.routing_strategy = "nearest"
    order.channel.save()
    f.confirm(order)

    assert split(order) == {"AR-2": [("A", 1)]}
    assert "AR-2 chosen: ships the only line, same region C" in allocated_message(order)


def test_single_shipment_prefers_one_point_that_ships_everything(sp, rj, mg, products):
    a, b, c = products
    for p in (a, b):
        f.receive(p, sp, 5)  # the priority point lacks C
    for p in (a, b, c):
        f.receive(p, mg, 5)

    order = route([(a, 1), (b, 1), (c, 1)], strategy="single_shipment", region="RJ")

    assert split(order) == {"MG-03": [("A", 1), ("B", 1), ("C", 1)]}
    message = allocated_message(order)
    assert "One shipment: MG-03 can ship the whole order (3 line(s))" in message
    assert "MG-03 chosen: ships all 3 lines, 343 km" in message
    assert "SP-01 could ship 2 of 3 lines" in message


def test_single_shipment_breaks_ties_by_priority(sp, rj, mg, products):
    stock_everywhere(products, [rj, mg])

    order = route([(p, 1) for p in products], strategy="single_shipment", region="MG")

    assert split(order) == {"RJ-02": [("A", 1), ("B", 1), ("C", 1)]}
    assert "RJ-02 preferred over MG-03 (also complete) by priority" in allocated_message(order)


def test_single_shipment_otherwise_uses_the_fewest_points(sp, rj, mg, products):
    a, b, c = products
    f.receive(a, sp, 5)
    f.receive(b, sp, 5)
    f.receive(c, rj, 5)
    f.receive(a, mg, 5)
    f.receive(c, mg, 5)

    # Nearest to MG would take A and C from MG-03 and B from SP-01: also two points,
    # but single_shipment ties by priority: SP-01 + RJ-02 (1 + 2) beats SP-01 + MG-03.
    order = route([(a, 1), (b, 1), (c, 1)], strategy="single_shipment", region="MG")

    assert split(order) == {"RJ-02": [("C", 1)], "SP-01": [("A", 1), ("B", 1)]}
    assert "No single point can ship all 3 line(s); fewest shipments: 2 (SP-01 + RJ-02)" in (
        allocated_message(order)
    )


def test_cost_without_rate_tables_falls_back_to_nearest_and_says_so(sp, rj, mg, products):
    stock_everywhere(products, [sp, rj, mg])

    order = route([(p, 1) for p in products], strategy="cost", region="RJ")

    assert split(order) == {"RJ-02": [("A", 1), ("B", 1), ("C", 1)]}
    event = f.last_event(order, E.ALLOCATED)
    assert "Cost: no shipping rates to Rio de Janeiro, RJ, BR yet; fell back to nearest" in (
        event.message
    )
    assert event.data["fallback"] == "nearest"


@pytest.fixture
def rates():
    carrier = Carrier.objects.create(code="table", name="Table rates")
    service = CarrierService.objects.create(carrier=carrier, code="standard", name="Standard")
    for low, high, price in ((0, 1000, "20.00"), (1001, 5000, "30.00")):
        ShippingRate.objects.create(
            service=service,
            country="BR",
            min_weight_grams=low,
            max_weight_grams=high,
            price=Decimal(price),
            currency="BRL",
            transit_days=3,
        )
    return service


def test_cost_picks_the_cheapest_parcels_by_the_rate_tables(sp, rj, mg, products, rates):
    a, b, _ = products
    f.receive(a, rj, 5)  # nearest to Rio has only A: nearest would send two parcels
    f.receive(a, sp, 5)
    f.receive(b, sp, 5)

    order = route([(a, 1), (b, 1)], strategy="cost", region="RJ")

    assert split(order) == {"SP-01": [("A", 1), ("B", 1)]}
    message = allocated_message(order)
    assert (
        "Cheapest shipping to Rio de Janeiro, RJ, BR: 20.00 BRL for 1 parcel(s) "
        "(SP-01 0.8 kg table/standard 20.00)"
    ) in message
    assert "next best 40.00 BRL from RJ-02 + SP-01" in message


def test_cost_falls_back_when_no_rate_covers_the_weight(sp, products, rates):
    heavy = f.make_product("ANVIL", weight_grams=9000)
    f.receive(heavy, sp, 2)

    order = route([(heavy, 1)], strategy="cost", region="SP")

    assert split(order) == {"SP-01": [("ANVIL", 1)]}
    assert "Cost: no rate covers a 9000 g parcel to São Paulo, SP, BR; fell back to nearest" in (
        allocated_message(order)
    )


def test_blank_channel_strategy_uses_the_project_default(settings, sp, rj, products):
    settings.OMS_DEFAULT_ROUTING_STRATEGY = "nearest"
    stock_everywhere(products[:1], [sp, rj])
    order = f.confirm(f.place([(products[0], 1)], shipping_address=ship_to("RJ")))

    assert order.channel.routing_strategy == ""
    assert split(order) == {"RJ-02": [("A", 1)]}


def test_backorder_event_says_why(sp, products):
    a, b, _ = products
    f.receive(a, sp, 1)

    order = route([(a, 3), (b, 1)], strategy="nearest", region="SP")

    event = f.last_event(order, E.BACKORDERED)
    assert event.message.startswith("Backordered: A x2, B x1. ")
    assert "A: 2 of 3 backordered (only 1 available at the active points)" in event.message
    assert "B: 1 of 1 backordered (none available at any active point)" in event.message
    assert event.data["backordered"] == {"A": 2, "B": 1}


# --------------------------------------------------------------------------- preview


def test_route_preview_lists_every_strategy_and_writes_nothing(
    sp, rj, mg, products, django_assert_max_num_queries
):
    a, b, c = products
    f.receive(a, rj, 5)
    for p in (a, b, c):
        f.receive(p, sp, 5)
    order = f.place([(a, 1), (b, 2), (c, 1)], shipping_address=ship_to("RJ"))
    counts = (StockMovement.objects.count(), Shipment.objects.count(), OrderEvent.objects.count())

    with django_assert_max_num_queries(6):
        preview = route_preview(order)

    assert counts == (
        StockMovement.objects.count(),
        Shipment.objects.count(),
        OrderEvent.objects.count(),
    )
    json.dumps(preview)  # JSON-serialisable as is
    assert list(preview["strategies"]) == ["priority", "single_shipment", "nearest", "cost"]
    assert preview["scope"] == "backordered"
    assert preview["strategy"] == "priority"
    assert preview["destination"]["region"] == "RJ"
    nearest = preview["strategies"]["nearest"]
    assert [(s["warehouse"], s["lines"]) for s in nearest["shipments"]] == [
        ("RJ-02", [{"sku": "A", "quantity": 1}]),
        ("SP-01", [{"sku": "B", "quantity": 2}, {"sku": "C", "quantity": 1}]),
    ]
    assert nearest["shipments"][0]["distance_km"] == pytest.approx(20, abs=1)
    single = preview["strategies"]["single_shipment"]
    assert single["shipment_count"] == 1
    assert single["shipments"][0]["warehouse"] == "SP-01"
    assert preview["strategies"]["cost"]["fallback"] == "nearest"
    assert all(s["backordered"] == [] for s in preview["strategies"].values())
    assert preview["strategies"]["priority"]["selected"] is True


def test_route_preview_of_an_allocated_order_replans_its_unpicked_units(sp, rj, products):
    a = products[0]
    f.receive(a, sp, 2)
    f.receive(a, rj, 2)
    order = route([(a, 2)], strategy="priority", region="RJ")
    assert split(order) == {"SP-01": [("A", 2)]}

    preview = route_preview(order)

    assert preview["scope"] == "open"
    assert preview["lines"] == [{"sku": "A", "quantity": 2}]
    assert preview["strategies"]["priority"]["shipments"][0]["warehouse"] == "SP-01"
    assert preview["strategies"]["nearest"]["shipments"][0]["warehouse"] == "RJ-02"
    assert f.quantities(a, sp) == (2, 2)  # nothing moved


def test_route_preview_reports_backorders(sp, products):
    order = f.place([(products[0], 4)], shipping_address=ship_to("SP"))
    f.receive(products[0], sp, 1)

    preview = route_preview(order)

    assert preview["strategies"]["single_shipment"]["backordered"] == [{"sku": "A", "quantity": 3}]
    assert preview["strategies"]["priority"]["units_allocated"] == 1


# --------------------------------------------------------------------------- backorders


def _backordered_orders(product, count, start):
    """``count`` confirmed, backordered 1-unit orders, created in shuffled placed_at order."""
    orders = []
    for i in [(7 * k) % count for k in range(count)]:  # 7 is coprime with 30
        order = f.place([(product, 1)], placed_at=start + timedelta(minutes=i))
        orders.append(f.confirm(order))
    return sorted(orders, key=lambda o: o.placed_at)


def test_receipt_fills_the_oldest_backorders_first(
    sp, products, django_capture_on_commit_callbacks
):
    a = products[0]
    orders = _backordered_orders(a, 30, datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert {o.allocation_status for o in orders} == {A.UNALLOCATED}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        f.receive(a, sp, 20)

    assert len(callbacks) == 1
    for order in orders:
        order.refresh_from_db()
    assert [o.allocation_status for o in orders] == [A.ALLOCATED] * 20 + [A.UNALLOCATED] * 10
    assert f.quantities(a, sp) == (20, 20)
    assert "Stock arrived: Routed by priority" in allocated_message(orders[0])
    # The ten still waiting got no second "backordered" event.
    assert f.event_kinds(orders[-1]).count(E.BACKORDERED) == 1
    assert stock_ledger_mismatches() == []


def test_cancelling_an_order_offers_its_stock_to_the_next_in_line(
    sp, products, django_capture_on_commit_callbacks
):
    a = products[0]
    f.receive(a, sp, 1)
    first = f.confirm(f.place([(a, 1)], placed_at=datetime(2026, 11, 1, tzinfo=UTC)))
    waiting = f.confirm(f.place([(a, 1)], placed_at=datetime(2026, 11, 2, tzinfo=UTC)))
    assert waiting.allocation_status == A.UNALLOCATED

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_and_release(order=first, reason="customer asked")

    waiting.refresh_from_db()
    assert waiting.allocation_status == A.ALLOCATED
    assert f.quantities(a, sp) == (1, 1)


@pytest.mark.parametrize("change", [{"delta": 2}, {"counted": 2}])
def test_an_adjustment_or_count_up_fills_backorders(
    change, sp, products, django_capture_on_commit_callbacks
):
    a = products[0]
    waiting = f.confirm(f.place([(a, 2)]))
    assert waiting.allocation_status == A.UNALLOCATED

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product=a, warehouse=sp, reason="found a box", **change)

    waiting.refresh_from_db()
    assert waiting.allocation_status == A.ALLOCATED
    assert f.quantities(a, sp) == (2, 2)


def test_allocate_backorders_command_reports_how_many_orders_got_stock(sp, products):
    a, b, _ = products
    _backordered_orders(a, 3, datetime(2026, 11, 26, tzinfo=UTC))
    f.confirm(f.place([(b, 1)]))
    f.receive(a, sp, 2)  # on_commit does not fire here: the command does the work
    f.receive(b, sp, 1)
    out = StringIO()

    call_command("allocate_backorders", "--sku", "A", stdout=out)

    assert "Allocated stock to 2 backordered order(s) (A)" in out.getvalue()
    assert f.quantities(a, sp) == (2, 2)
    assert f.quantities(b, sp) == (1, 0)  # not asked for
    call_command("allocate_backorders", stdout=out)
    assert "Allocated stock to 1 backordered order(s)" in out.getvalue()


# --------------------------------------------------------------------------- re-route


def test_reroute_moves_the_reservation_to_the_chosen_point(sp, rj, products):
    a, b, _ = products
    for p in (a, b):
        f.receive(p, sp, 5)
        f.receive(p, rj, 5)
    order = route([(a, 2), (b, 1)], strategy="priority", region="RJ")
    old = order.shipments.get()

    (new,) = shipment_reroute(shipment=old, warehouse=rj, reason="SP-01 flooded", actor="ana")

    old.refresh_from_db()
    assert old.status == SH.CANCELLED
    assert (new.warehouse, new.status) == (rj, SH.ALLOCATED)
    assert split(order) == {"RJ-02": [("A", 2), ("B", 1)]}
    assert f.quantities(a, sp) == (5, 0)
    assert f.quantities(a, rj) == (5, 2)
    assert f.movements(reference=old.number, kind=Kind.RELEASE) == [
        (Kind.RELEASE, 0, -2, old.number),
        (Kind.RELEASE, 0, -1, old.number),
    ]
    assert f.movements(reference=new.number) == [
        (Kind.RESERVE, 0, 2, new.number),
        (Kind.RESERVE, 0, 1, new.number),
    ]
    event = f.last_event(order, E.ALLOCATED)
    assert event.message.startswith(
        f"{old.number} re-routed from SP-01 to {new.number} at RJ-02: SP-01 flooded. "
        "RJ-02 chosen by ana: has all 2 line(s), 20 km; SP-01 was the source, 382 km"
    )
    assert event.actor == "ana"
    order.refresh_from_db()
    assert order.allocation_status == A.ALLOCATED
    assert [ln.quantity_allocated for ln in order.lines.order_by("pk")] == [2, 1]
    assert stock_ledger_mismatches() == []


def test_reroute_to_a_point_without_the_stock_changes_nothing(sp, rj, products):
    a = products[0]
    f.receive(a, sp, 5)
    f.receive(a, rj, 1)
    order = route([(a, 2)], strategy="priority", region="RJ")
    shipment = order.shipments.get()
    movements = StockMovement.objects.count()

    with pytest.raises(RoutingError, match="RJ-02 cannot take .*: A needs 2, 1 available"):
        shipment_reroute(shipment=shipment, warehouse=rj, reason="closer")

    shipment.refresh_from_db()
    assert shipment.status == SH.ALLOCATED
    assert StockMovement.objects.count() == movements
    assert f.quantities(a, sp) == (5, 2)


def test_reroute_without_a_target_lets_routing_choose_another_point(sp, rj, mg, products):
    a = products[0]
    for w in (sp, rj, mg):
        f.receive(a, w, 5)
    order = route([(a, 1)], strategy="nearest", region="MG")
    old = order.shipments.get()
    assert old.warehouse == mg

    (new,) = shipment_reroute(shipment=old, reason="MG-03 closed for inventory")

    assert new.warehouse == rj  # the next nearest
    assert "re-routed from MG-03 to" in allocated_message(order)


def test_reroute_is_refused_once_picking_started(sp, rj, products):
    a = products[0]
    f.receive(a, sp, 5)
    f.receive(a, rj, 5)
    shipment = route([(a, 1)], strategy="priority", region="SP").shipments.get()
    shipment_start_picking(shipment=shipment)

    with pytest.raises(InvalidTransition, match="cannot re-route"):
        shipment_reroute(shipment=shipment, warehouse=rj, reason="late")
    with pytest.raises(FulfillmentError, match="why"):
        shipment_reroute(shipment=shipment, warehouse=rj, reason=" ")


# --------------------------------------------------------------------------- short pick


def test_short_pick_counts_the_bin_down_and_routes_the_shortfall(sp, rj, products):
    a, b, _ = products
    f.receive(a, sp, 5)
    f.receive(b, sp, 5)
    f.receive(a, rj, 10)
    older = route(
        [(a, 3), (b, 1)],
        strategy="priority",
        region="SP",
        placed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    newer = route(
        [(a, 2)], strategy="priority", region="SP", placed_at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    shipment = older.shipments.get()
    other = newer.shipments.get()
    assert f.quantities(a, sp) == (5, 5)

    shipment_short_pick(shipment=shipment, sku="A", found=1, actor="picker")

    # The bin holds 1: the older order keeps it, the newer one gives its 2 back too.
    assert f.quantities(a, sp) == (1, 1)
    assert f.quantities(a, rj) == (10, 4)
    assert split(older) == {"RJ-02": [("A", 2)], "SP-01": [("A", 1), ("B", 1)]}
    assert split(newer) == {"RJ-02": [("A", 2)]}
    other.refresh_from_db()
    assert other.status == SH.CANCELLED
    assert f.movements(kind=Kind.COUNT) == [(Kind.COUNT, -4, 0, shipment.number)]
    assert f.movements(reference=shipment.number, kind=Kind.RELEASE) == [
        (Kind.RELEASE, 0, -2, shipment.number)
    ]
    note = f.last_event(older, E.NOTE).message
    assert note.startswith(
        f"Short pick on {shipment.number} at SP-01: the bin held 1 of A, 5 expected; "
        f"count recorded (on hand 5 -> 1). {shipment.number} gives back 2, keeps 1"
    )
    assert "After short pick: Routed by priority" in allocated_message(older)
    assert f"{other.number} gives back 2 and is cancelled" in f.last_event(newer, E.NOTE).message
    for order in (older, newer):
        order.refresh_from_db()
        assert order.allocation_status == A.ALLOCATED
    assert stock_ledger_mismatches() == []


def test_short_pick_with_nothing_elsewhere_leaves_the_shortfall_backordered(sp, products):
    a = products[0]
    f.receive(a, sp, 3)
    order = route([(a, 3)], strategy="priority", region="SP")
    shipment = order.shipments.get()
    shipment_start_picking(shipment=shipment)

    shipment_short_pick(shipment=shipment, sku="A", found=0)

    shipment.refresh_from_db()
    assert shipment.status == SH.CANCELLED
    assert f.quantities(a, sp) == (0, 0)
    order.refresh_from_db()
    assert order.allocation_status == A.UNALLOCATED
    assert f.last_event(order, E.BACKORDERED).message.startswith("Backordered: A x3")
    assert stock_ledger_mismatches() == []


def test_short_pick_counts_picked_units_as_still_on_hand(sp, rj, products):
    a = products[0]
    f.receive(a, sp, 6)
    f.receive(a, rj, 5)
    first = route([(a, 2)], strategy="priority", region="SP").shipments.get()
    second = route([(a, 3)], strategy="priority", region="SP").shipments.get()
    from fulfillment.services import shipment_pick

    shipment_pick(shipment=first)  # 2 units off the shelf, still on hand until shipped

    shipment_short_pick(shipment=second, sku="A", found=1)

    assert f.quantities(a, sp) == (3, 3)  # 2 picked + 1 in the bin; second keeps 1
    assert split(second.order) == {"RJ-02": [("A", 2)], "SP-01": [("A", 1)]}


def test_short_pick_that_is_not_short_is_refused(sp, products):
    f.receive(products[0], sp, 3)
    shipment = route([(products[0], 1)], strategy="priority", region="SP").shipments.get()

    with pytest.raises(FulfillmentError, match="should hold 3 of A; finding 3 is not short"):
        shipment_short_pick(shipment=shipment, sku="A", found=3)
    with pytest.raises(FulfillmentError, match="is not on"):
        shipment_short_pick(shipment=shipment, sku="B", found=0)
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 0
