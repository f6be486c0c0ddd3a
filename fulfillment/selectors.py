from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from fulfillment.models import Shipment, ShipmentLine


def shipment_queryset() -> QuerySet[Shipment]:
    return Shipment.objects.select_related("order", "warehouse", "pick_list").prefetch_related(
        Prefetch(
            "lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("pk")
        ),
        "parcels",
    )


# --------------------------------------------------------------------------- floor pages


def pick_queue(*, warehouse) -> QuerySet[Shipment]:
    """Shipments ready to pick at ``warehouse``: allocated, on no pick list, their order
    confirmed; most urgent first (at risk, then the earliest ship-by, orders without one
    last, then the oldest order), with their line and unit counts."""
    from django.db.models import Count, F, Sum

    from orders.models import Order

    return (
        Shipment.objects.filter(
            warehouse=warehouse,
            status=Shipment.Status.ALLOCATED,
            pick_list__isnull=True,
            order__status=Order.Status.CONFIRMED,
        )
        .select_related("order", "order__channel")
        .annotate(line_count=Count("lines"), units=Sum("lines__quantity"))
        .order_by(
            F("order__at_risk").desc(),
            F("order__ship_by").asc(nulls_last=True),
            "order__placed_at",
            "pk",
        )
    )


def ready_to_pick_by_code(*, warehouse, code: str) -> tuple[list[Shipment], str]:
    """The shipments a picker means by a scanned or typed shipment or order number: those
    of it ready to pick at ``warehouse``, or ([], why not)."""
    code = (code or "").strip()
    by_shipment = Shipment.objects.filter(number__iexact=code).select_related(
        "order", "warehouse", "pick_list"
    )
    shipments = list(by_shipment)
    if not shipments:
        shipments = list(
            Shipment.objects.filter(order__number__iexact=code)
            .exclude(status=Shipment.Status.CANCELLED)
            .select_related("order", "warehouse", "pick_list")
            .order_by("pk")
        )
        if not shipments:
            return [], _("No order or shipment %(code)s") % {"code": code}
    ready = list(pick_queue(warehouse=warehouse).filter(pk__in=[s.pk for s in shipments]))
    if ready:
        return ready, ""
    here = [s for s in shipments if s.warehouse_id == warehouse.pk]
    if not here:
        points = ", ".join(sorted({s.warehouse.code for s in shipments}))
        return [], _("%(code)s ships from %(points)s, not %(here)s") % {
            "code": code.upper(),
            "points": points,
            "here": warehouse.code,
        }
    first = here[0]
    if first.pick_list_id:
        return [], _("%(number)s is already on %(wave)s (%(status)s)") % {
            "number": first.number,
            "wave": first.pick_list.number,
            "status": first.get_status_display().lower(),
        }
    if first.order.status != "confirmed":
        return [], _("Order %(number)s is %(status)s") % {
            "number": first.order.number,
            "status": first.order.get_status_display().lower(),
        }
    return [], _("%(number)s is %(status)s: nothing to pick") % {
        "number": first.number,
        "status": first.get_status_display().lower(),
    }


def pick_list_shipments(*, pick_list) -> list[Shipment]:
    """The wave's shipments in tote order (oldest order first), with their order."""
    return list(
        Shipment.objects.filter(pick_list=pick_list)
        .select_related("order")
        .order_by("order__placed_at", "pk")
    )


def pick_list_lines(*, pick_list) -> list[dict]:
    """The wave's pick lines: the lines of its shipments (cancelled ones left out) summed
    per product, in walking order (bin, then SKU). Two queries whatever the size.

    Each row: ``product_id``, ``sku``, ``name``, ``barcode``, ``bin``, ``quantity``,
    ``picked``, ``left``."""
    from django.db.models import F, Sum

    from inventory.models import StockLevel

    rows = list(
        ShipmentLine.objects.filter(shipment__pick_list=pick_list)
        .exclude(shipment__status=Shipment.Status.CANCELLED)
        .values(
            product_id=F("order_line__product_id"),
            sku=F("order_line__product__sku"),
            name=F("order_line__product__name"),
            barcode=F("order_line__product__barcode"),
        )
        .annotate(quantity=Sum("quantity"), picked=Sum("quantity_picked"))
        .order_by()
    )
    bins = dict(
        StockLevel.objects.filter(
            warehouse_id=pick_list.warehouse_id, product_id__in=[r["product_id"] for r in rows]
        ).values_list("product_id", "bin")
    )
    for row in rows:
        row["bin"] = bins.get(row["product_id"]) or ""
        row["left"] = row["quantity"] - row["picked"]
    rows.sort(key=lambda r: (r["bin"] == "", r["bin"], r["sku"]))
    return rows
