"""The built-in carrier: works offline from the rate tables.

Quotes come from ``ShippingRate`` rows of the carrier's active services: the row for the
destination's region replaces the country-wide row (blank region), and a weight band
covers ``min_weight_grams`` to ``max_weight_grams`` inclusive (at a shared boundary the
lower band, "up to N g", applies). Bookings get a tracking number in the UPU S10 layout
(two letters of the carrier, an 8-digit serial from the shipment, a mod-11 check digit,
the origin country) and a label rendered by ``fulfillment.documents``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from fulfillment import geo
from fulfillment.carriers.base import Booking, CarrierAdapter, Parcel, ParcelBooking, Rate
from fulfillment.models import ShippingRate

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_RE = re.compile(r"^[A-Z]{2}(\d{8})(\d)[A-Z]{2}$")


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def s10_valid(tracking_number: str) -> bool:
    match = S10_RE.match(tracking_number or "")
    return bool(match) and s10_check_digit(match.group(1)) == int(match.group(2))


def s10_number(prefix: str, serial: int, country: str) -> str:
    letters = (re.sub(r"[^A-Z]", "", prefix.upper()) + "XX")[:2]
    digits = f"{serial % 10**8:08d}"
    origin = (re.sub(r"[^A-Z]", "", (country or "").upper()) + "XX")[:2]
    return f"{letters}{digits}{s10_check_digit(digits)}{origin}"


class TableRateCarrier(CarrierAdapter):
    """Prices every box from the tables; a service quotes only when it takes every box
    (the price is the sum, the transit the slowest box's). Its labels are its own, so
    voiding one cancels nothing anywhere else; it takes no pickup requests."""

    supports_tracking = False
    supports_void = True

    def quote(self, shipment) -> list[Rate]:
        parcels = Parcel.all_of(shipment)
        country = parcels[0].destination.country
        if not country:
            return []
        region = geo.region_code(country, parcels[0].destination.region)
        per_box = [self._best(country, region, p.weight_grams) for p in parcels]
        services = set.intersection(*(set(best) for best in per_box))
        rates = []
        for service_id in sorted(services):
            rows = [best[service_id] for best in per_box]
            first = rows[0]
            rates.append(
                Rate(
                    carrier=self.carrier.code,
                    service=first.service.code,
                    service_name=first.service.name,
                    price=sum((row.price for row in rows), Decimal("0")),
                    currency=first.currency,
                    transit_days=max(row.transit_days for row in rows),
                    carrier_name=self.carrier.name,
                )
            )
        rates.sort(key=lambda r: r.service)
        return rates

    def _best(self, country: str, region: str, grams: int) -> dict[int, ShippingRate]:
        rows = (
            ShippingRate.objects.filter(
                service__carrier=self.carrier,
                service__active=True,
                country=country,
                min_weight_grams__lte=grams,
                max_weight_grams__gte=grams,
            )
            .select_related("service")
            .order_by("service__code", "pk")
        )
        best: dict[int, ShippingRate] = {}
        for row in rows:
            if row.region and geo.region_code(country, row.region) != region:
                continue
            current = best.get(row.service_id)
            if current is None or _rank(row) < _rank(current):
                best[row.service_id] = row
        return best

    def book(self, shipment, rate: Rate) -> Booking:
        from fulfillment.documents import merge_pdfs, render_label_pdf

        country = shipment.warehouse.country
        rows = list(shipment.parcels.order_by("sequence"))
        if not rows:
            tracking = s10_number(self.carrier.code, shipment.pk, country)
            label = render_label_pdf(shipment, tracking_number=tracking, rate=rate)
            return Booking(tracking_number=tracking, label_pdf=label)
        parcels = []
        for row in rows:
            tracking = s10_number(self.carrier.code, shipment.pk * 100 + row.sequence, country)
            label = render_label_pdf(shipment, tracking_number=tracking, rate=rate)
            parcels.append(ParcelBooking(tracking_number=tracking, label_pdf=label))
        return Booking(
            tracking_number=parcels[0].tracking_number,
            label_pdf=merge_pdfs([p.label_pdf for p in parcels]),
            parcels=tuple(parcels),
        )

    def void(self, shipment) -> None:
        """Nothing to cancel: the label and its number are ours."""


def _rank(row: ShippingRate) -> tuple:
    """Region-specific before country-wide; then the lower band; then the cheaper."""
    return (0 if row.region else 1, row.max_weight_grams, row.price, row.pk)
