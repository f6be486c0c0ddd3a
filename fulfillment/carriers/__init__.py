"""Carrier adapters: ``adapter_for(carrier)`` gives the adapter of a ``Carrier`` row.

See ``fulfillment.carriers.base`` for the interface (quote, book, track, void,
request_pickup)."""

from fulfillment.carriers.base import (  # noqa: F401
    Booking,
    CarrierAdapter,
    CarrierBadResponse,
    CarrierCannot,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    Parcel,
    ParcelBooking,
    Rate,
    TrackingEvent,
)
from fulfillment.carriers.easyparcel import EasyParcelCarrier
from fulfillment.carriers.http import HttpCarrier
from fulfillment.carriers.table_rate import TableRateCarrier
from fulfillment.models import Carrier

ADAPTERS: dict[str, type[CarrierAdapter]] = {
    Carrier.Kind.TABLE_RATE: TableRateCarrier,
    Carrier.Kind.HTTP: HttpCarrier,
    Carrier.Kind.EASYPARCEL: EasyParcelCarrier,
}


def adapter_for(carrier: Carrier) -> CarrierAdapter:
    try:
        return ADAPTERS[carrier.kind](carrier)
    except KeyError:
        raise CarrierError(f"Carrier {carrier.code} has an unknown kind {carrier.kind!r}") from None
