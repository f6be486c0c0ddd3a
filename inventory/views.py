"""Stock pages on the warehouse floor: look up a SKU, barcode or bin; cycle count a
stock level (the difference goes to the ledger as a ``count`` with the counter's name);
receive a delivery against a reference (``stock_receive``)."""

from datetime import timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.exceptions import CountNeedsConfirmation
from inventory.forms import CountForm, ReceiveForm, StockPageFilter
from inventory.models import PurchaseOrder, StockLevel, StockMovement, Warehouse
from inventory.selectors import incoming, product_by_code, stock_level_list
from inventory.services import stock_count, stock_receive
from kernel.exceptions import DomainError
from kernel.views import filter_params, floor_required

RESULTS = 100


@floor_required
def lookup(request):
    """Find stock by SKU, barcode, bin or name; one hit opens its page."""
    warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code"))
    params = filter_params(request.GET)
    stock_filter = StockPageFilter(
        params or None,
        queryset=stock_level_list().order_by("product__sku", "warehouse__priority", "pk"),
    )
    searched = bool(request.GET.get("q", "").strip())
    levels = list(stock_filter.qs[: RESULTS + 1]) if params else []
    if searched and len(levels) == 1:
        return redirect("stock:level", levels[0].pk)
    if searched and not levels:
        messages.error(request, _("Nothing found for %(q)s") % {"q": request.GET["q"].strip()})
    return render(
        request,
        "inventory/stock_lookup.html",
        {
            "filter": stock_filter,
            "levels": levels[:RESULTS],
            "more": len(levels) > RESULTS,
            "warehouses": warehouses,
            "searched": bool(params),
            "report": [] if params else adjustment_report(),
            "report_days": REPORT_DAYS,
        },
    )


def _level_or_404(pk: int) -> StockLevel:
    return get_object_or_404(stock_level_list(), pk=pk)


def _picked_not_shipped(level: StockLevel) -> int:
    """Units of this level already picked into totes for shipments not yet shipped: off
    the shelf but still on hand, so a shelf count adds them back (as a short pick does).
    (inventory sits below fulfillment: the model is named, not imported.)"""
    ShipmentLine = apps.get_model("fulfillment", "ShipmentLine")
    return (
        ShipmentLine.objects.filter(
            order_line__product_id=level.product_id,
            shipment__warehouse_id=level.warehouse_id,
            shipment__status__in=["allocated", "picking", "picked", "packed"],
        ).aggregate(n=Sum("quantity_picked"))["n"]
        or 0
    )


REPORT_DAYS = 30


def adjustment_report(*, level: StockLevel | None = None, days: int = REPORT_DAYS) -> list[dict]:
    """Counts and adjustments of the last ``days`` by reason code: rows, units in and
    out. For one stock level, or for every level (the stock page)."""
    since = timezone.now() - timedelta(days=days)
    rows = StockMovement.objects.filter(
        kind__in=[StockMovement.Kind.COUNT, StockMovement.Kind.ADJUSTMENT],
        created_at__gte=since,
    )
    if level is not None:
        rows = rows.filter(product_id=level.product_id, warehouse_id=level.warehouse_id)
    labels = dict(StockMovement.ReasonCode.choices)
    report = []
    for row in (
        rows.values("reason_code")
        .annotate(
            n=Count("id"),
            units_in=Sum("on_hand_delta", filter=Q(on_hand_delta__gt=0)),
            units_out=Sum("on_hand_delta", filter=Q(on_hand_delta__lt=0)),
        )
        .order_by("reason_code")
    ):
        report.append(
            {
                "code": row["reason_code"],
                "label": labels.get(row["reason_code"], "No reason given"),
                "count": row["n"],
                "units_in": row["units_in"] or 0,
                "units_out": -(row["units_out"] or 0),
            }
        )
    return report


@floor_required
def level(request, pk):
    """One stock level: quantities, bin, recent ledger rows, the cycle count form and its
    adjustments by reason. A count far from on_hand asks for confirmation and a reason
    code (``stock_count``) before anything is written."""
    stock = _level_or_404(pk)
    in_totes = _picked_not_shipped(stock)
    form = CountForm()
    confirm = None
    if request.method == "POST":
        form = CountForm(request.POST)
        if form.is_valid():
            shelf = form.cleaned_data["counted"]
            counted = shelf + in_totes
            before = stock.on_hand
            try:
                stock_count(
                    product=stock.product,
                    warehouse=stock.warehouse,
                    counted=counted,
                    reason_code=form.cleaned_data["reason_code"],
                    confirmed=form.cleaned_data["confirm"],
                    actor=request.user,
                )
            except CountNeedsConfirmation as exc:
                if form.cleaned_data["confirm"]:
                    messages.error(request, _("Choose the reason for this difference"))
                confirm = {
                    "shelf": shelf,
                    "counted": counted,
                    "on_hand": exc.data["on_hand"],
                    "difference": exc.data["difference"],
                    "percent": round(
                        abs(exc.data["difference"]) * 100 / (exc.data["on_hand"] or counted)
                    ),
                }
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                diff = counted - before
                code = form.cleaned_data["reason_code"]
                messages.success(
                    request,
                    f"Counted {shelf} of {stock.product.sku} at {stock.warehouse.code}"
                    + (f" (+ {in_totes} picked, not shipped)" if in_totes else "")
                    + ": "
                    + (f"on hand {before} → {counted} ({diff:+d})" if diff else "matches")
                    + (f", reason: {StockMovement.ReasonCode(code).label.lower()}" if code else "")
                    + ".",
                )
                return redirect("stock:level", stock.pk)
        else:
            messages.error(request, _("Type the number of units counted on the shelf"))
    movements = list(
        StockMovement.objects.filter(product=stock.product, warehouse=stock.warehouse).order_by(
            "-created_at", "-pk"
        )[:20]
    )
    return render(
        request,
        "inventory/stock_level.html",
        {
            "level": stock,
            "form": form,
            "confirm": confirm,
            "reason_codes": StockMovement.ReasonCode.choices,
            "movements": movements,
            "in_totes": in_totes,
            "report": adjustment_report(level=stock),
            "report_days": REPORT_DAYS,
            "incoming": [  # purchase orders sent and transfers in transit, due here
                r
                for r in incoming(product_ids=[stock.product_id])
                if r.warehouse_id == stock.warehouse_id
            ],
        },
    )


@floor_required
def receive(request):
    """Goods in: a delivery reference, then scan each product (``5*SKU`` for five)."""
    warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code"))
    initial = {
        "warehouse": request.GET.get("warehouse") or request.session.get("floor_warehouse"),
        "reference": request.GET.get("reference", ""),
        "quantity": 1,
    }
    if request.method == "POST":
        form = ReceiveForm(request.POST, warehouses=warehouses)
        if form.is_valid():
            data = form.cleaned_data
            warehouse = next(w for w in warehouses if w.code == data["warehouse"])
            product = product_by_code(data["code"])
            back = (
                reverse("stock:receive")
                + "?"
                + urlencode({"warehouse": warehouse.code, "reference": data["reference"]})
            )
            if product is None:
                messages.error(
                    request, _("Unknown barcode or SKU: %(code)s") % {"code": data["code"]}
                )
                return redirect(back)
            if PurchaseOrder.objects.filter(number=data["reference"].upper()).exists():
                # Received against the order itself, so that it knows what came.
                messages.error(
                    request,
                    _("%(reference)s is a purchase order: receive it here")
                    % {"reference": data["reference"]},
                )
                return redirect("stock:receive-po", data["reference"].upper())
            try:
                stock = stock_receive(
                    product=product,
                    warehouse=warehouse,
                    quantity=data["quantity"],
                    reference=data["reference"],
                    note=f"received by {request.user.get_username()}",
                    actor=request.user,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    f"✓ {data['quantity']} × {product.sku} received at {warehouse.code}"
                    + (f", bin {stock.bin}" if stock.bin else "")
                    + f" · on hand {stock.on_hand}",
                )
            return redirect(back)
        messages.error(request, _("Fill in the point, the reference and the product"))
    else:
        form = ReceiveForm(initial=initial, warehouses=warehouses)
    reference = (form.data.get("reference") if form.is_bound else initial["reference"]) or ""
    received = []
    if reference:
        received = list(
            StockMovement.objects.filter(kind=StockMovement.Kind.RECEIPT, reference=reference)
            .select_related("product", "warehouse")
            .order_by("-created_at", "-pk")[:50]
        )
    return render(
        request,
        "inventory/stock_receive.html",
        {"form": form, "reference": reference, "received": received},
    )
