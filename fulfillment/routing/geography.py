"""Where points and destinations are: a point's place, distances, the per-plan map of points."""

import math
from collections.abc import Sequence

from fulfillment import geo
from fulfillment.routing.plans import Destination, RoutingContext
from inventory.models import Warehouse

# --------------------------------------------------------------------------- geography


def point_place(warehouse: Warehouse) -> geo.Place | None:
    """A point's own coordinates when set, else its region/country from the table."""
    if warehouse.latitude is not None and warehouse.longitude is not None:
        return geo.Place(
            float(warehouse.latitude), float(warehouse.longitude), warehouse.code, "exact"
        )
    return geo.locate(warehouse.country, warehouse.region)


def distance_km(destination: Destination | None, warehouse: Warehouse) -> float | None:
    """Great-circle km from the located address to the point, when both can be located."""
    place = point_place(warehouse)
    if destination is None or destination.place is None or place is None:
        return None
    return geo.haversine_km(destination.place.coordinates, place.coordinates)


class _Map:
    """Distances of the candidate points from the destination, and the `nearest` order."""

    def __init__(self, warehouses: Sequence[Warehouse], context: RoutingContext | None):
        self.destination = context.destination if context else None
        self.km = {w.pk: distance_km(self.destination, w) for w in warehouses}

    def _tier(self, w: Warehouse) -> int:
        dest = self.destination
        km = self.km.get(w.pk)
        if dest and dest.place and dest.place.precision == "region" and km is not None:
            return 0  # both located: by distance
        if dest and dest.country and w.country.upper() == dest.country:
            same_region = dest.region and geo.region_code(w.country, w.region) == dest.region
            return 1 if same_region else 2
        return 3

    def nearest_key(self, w: Warehouse) -> tuple:
        tier = self._tier(w)
        km = self.km.get(w.pk)
        if tier == 0:
            return (0, km, w.priority, w.code)
        if tier == 3:
            return (3, math.inf if km is None else km, w.priority, w.code)
        return (tier, 0, w.priority, w.code)

    def priority_key(self, w: Warehouse) -> tuple:
        km = self.km.get(w.pk)
        return (w.priority, math.inf if km is None else km, w.code)

    def where(self, w: Warehouse) -> str:
        """How far, in words: "12 km", "~350 km" (the point located by its region too),
        "same region SP", "same country BR" or ""."""
        tier = self._tier(w)
        km = self.km.get(w.pk)
        own = w.latitude is not None and w.longitude is not None
        dest = self.destination
        same_region = (
            dest is not None
            and bool(dest.region)
            and w.country.upper() == dest.country
            and geo.region_code(w.country, w.region) == dest.region
        )
        if tier in (0, 3) and km is not None and (own or not same_region):
            return f"{km:,.0f} km" if own else f"~{km:,.0f} km"
        if tier == 1 or same_region:
            return f"same region {self.destination.region}"
        if tier == 2:
            return f"same country {self.destination.country}"
        return ""

    def headline(self) -> str:
        dest = self.destination
        if dest is None or not (dest.country or dest.region):
            return "Shipping address unknown; ranked by priority"
        if dest.place and dest.place.precision == "region":
            return f"Nearest to {dest.label} (located at {dest.place.label})"
        if dest.place:
            return (
                f"{dest.label} located only at the {dest.place.label}; ranked by same "
                "region, then same country, then distance, then priority"
            )
        return f"No coordinates for {dest.label}; ranked by same region, then country, priority"
