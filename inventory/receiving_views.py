"""Receiving on the floor against a document: a purchase order (``/floor/stock/receive/
po/<number>/``) or a transfer arriving (``/floor/stock/receive/transfer/<number>/``).

Scan a product's barcode or SKU (``3*SKU`` for three): each scan receives through
``purchase_order_receive`` / ``transfer_receive``, so the ledger rows carry the document
number. An over-receipt on a PO is accepted and shown in amber; what did not come is
closed short (PO) or recorded lost (transfer). A refused scan (not on the document,
more than in transit) shows in red and changes nothing.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from inventory import purchasing, transfers
from inventory.models import PurchaseOrder, Transfer
from inventory.selectors import product_by_code
from inventory.services import MAX_QUANTITY
from kernel.exceptions import DomainError
from kernel.views import floor_required

OPEN_LISTED = 50


class ScanForm(forms.Form):
    code = forms.CharField(max_length=128, strip=True)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)

    def clean(self):
        data = super().clean()
        code = data.get("code", "")
        quantity = data.get("quantity") or 1
        if "*" in code:
            qty, _, rest = code.partition("*")
            if qty.strip().isdigit() and rest.strip() and 0 < int(qty) <= MAX_QUANTITY:
                quantity, code = int(qty), rest.strip()
        data["code"], data["quantity"] = code, quantity
        return data


class LostForm(forms.Form):
    sku = forms.CharField(max_length=64)
    lost = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    note = forms.CharField(max_length=200, required=False)


@floor_required
def receive_documents(request):
    """Scan a PO or transfer number to receive against it; lists what is due."""
    code = request.GET.get("number", "").strip().upper()
    if code:
        if PurchaseOrder.objects.filter(number=code).exists():
            return redirect("stock:receive-po", code)
        if Transfer.objects.filter(number=code).exists():
            return redirect("stock:receive-transfer", code)
        messages.error(request, _("No purchase order or transfer %(code)s") % {"code": code})
    pos = list(
        PurchaseOrder.objects.filter(status__in=PurchaseOrder.DUE_STATUSES)
        .select_related("supplier", "warehouse")
        .order_by("expected_date", "number")[:OPEN_LISTED]
    )
    moving = list(
        Transfer.objects.filter(status__in=Transfer.IN_TRANSIT_STATUSES)
        .select_related("source", "destination")
        .order_by("expected_date", "number")[:OPEN_LISTED]
    )
    return render(request, "inventory/receive_documents.html", {"pos": pos, "transfers": moving})


def _scan_product(request, form):
    product = product_by_code(form.cleaned_data["code"])
    if product is None:
        messages.error(
            request, _("Unknown barcode or SKU: %(code)s") % {"code": form.cleaned_data["code"]}
        )
    return product


@floor_required
def receive_po(request, number):
    po = get_object_or_404(
        PurchaseOrder.objects.select_related("supplier", "warehouse"), number=number
    )
    back = reverse("stock:receive-po", args=[po.number])
    if request.method == "POST":
        if request.POST.get("close") == "short":
            if request.POST.get("confirm") != "yes":
                messages.error(request, _("Tick that nothing more will come to close it short"))
                return redirect(back)
            try:
                purchasing.purchase_order_close(
                    purchase_order=po,
                    reason=f"closed short by {request.user.get_username()}",
                    actor=request.user,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("%(number)s closed short; the rest is no longer due") % {"number": po.number},
                )
            return redirect(back)
        form = ScanForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Scan a product"))
            return redirect(back)
        product = _scan_product(request, form)
        if product is None:
            return redirect(back)
        quantity = form.cleaned_data["quantity"]
        try:
            receipt = purchasing.purchase_order_receive(
                purchase_order=po,
                quantities=[(product, quantity)],
                note=f"received by {request.user.get_username()}",
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        line = receipt.lines[0]
        text = f"✓ {quantity} × {product.sku}: {line.received} of {line.ordered} received"
        if line.over:
            messages.warning(
                request,
                _("%(text)s, %(over)s over the order (recorded)")
                % {"text": text, "over": line.over},
            )
        else:
            messages.success(
                request, text + (f", {line.remaining} to come" if line.remaining else "")
            )
        return redirect(back)
    lines = list(po.lines.select_related("product").order_by("product__sku"))
    return render(
        request,
        "inventory/receive_po.html",
        {
            "po": po,
            "lines": lines,
            # a completely received PO still takes extras (an over-receipt)
            "receivable": po.status in PurchaseOrder.DUE_STATUSES
            or (po.status == PurchaseOrder.Status.RECEIVED and not any(x.remaining for x in lines)),
            "ordered": sum(x.quantity for x in lines),
            "received": sum(x.quantity_received for x in lines),
            "events": list(po.events.order_by("-id")[:10]),
        },
    )


@floor_required
def receive_transfer(request, number):
    transfer = get_object_or_404(
        Transfer.objects.select_related("source", "destination"), number=number
    )
    back = reverse("stock:receive-transfer", args=[transfer.number])
    if request.method == "POST":
        if "lost" in request.POST:
            form = LostForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Type how many units were lost"))
                return redirect(back)
            product = product_by_code(form.cleaned_data["sku"])
            pairs = {"lost": [(product, form.cleaned_data["lost"])]}
            note = form.cleaned_data["note"]
        else:
            form = ScanForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Scan a product"))
                return redirect(back)
            product = _scan_product(request, form)
            pairs = {"received": [(product, form.cleaned_data["quantity"])]}
            note = ""
        if product is None:
            return redirect(back)
        try:
            transfers.transfer_receive(transfer=transfer, note=note, actor=request.user, **pairs)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            line = transfer.lines.get(product=product)
            verb = "lost" if "lost" in pairs else "received"
            qty = pairs[verb][0][1]
            messages.success(
                request,
                f"✓ {qty} × {product.sku} {verb}; {line.in_transit} still in transit"
                if line.in_transit
                else f"✓ {qty} × {product.sku} {verb}; line complete",
            )
        return redirect(back)
    return render(
        request,
        "inventory/receive_transfer.html",
        {
            "transfer": transfer,
            "lines": list(transfer.lines.select_related("product").order_by("product__sku")),
            "receivable": transfer.status in Transfer.IN_TRANSIT_STATUSES,
            "events": list(transfer.events.order_by("-id")[:10]),
        },
    )
