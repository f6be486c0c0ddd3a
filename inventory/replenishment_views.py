"""The replenishment page (managers): reorder suggestions per SKU and point, sortable,
filterable, and the same rows as CSV (``/replenishment/export.csv``)."""

from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inventory import purchasing, replenishment
from inventory.models import DemandForecast, LowStockAlert, Product, Warehouse
from kernel.csvio import write_csv
from kernel.views import manager_required

CSV_COLUMNS = [
    "sku",
    "name",
    "warehouse",
    "on_hand",
    "reserved",
    "available",
    "backordered",
    "on_order",
    "daily_demand",
    "days_of_cover",
    "lead_time_days",
    "demand_over_lead_time",
    "safety_stock",
    "reorder_point",
    "manual_reorder_point",
    "order_quantity",
    "order_by",
    "status",
    "method",
    "sigma",
    "wape",
]
COLUMNS = [
    # sort key, heading, numeric
    ("sku", "SKU", False),
    ("warehouse", "Point", False),
    ("available", "Available", True),
    ("daily_demand", "Per day", True),
    ("days_of_cover", "Days of cover", True),
    ("reorder_point", "Reorder point", True),
    ("order_quantity", "Order qty", True),
    ("order_by", "Order by", False),
    ("status", "Status", False),
    ("wape", "WAPE", True),
]


def _rows(request):
    try:
        return replenishment.filter_rows(replenishment.suggestions(), request.GET)
    except replenishment.BadFilter as exc:
        messages.error(
            request, _("%(field)s: %(message)s") % {"field": exc.field, "message": exc.message}
        )
        params = {k: v for k, v in request.GET.items() if k != exc.field}
        return replenishment.filter_rows(replenishment.suggestions(), params)


@manager_required
def replenishment_list(request):
    rows = _rows(request)
    sort = request.GET.get("sort") or "order_by"
    params = request.GET.copy()
    params.pop("sort", None)
    base = params.urlencode()
    headings = []
    for key, label, numeric in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        headings.append(
            {
                "label": label,
                "numeric": numeric,
                "url": f"?{base + '&' if base else ''}sort={target}",
                "arrow": ("▼" if descending else "▲") if current else "",
            }
        )
    latest = DemandForecast.objects.order_by("-computed_at").values_list("computed_at", flat=True)[
        :1
    ]
    return render(
        request,
        "inventory/replenishment_list.html",
        {
            "rows": rows,
            "headings": headings,
            "labels": replenishment.STATUS_LABELS,
            "warehouses": Warehouse.objects.filter(active=True).values_list("code", flat=True),
            "selected": {k: request.GET.get(k, "") for k in ("q", "warehouse", "status", "low")},
            "export_url": f"export.csv?{request.GET.urlencode()}",
            "computed_at": latest[0] if latest else None,
            "open_alerts": LowStockAlert.objects.filter(status=LowStockAlert.Status.OPEN).count(),
            "service_level": replenishment.service_level(),
            "review_days": replenishment.review_days(),
            "counts": {
                status: sum(1 for r in rows if r.status == status)
                for status in replenishment.STATUS_LABELS
            },
        },
    )


@manager_required
def replenishment_export(request):
    rows = _rows(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="replenishment-{stamp}.csv"'
    write_csv(
        (
            [
                data[c].isoformat()
                if isinstance(data[c], date)
                else ("" if data[c] is None else data[c])
                for c in CSV_COLUMNS
            ]
            for data in (row.as_dict() for row in rows)
        ),
        response,
        header=CSV_COLUMNS,
    )
    return response


DRAFTABLE = ("order_now", "order_soon")


@manager_required
@require_POST
def replenishment_purchase_orders(request):
    """The selected suggestions (``pick`` = ``SKU@point``, point empty for the row over
    all points) to order now or within a week -> draft purchase orders, one per supplier
    and point (``purchase_orders_from_suggestions``). Rows are computed again now, with
    what is already on order, so a row a draft already covers is not ordered twice."""
    picks = request.POST.getlist("pick")
    wanted = {tuple(p.rsplit("@", 1)) for p in picks if "@" in p}
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("replenishment")
    back = redirect(target or reverse("replenishment"))
    if not wanted:
        messages.error(request, _("Select the suggestions to order first"))
        return back
    products = Product.objects.in_bulk([sku for sku, _ in wanted], field_name="sku")
    rows = replenishment.suggestions(product_ids=[p.pk for p in products.values()])
    chosen = [
        r
        for r in rows
        if (r.sku, r.warehouse) in wanted and r.status in DRAFTABLE and r.order_quantity > 0
    ]
    points = Warehouse.objects.in_bulk(
        [r.warehouse for r in chosen if r.warehouse], field_name="code"
    )
    result = purchasing.purchase_orders_from_suggestions(
        items=[
            (products[r.sku], points.get(r.warehouse) if r.warehouse else None, r.order_quantity)
            for r in chosen
        ],
        actor=request.user,
    )
    if result.purchase_orders:
        messages.success(
            request,
            f"Drafted {len(result.purchase_orders)} purchase order(s): "
            + ", ".join(
                f"{po.number} ({po.supplier.code} → {po.warehouse.code})"
                for po in result.purchase_orders
            ),
        )
    if result.without_supplier:
        messages.error(request, "No supplier to order from: " + ", ".join(result.without_supplier))
    skipped = len(wanted) - len(chosen)
    if skipped:
        messages.info(
            request, _("%(skipped)s selected row(s) need no order now") % {"skipped": skipped}
        )
    return back
