"""inventory.services: receive, adjust, count, transfer, reserve, release."""

import pytest

from inventory.exceptions import InsufficientStock, StockError
from inventory.models import StockLevel, StockMovement
from inventory.services import (
    MAX_QUANTITY,
    stock_adjust,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_transfer,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


@pytest.fixture
def wh():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def other_wh():
    return f.make_warehouse("STORE", priority=2)


@pytest.fixture
def product():
    return f.make_product("SHIRT")


# --------------------------------------------------------------------------- receive


def test_receive_creates_the_level_and_a_receipt_movement(product, wh):
    assert not StockLevel.objects.filter(product=product, warehouse=wh).exists()

    level = stock_receive(
        product=product, warehouse=wh, quantity=12, reference="PO-1", note="supplier A"
    )

    assert (level.on_hand, level.reserved, level.available) == (12, 0, 12)
    assert f.movements(product=product) == [(Kind.RECEIPT, 12, 0, "PO-1")]
    movement = StockMovement.objects.get(product=product)
    assert (movement.warehouse, movement.note, movement.actor) == (wh, "supplier A", "system")
    f.assert_ledger_clean()


def test_second_receipt_adds_to_the_same_level(product, wh):
    f.receive(product, wh, 5)
    level = f.receive(product, wh, 7, actor="dock-1")

    assert (level.on_hand, level.reserved) == (12, 0)
    assert StockLevel.objects.filter(product=product).count() == 1
    assert [m[:3] for m in f.movements(product=product)] == [
        (Kind.RECEIPT, 5, 0),
        (Kind.RECEIPT, 7, 0),
    ]
    assert StockMovement.objects.filter(actor="dock-1").count() == 1
    f.assert_ledger_clean()


@pytest.mark.parametrize(
    "quantity",
    [0, -3, 2.5, "5", None, True, MAX_QUANTITY + 1, 10**18],
    ids=["zero", "negative", "float", "string", "none", "bool", "max+1", "huge"],
)
def test_receive_refuses_a_bad_quantity(product, wh, quantity):
    with pytest.raises(StockError) as exc:
        stock_receive(product=product, warehouse=wh, quantity=quantity)

    assert exc.value.field == "quantity"
    assert not StockLevel.objects.filter(product=product).exists()
    assert not StockMovement.objects.exists()


def test_receive_accepts_the_maximum_quantity(product, wh):
    level = f.receive(product, wh, MAX_QUANTITY)
    assert level.on_hand == MAX_QUANTITY


def test_receive_into_an_inactive_warehouse_is_refused(product):
    closed = f.make_warehouse("CLOSED", active=False)

    with pytest.raises(StockError, match="CLOSED is inactive") as exc:
        stock_receive(product=product, warehouse=closed, quantity=3)

    assert exc.value.field == "warehouse"
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


# --------------------------------------------------------------------------- adjust / count


def test_adjust_by_delta_writes_an_adjustment_with_the_reason(product, wh):
    f.receive(product, wh, 10)

    level = stock_adjust(
        product=product, warehouse=wh, delta=-3, reason="broken in aisle", reference="ADJ-1"
    )

    assert (level.on_hand, level.reserved) == (7, 0)
    assert f.quantities(product, wh) == (7, 0)
    assert f.movements(kind=Kind.ADJUSTMENT) == [(Kind.ADJUSTMENT, -3, 0, "ADJ-1")]
    assert StockMovement.objects.get(kind=Kind.ADJUSTMENT).note == "broken in aisle"

    stock_adjust(product=product, warehouse=wh, delta=4, reason="found behind shelf")
    assert f.quantities(product, wh) == (11, 0)
    f.assert_ledger_clean()


def test_adjust_by_counted_writes_a_count_of_the_difference(product, wh):
    f.receive(product, wh, 10)

    level = stock_adjust(product=product, warehouse=wh, counted=8, reason="cycle count")

    assert level.on_hand == 8
    assert f.movements(kind=Kind.COUNT) == [(Kind.COUNT, -2, 0, "")]
    assert StockMovement.objects.get(kind=Kind.COUNT).note == "cycle count"

    stock_adjust(product=product, warehouse=wh, counted=15, reason="cycle count")
    assert f.quantities(product, wh) == (15, 0)
    assert [m[1] for m in f.movements(kind=Kind.COUNT)] == [-2, 7]
    f.assert_ledger_clean()


def test_count_equal_to_on_hand_writes_nothing(product, wh):
    f.receive(product, wh, 10)

    stock_adjust(product=product, warehouse=wh, counted=10, reason="cycle count")

    assert f.quantities(product, wh) == (10, 0)
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()


def test_count_of_a_product_never_stocked_there_creates_the_level(product, wh):
    level = stock_adjust(product=product, warehouse=wh, counted=4, reason="first count")

    assert (level.on_hand, level.reserved) == (4, 0)
    assert f.movements(product=product) == [(Kind.COUNT, 4, 0, "")]
    f.assert_ledger_clean()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_adjust_needs_a_reason(product, wh, reason):
    f.receive(product, wh, 10)

    with pytest.raises(StockError) as exc:
        stock_adjust(product=product, warehouse=wh, delta=-1, reason=reason)

    assert exc.value.field == "reason"
    assert f.quantities(product, wh) == (10, 0)
    assert f.movements(kind=Kind.ADJUSTMENT) == []


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({}, "delta"),
        ({"delta": 1, "counted": 1}, "delta"),
        ({"delta": 0}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": "2"}, "delta"),
        ({"delta": MAX_QUANTITY + 1}, "delta"),
        ({"counted": -1}, "counted"),
        ({"counted": "3"}, "counted"),
        ({"counted": MAX_QUANTITY + 1}, "counted"),
    ],
)
def test_adjust_refuses_bad_input(product, wh, kwargs, field):
    f.receive(product, wh, 10)

    with pytest.raises(StockError) as exc:
        stock_adjust(product=product, warehouse=wh, reason="check", **kwargs)

    assert exc.value.field == field
    assert f.quantities(product, wh) == (10, 0)
    assert len(f.movements()) == 1


def test_adjust_that_would_go_negative_is_refused(product, wh):
    f.receive(product, wh, 3)

    with pytest.raises(InsufficientStock):
        stock_adjust(product=product, warehouse=wh, delta=-4, reason="lost")

    assert f.quantities(product, wh) == (3, 0)
    assert f.movements(kind=Kind.ADJUSTMENT) == []
    f.assert_ledger_clean()


def test_adjust_below_reserved_is_refused(product, wh):
    f.receive(product, wh, 10)
    stock_reserve(product=product, warehouse=wh, quantity=6)

    with pytest.raises(InsufficientStock):
        stock_adjust(product=product, warehouse=wh, delta=-5, reason="lost")

    assert f.quantities(product, wh) == (10, 6)
    stock_adjust(product=product, warehouse=wh, delta=-4, reason="lost")
    assert f.quantities(product, wh) == (6, 6)
    f.assert_ledger_clean()


def test_counting_below_reserved_is_refused(product, wh):
    f.receive(product, wh, 10)
    stock_reserve(product=product, warehouse=wh, quantity=6)

    with pytest.raises(InsufficientStock, match="6 are reserved") as exc:
        stock_adjust(product=product, warehouse=wh, counted=5, reason="cycle count")

    assert exc.value.field == "counted"
    assert f.quantities(product, wh) == (10, 6)
    assert f.movements(kind=Kind.COUNT) == []

    stock_adjust(product=product, warehouse=wh, counted=6, reason="cycle count")
    assert f.quantities(product, wh) == (6, 6)
    f.assert_ledger_clean()


# --------------------------------------------------------------------------- transfer


def test_transfer_writes_two_movements(product, wh, other_wh):
    f.receive(product, wh, 10)

    source, destination = stock_transfer(
        product=product, source=wh, destination=other_wh, quantity=4, reference="TR-1"
    )

    assert (source.on_hand, source.reserved) == (6, 0)
    assert (destination.on_hand, destination.reserved) == (4, 0)
    assert f.movements(warehouse=wh, kind__startswith="transfer") == [
        (Kind.TRANSFER_OUT, -4, 0, "TR-1")
    ]
    assert f.movements(warehouse=other_wh) == [(Kind.TRANSFER_IN, 4, 0, "TR-1")]
    f.assert_ledger_clean()


def test_transfer_of_more_than_available_is_refused(product, wh, other_wh):
    f.receive(product, wh, 10)
    stock_reserve(product=product, warehouse=wh, quantity=7)

    with pytest.raises(InsufficientStock):
        stock_transfer(product=product, source=wh, destination=other_wh, quantity=4)

    assert f.quantities(product, wh) == (10, 7)
    assert not StockLevel.objects.filter(warehouse=other_wh, on_hand__gt=0).exists()
    assert not StockMovement.objects.filter(kind__startswith="transfer").exists()

    stock_transfer(product=product, source=wh, destination=other_wh, quantity=3)
    assert f.quantities(product, wh) == (7, 7)
    assert f.quantities(product, other_wh) == (3, 0)
    f.assert_ledger_clean()


def test_transfer_from_a_warehouse_without_stock_is_refused(product, wh, other_wh):
    with pytest.raises(InsufficientStock):
        stock_transfer(product=product, source=wh, destination=other_wh, quantity=1)

    assert not StockMovement.objects.exists()
    f.assert_ledger_clean()


def test_transfer_to_the_same_warehouse_is_refused(product, wh):
    f.receive(product, wh, 10)

    with pytest.raises(StockError) as exc:
        stock_transfer(product=product, source=wh, destination=wh, quantity=1)

    assert exc.value.field == "destination"
    assert f.quantities(product, wh) == (10, 0)
    assert not StockMovement.objects.filter(kind__startswith="transfer").exists()


def test_transfer_to_an_inactive_warehouse_is_refused(product, wh):
    closed = f.make_warehouse("CLOSED", active=False)
    f.receive(product, wh, 10)

    with pytest.raises(StockError) as exc:
        stock_transfer(product=product, source=wh, destination=closed, quantity=1)

    assert exc.value.field == "destination"
    assert f.quantities(product, wh) == (10, 0)


@pytest.mark.parametrize("quantity", [0, -1, 1.0, MAX_QUANTITY + 1])
def test_transfer_refuses_a_bad_quantity(product, wh, other_wh, quantity):
    f.receive(product, wh, 10)

    with pytest.raises(StockError) as exc:
        stock_transfer(product=product, source=wh, destination=other_wh, quantity=quantity)

    assert exc.value.field == "quantity"
    assert f.quantities(product, wh) == (10, 0)


# --------------------------------------------------------------------------- reserve / release


def test_reserve_and_release_move_reserved_with_their_movements(product, wh):
    f.receive(product, wh, 10)

    level = stock_reserve(product=product, warehouse=wh, quantity=4, reference="SH-1")
    assert (level.on_hand, level.reserved, level.available) == (10, 4, 6)

    level = stock_release(product=product, warehouse=wh, quantity=3, reference="SH-1")
    assert (level.on_hand, level.reserved, level.available) == (10, 1, 9)

    assert f.movements(reference="SH-1") == [
        (Kind.RESERVE, 0, 4, "SH-1"),
        (Kind.RELEASE, 0, -3, "SH-1"),
    ]
    f.assert_ledger_clean()


def test_reserve_everything_available_then_nothing_more(product, wh):
    f.receive(product, wh, 5)
    stock_reserve(product=product, warehouse=wh, quantity=5)

    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(product=product, warehouse=wh, quantity=1)

    assert exc.value.data["available"] == 0
    assert f.quantities(product, wh) == (5, 5)
    assert len(f.movements(kind=Kind.RESERVE)) == 1
    f.assert_ledger_clean()


def test_reserve_never_oversells(product, wh):
    f.receive(product, wh, 5)
    stock_reserve(product=product, warehouse=wh, quantity=2)

    with pytest.raises(InsufficientStock, match="available 3") as exc:
        stock_reserve(product=product, warehouse=wh, quantity=4)

    assert exc.value.data == {"sku": "SHIRT", "warehouse": "MAIN", "available": 3}
    assert f.quantities(product, wh) == (5, 2)
    assert [m[:3] for m in f.movements()] == [(Kind.RECEIPT, 5, 0), (Kind.RESERVE, 0, 2)]
    f.assert_ledger_clean()


def test_reserve_where_there_is_no_stock_level_is_refused(product, wh):
    with pytest.raises(InsufficientStock, match="No stock of SHIRT at MAIN"):
        stock_reserve(product=product, warehouse=wh, quantity=1)

    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


def test_release_of_more_than_reserved_is_refused(product, wh):
    f.receive(product, wh, 5)
    stock_reserve(product=product, warehouse=wh, quantity=2)

    with pytest.raises(InsufficientStock):
        stock_release(product=product, warehouse=wh, quantity=3)

    assert f.quantities(product, wh) == (5, 2)
    assert f.movements(kind=Kind.RELEASE) == []
    f.assert_ledger_clean()


@pytest.mark.parametrize("quantity", [0, -2, "1", 1.5])
def test_reserve_and_release_refuse_a_bad_quantity(product, wh, quantity):
    f.receive(product, wh, 5)
    stock_reserve(product=product, warehouse=wh, quantity=2)

    with pytest.raises(StockError):
        stock_reserve(product=product, warehouse=wh, quantity=quantity)
    with pytest.raises(StockError):
        stock_release(product=product, warehouse=wh, quantity=quantity)

    assert f.quantities(product, wh) == (5, 2)
    f.assert_ledger_clean()


def test_database_constraint_is_the_last_line_of_defence(product, wh):
    """Even a write that skips the service cannot reserve more than is on hand."""
    from django.db import IntegrityError, transaction

    f.receive(product, wh, 5)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(product=product, warehouse=wh).update(reserved=6)

    assert f.quantities(product, wh) == (5, 0)


def test_stock_apply_updates_levels_and_writes_the_ledger(product, wh, other_wh):
    """Several changes on two levels, one netting to zero: the levels move by their sums,
    every non-zero change gets its movement (returned with its primary key) and the
    ledger check stays clean."""
    from inventory.selectors import stock_ledger_mismatches
    from inventory.services import StockChange, stock_apply

    stock_receive(product=product, warehouse=wh, quantity=10)
    stock_receive(product=product, warehouse=other_wh, quantity=4)
    changes = [
        StockChange(product.pk, wh.pk, Kind.RESERVE, 0, 3, "SH-1", ""),
        StockChange(product.pk, wh.pk, Kind.RESERVE, 0, 2, "SH-2", ""),
        StockChange(product.pk, other_wh.pk, Kind.ADJUSTMENT, -1, 0, "", "broken"),
        StockChange(product.pk, other_wh.pk, Kind.ADJUSTMENT, 1, 0, "", "found"),
        StockChange(product.pk, other_wh.pk, Kind.RESERVE, 0, 0, "", "nothing"),
    ]
    movements = stock_apply(changes=changes, actor="tester")

    assert [m.pk is not None and not m._state.adding for m in movements] == [True] * 4
    stored = list(StockMovement.objects.filter(actor="tester").order_by("pk"))
    assert [(m.pk, m.kind, m.on_hand_delta, m.reserved_delta, m.reference) for m in movements] == [
        (m.pk, m.kind, m.on_hand_delta, m.reserved_delta, m.reference) for m in stored
    ]
    levels = {lv.warehouse_id: (lv.on_hand, lv.reserved) for lv in StockLevel.objects.all()}
    assert levels == {wh.pk: (10, 5), other_wh.pk: (4, 0)}
    assert stock_ledger_mismatches() == []
