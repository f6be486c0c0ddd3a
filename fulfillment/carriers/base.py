"""The carrier interface: every courier integration is an adapter with these calls.

``quote(shipment) -> [Rate]``          the services that can take the shipment's
                                       parcels (all of them: one price for the set)
``book(shipment, rate) -> Booking``    a tracking number and the label (PDF bytes),
                                       one per parcel when it goes in several
``track(tracking_number) -> [TrackingEvent]``  the carrier's scans (adapters that can)
``void(shipment)``                     cancel a booked label before hand-over
                                       (``supports_void``; others refuse clearly)
``request_pickup(manifest, shipments) -> str``  ask the carrier to collect the day's
                                       parcels (``supports_pickup``); the reference

Adapters talk to the outside world only; they never change our rows. The services in
``fulfillment.services.shipping`` choose a rate, call ``book`` and then ship the
shipment through ``shipment_ship``; tracking events go through
``shipment_record_tracking``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from kernel.exceptions import DomainError

if TYPE_CHECKING:
    from fulfillment.models import Carrier, Shipment


# --------------------------------------------------------------------------- errors


class CarrierError(DomainError):
    """The courier could not do what we asked: it is down, slow, refused the request or
    answered something we cannot read. Bad gateway (502) at the API."""

    code = "carrier_error"
    status_code = 502


class CarrierUnavailable(CarrierError):
    """Timeouts, refused connections and 5xx answers, after the bounded retries."""

    code = "carrier_unavailable"


class CarrierBadResponse(CarrierError):
    """The courier answered, but not with what its API promises (not JSON, fields
    missing or of the wrong type, a label that is not a PDF)."""

    code = "carrier_bad_response"


class CarrierRefused(CarrierError):
    """The courier refused the request (a 4xx answer: bad address, no service there)."""

    code = "carrier_refused"


class CarrierCannot(CarrierError):
    """We asked the adapter for something its courier does not offer (voiding a label,
    a pickup request, several parcels): a conflict, not a gateway failure."""

    code = "carrier_not_supported"
    status_code = 409


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Rate:
    """One service's price for one parcel. ``transit_days`` are business days from
    hand-over; ``estimated_delivery`` is filled in by rate shopping."""

    carrier: str  # Carrier.code
    service: str  # CarrierService.code (or the courier's own service code)
    service_name: str
    price: Decimal
    currency: str
    transit_days: int
    carrier_name: str = ""
    estimated_delivery: date | None = None

    @property
    def code(self) -> str:
        return f"{self.carrier}/{self.service}"

    @property
    def label(self) -> str:
        return f"{self.carrier_name or self.carrier} {self.service_name or self.service}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["price"] = str(self.price)
        data["estimated_delivery"] = (
            self.estimated_delivery.isoformat() if self.estimated_delivery else None
        )
        data["code"] = self.code
        return data


@dataclass(frozen=True)
class ParcelBooking:
    """One box of a booking: its tracking number, label and the carrier's reference."""

    tracking_number: str
    label_pdf: bytes | None = None
    carrier_reference: str = ""


@dataclass(frozen=True)
class Booking:
    """What the carrier gave us for a booked shipment: the first parcel's tracking
    number, the label of all parcels (one PDF), and each parcel's own when several."""

    tracking_number: str
    label_pdf: bytes | None = None
    carrier_reference: str = ""
    label_url: str = ""
    parcels: tuple[ParcelBooking, ...] = ()


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier scan, already mapped to our codes (``TrackingEvent.Code`` of the
    model: in_transit, out_for_delivery, delivered, exception)."""

    code: str
    occurred_at: datetime
    description: str = ""
    location: str = ""


@dataclass(frozen=True)
class Address:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Parcel:
    """A shipment as a courier sees it: weight, size, from, to."""

    reference: str
    weight_grams: int
    origin: Address
    destination: Address
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, shipment: Shipment) -> Parcel:
        order = shipment.order
        warehouse = shipment.warehouse
        return cls(
            reference=shipment.number,
            weight_grams=shipment_weight_grams(shipment),
            origin=Address(
                name=warehouse.name,
                city=warehouse.city,
                region=warehouse.region,
                postcode=warehouse.postcode,
                country=warehouse.country,
            ),
            destination=Address(
                name=order.ship_name,
                line1=order.ship_line1,
                line2=order.ship_line2,
                city=order.ship_city,
                region=order.ship_region,
                postcode=order.ship_postcode,
                country=(order.ship_country or "").upper(),
                phone=order.ship_phone,
            ),
            length_cm=shipment.length_cm,
            width_cm=shipment.width_cm,
            height_cm=shipment.height_cm,
        )

    @classmethod
    def all_of(cls, shipment: Shipment) -> list[Parcel]:
        """The shipment's boxes: one per ``ShipmentParcel`` row, else the shipment as
        one box."""
        whole = cls.of(shipment)
        rows = list(shipment.parcels.order_by("sequence"))
        if not rows:
            return [whole]
        return [
            replace(
                whole,
                reference=f"{shipment.number}-{row.sequence}",
                weight_grams=row.weight_grams,
                length_cm=row.length_cm,
                width_cm=row.width_cm,
                height_cm=row.height_cm,
            )
            for row in rows
        ]

    def as_dict(self) -> dict:
        def dim(value):
            return None if value is None else str(value)

        return {
            "reference": self.reference,
            "weight_grams": self.weight_grams,
            "length_cm": dim(self.length_cm),
            "width_cm": dim(self.width_cm),
            "height_cm": dim(self.height_cm),
        }


def shipment_weight_grams(shipment: Shipment) -> int:
    """The weighed package when it was weighed at packing, else the products' weights."""
    if shipment.weight_grams:
        return shipment.weight_grams
    return sum(
        line.order_line.product.weight_grams * line.quantity
        for line in shipment.lines.select_related("order_line__product")
    )


# --------------------------------------------------------------------------- adapter


class CarrierAdapter:
    """Base of the adapters. Subclasses set ``supports_tracking`` when ``track`` works,
    ``supports_void`` when the courier cancels a booked label, ``supports_pickup`` when
    it takes pickup requests."""

    supports_tracking = False
    supports_void = False
    supports_pickup = False
    # Printed on the manifest of a carrier without pickup requests.
    pickup_note = "No pickup request: hand the parcels to the driver with this manifest"

    def __init__(self, carrier: Carrier):
        self.carrier = carrier

    def quote(self, shipment: Shipment) -> list[Rate]:
        raise NotImplementedError

    def book(self, shipment: Shipment, rate: Rate) -> Booking:
        raise NotImplementedError

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        raise CarrierError(f"{self.carrier.code} does not report tracking events")

    def void(self, shipment: Shipment) -> None:
        raise CarrierCannot(
            f"{self.carrier.code} cannot cancel a booked label through its API: cancel it "
            "with the courier, then ship the parcel or record its new label"
        )

    def request_pickup(self, manifest, shipments) -> str:
        raise CarrierCannot(f"{self.carrier.code} takes no pickup requests through its API")
