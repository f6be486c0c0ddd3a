"""Transfers with stock in transit: dispatch, partial arrival, loss, and the ledger
invariant over what is in transit."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory.exceptions import InsufficientStock, StockError
from inventory.models import StockMovement, Transfer, TransferLine
from inventory.selectors import in_transit_by_level, inbound_ledger_mismatches, next_expected
from inventory.transfers import (
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from kernel.exceptions import InvalidTransition
from tests import factories as f

pytestmark = pytest.mark.django_db
Status = Transfer.Status


@pytest.fixture
def sp():
    return f.make_warehouse("SP-01", priority=1)


@pytest.fixture
def rj():
    return f.make_warehouse("RJ-01", priority=2)


@pytest.fixture
def mug():
    return f.make_product("MUG-BLU")


def _transfer(sp, rj, mug, quantity=10, **kw):
    return transfer_create(
        source=sp, destination=rj, lines=[{"product": mug, "quantity": quantity}], **kw
    )


def test_dispatch_takes_stock_off_the_source_and_counts_it_in_transit(sp, rj, mug):
    f.receive(mug, sp, 12)
    day = timezone.localdate() + timedelta(days=4)
    transfer = _transfer(sp, rj, mug)
    assert f.quantities(mug, sp) == (12, 0)  # a draft moves nothing

    transfer_dispatch(transfer=transfer, expected_date=day)

    transfer.refresh_from_db()
    assert transfer.status == Status.IN_TRANSIT
    assert f.quantities(mug, sp) == (2, 0)
    assert in_transit_by_level() == {(mug.pk, rj.pk): 10}
    assert next_expected() == {(mug.pk, rj.pk): day}
    assert f.movements(product=mug, warehouse=sp)[-1] == ("transfer_out", -10, 0, transfer.number)
    assert not StockMovement.objects.filter(product=mug, warehouse=rj).exists()
    f.assert_ledger_clean()


def test_partial_arrival_then_the_rest_with_a_loss(sp, rj, mug):
    f.receive(mug, sp, 10)
    transfer = transfer_dispatch(transfer=_transfer(sp, rj, mug))

    transfer_receive(transfer=transfer, received=[(mug, 6)])
    transfer.refresh_from_db()
    assert transfer.status == Status.PARTIALLY_RECEIVED
    assert f.quantities(mug, rj) == (6, 0)
    assert in_transit_by_level() == {(mug.pk, rj.pk): 4}

    transfer_receive(transfer=transfer, received=[(mug, 3)], lost=[(mug, 1)], note="box crushed")

    transfer.refresh_from_db()
    line = transfer.lines.get()
    assert transfer.status == Status.RECEIVED
    assert (line.quantity_received, line.quantity_lost, line.in_transit) == (9, 1, 0)
    assert f.quantities(mug, rj) == (9, 0)
    assert f.quantities(mug, sp) == (0, 0)
    assert in_transit_by_level() == {}
    assert "Lost in transit: MUG-BLU x1 (box crushed)" in transfer.events.get(kind="lost").message
    f.assert_ledger_clean()


def test_more_than_in_transit_is_refused_and_changes_nothing(sp, rj, mug):
    f.receive(mug, sp, 10)
    transfer = transfer_dispatch(transfer=_transfer(sp, rj, mug, 5))

    with pytest.raises(StockError, match="only 5 in transit"):
        transfer_receive(transfer=transfer, received=[(mug, 4)], lost=[(mug, 2)])

    assert TransferLine.objects.get().quantity_received == 0
    assert not StockMovement.objects.filter(warehouse=rj).exists()


def test_dispatch_cannot_take_reserved_stock(sp, rj, mug):
    f.receive(mug, sp, 5)
    f.confirm(f.place([(mug, 3)]))
    transfer = _transfer(sp, rj, mug, 4)

    with pytest.raises(InsufficientStock):
        transfer_dispatch(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == Status.DRAFT
    assert f.quantities(mug, sp) == (5, 3)


def test_only_a_draft_can_be_cancelled(sp, rj, mug):
    f.receive(mug, sp, 10)
    draft = _transfer(sp, rj, mug, 2)
    transfer_cancel(transfer=draft)
    draft.refresh_from_db()
    assert draft.status == Status.CANCELLED

    moving = transfer_dispatch(transfer=_transfer(sp, rj, mug, 2))
    with pytest.raises(InvalidTransition):
        transfer_cancel(transfer=moving)
    with pytest.raises(InvalidTransition):
        transfer_dispatch(transfer=moving)
    f.assert_ledger_clean()


def test_ledger_check_catches_in_transit_units_the_ledger_does_not_explain(sp, rj, mug):
    f.receive(mug, sp, 10)
    transfer = transfer_dispatch(transfer=_transfer(sp, rj, mug, 8))
    transfer_receive(transfer=transfer, received=[(mug, 3)])
    assert inbound_ledger_mismatches() == []

    # A line edited behind the services' back: 2 more "arrived" with no ledger row.
    TransferLine.objects.filter(transfer=transfer).update(quantity_received=5)

    assert inbound_ledger_mismatches() == [
        {
            "reference": transfer.number,
            "sku": "MUG-BLU",
            "dispatched": 8,
            "ledger_out": 8,
            "received": 5,
            "ledger_in": 3,
            "lost": 0,
            "in_transit": 3,
        }
    ]
    out = StringIO()
    with pytest.raises(CommandError, match="1 transfer/purchase order line"):
        call_command("check_stock_ledger", stdout=out)
    assert (
        f"MISMATCH {transfer.number} MUG-BLU: dispatched 8 (ledger 8), received 5" in out.getvalue()
    )
