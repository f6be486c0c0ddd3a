"""The staff order page (managers), mounted at /orders/new/: start or pick up a draft,
choose or enter the customer, add lines by scanning or typing a SKU (or searching by
name) with each line's live availability, set the ship-to, shipping and payment, and
place it through intake.

Every change is saved at once, so the draft survives a reload. The pages work as plain
forms (POST, then a redirect back); with htmx a scan or a line change is posted in
place and the answer is the lines panel only (``kernel.views.is_htmx``), the scan input
emptied and focused again, with the message under it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fulfillment.forms import ScanForm
from intake import draft_selectors as selectors
from intake.draft_forms import CustomerPickForm, DraftDetailsForm, RemoveLineForm
from intake.drafts import (
    DraftInvalid,
    DraftPlaced,
    draft_create,
    draft_discard,
    draft_line_add,
    draft_line_remove,
    draft_lines_set,
    draft_place,
    draft_set_customer,
    draft_update,
)
from intake.models import OrderDraft
from inventory.selectors import product_by_code
from kernel.exceptions import DomainError
from kernel.views import is_htmx, manager_required
from orders.models import Customer

FIELD_LABELS = {
    "customer.email": "Customer e-mail",
    "customer.name": "Customer name",
    "shipping_address.name": "Ship-to name",
    "shipping_address.line1": "Address",
    "shipping_address.city": "City",
    "shipping_address.postcode": "Postcode",
    "shipping_address.country": "Country",
    "lines": "Lines",
    "currency": "Currency",
    "shipping_total": "Shipping price",
}


def _field_label(field: str) -> str:
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    if field.startswith("lines["):
        index, _, key = field[len("lines[") :].partition("].")
        return f"Line {int(index) + 1} {key.replace('_', ' ')}" if index.isdigit() else field
    return "" if field == "__all__" else field.replace("_", " ")


def error_list(exc: DraftInvalid) -> list[str]:
    """One line per message, naming its field."""
    return [
        f"{_field_label(field)}: {message}" if _field_label(field) else message
        for field, found in exc.errors.items()
        for message in found
    ]


def _draft_or_404(pk: int) -> OrderDraft:
    return get_object_or_404(OrderDraft.objects.select_related("channel", "placed_order"), pk=pk)


def _open_draft(request, pk: int):
    """The draft to edit, or a redirect to its order once it is placed."""
    draft = _draft_or_404(pk)
    if draft.placed_order_id:
        messages.info(request, f"This draft was placed as {draft.placed_order.number}.")
        return draft, redirect("orders:detail", draft.placed_order.number)
    return draft, None


def _methods(draft: OrderDraft, rows, *, country=None, region=None, currency=None):
    """The shipping methods priced for the draft's address (or the one just typed)."""
    address = draft.shipping_address or {}
    return selectors.shipping_methods(
        country=address.get("country", "") if country is None else country,
        region=address.get("region", "") if region is None else region,
        grams=selectors.draft_weight_grams(rows),
        currency=currency or draft.currency,
    )


def _lines_context(draft: OrderDraft, **extra) -> dict:
    rows = selectors.draft_lines(draft=draft)
    subtotal = sum((row.line_total or 0 for row in rows), 0)
    return {
        "draft": draft,
        "rows": rows,
        "subtotal": subtotal,
        "total": subtotal + draft.shipping_total,
        **extra,
    }


def _page(request, draft: OrderDraft, *, form=None, place_errors=(), status=200, **extra):
    context = _lines_context(draft, **extra)
    if form is None:
        form = DraftDetailsForm(
            initial=DraftDetailsForm.initial_for(draft), methods=_methods(draft, context["rows"])
        )
    q = request.GET.get("customer_q", "").strip()
    context.update(
        form=form,
        place_errors=list(place_errors),
        customer_q=q,
        customers=selectors.customer_search(q=q) if q else [],
    )
    return render(request, "intake/draft_edit.html", context, status=status)


def _lines_response(request, draft: OrderDraft, **extra):
    if is_htmx(request):
        draft.refresh_from_db()
        return render(
            request, "intake/partials/_draft_lines.html", _lines_context(draft, htmx=True, **extra)
        )
    if extra.get("candidates"):
        return _page(request, draft, **extra)
    return redirect(reverse("staff-orders:edit", args=[draft.pk]) + "#lines")


# --------------------------------------------------------------------------- pages


@manager_required
def draft_list(request):
    return render(request, "intake/draft_list.html", {"drafts": selectors.open_drafts()})


@manager_required
@require_POST
def draft_start(request):
    draft = draft_create(user=request.user)
    return redirect("staff-orders:edit", draft.pk)


@manager_required
def draft_edit(request, pk: int):
    draft, placed = _open_draft(request, pk)
    if placed:
        return placed
    if request.method != "POST":
        return _page(request, draft)
    rows = selectors.draft_lines(draft=draft)
    methods = _methods(
        draft,
        rows,
        country=request.POST.get("ship_country", "").strip().upper(),
        region=request.POST.get("ship_region", "").strip(),
        currency=request.POST.get("currency", "").strip().upper(),
    )
    form = DraftDetailsForm(request.POST, methods=methods)
    if not form.is_valid():
        return _page(request, draft, form=form)
    try:
        draft_update(draft=draft, **form.draft_fields(draft))
    except DraftInvalid as exc:
        for field, found in exc.errors.items():
            form.add_error(field if field in form.fields else None, found)
        return _page(request, draft, form=form)
    except DraftPlaced as exc:
        messages.info(request, exc.message)
        return redirect("orders:detail", exc.data["number"])
    if request.POST.get("then") == "place":
        return _place(request, draft)
    messages.success(request, "Draft saved.")
    return redirect("staff-orders:edit", draft.pk)


@manager_required
@require_POST
def customer_pick(request, pk: int):
    draft, placed = _open_draft(request, pk)
    if placed:
        return placed
    form = CustomerPickForm(request.POST)
    if form.is_valid():
        customer = Customer.objects.filter(pk=form.cleaned_data["customer"]).first()
        if customer is None:
            messages.error(request, "That customer no longer exists.")
        else:
            draft_set_customer(draft=draft, customer=customer)
            messages.success(request, f"Customer: {customer.name or customer.email}.")
    else:
        messages.error(request, "Pick a customer from the list.")
    return redirect("staff-orders:edit", draft.pk)


@manager_required
@require_POST
def line_scan(request, pk: int):
    """One scan or typed code: a barcode or SKU adds a unit (``3*SKU``: three); other
    text searches SKUs and names: one match is added, several are offered."""
    draft, placed = _open_draft(request, pk)
    if placed:
        return placed
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Scan a barcode or type a SKU or a name.")
        return _lines_response(request, draft)
    code, quantity = form.cleaned_data["code"], form.cleaned_data["quantity"]
    product = product_by_code(code)
    candidates = []
    if product is None:
        found = selectors.product_search(q=code)
        if len(found) == 1:
            product = found[0]
        elif found:
            candidates = found
    if product is None and not candidates:
        messages.error(request, f"Unknown barcode or SKU: {code}")
        return _lines_response(request, draft)
    if candidates:
        messages.info(request, f"{len(candidates)} products match “{code}”: choose one.")
        free = selectors.availability(product_ids=[p.pk for p in candidates])
        for candidate in candidates:
            candidate.free = free.get(candidate.pk, selectors.Availability())
        return _lines_response(request, draft, candidates=candidates, quantity=quantity)
    try:
        line = draft_line_add(draft=draft, product=product, quantity=quantity)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _lines_response(request, draft)
    free = selectors.availability(product_ids=[product.pk]).get(product.pk)
    available = free.total if free else 0
    text = f"{product.sku} · {product.name}: {line['quantity']} on the order, {available} available"
    if line["quantity"] > available:
        messages.warning(request, text + f"; {line['quantity'] - max(available, 0)} backordered.")
    else:
        messages.success(request, text + ".")
    return _lines_response(request, draft)


@manager_required
@require_POST
def lines_update(request, pk: int):
    """The lines table submitted: every line's quantity and price."""
    draft, placed = _open_draft(request, pk)
    if placed:
        return placed
    skus = request.POST.getlist("sku")
    quantities = request.POST.getlist("quantity")
    prices = request.POST.getlist("unit_price")
    if not (len(skus) == len(quantities) == len(prices)):
        messages.error(request, "The lines table was incomplete: nothing changed.")
        return _lines_response(request, draft)
    try:
        draft_lines_set(
            draft=draft,
            lines=[
                {"sku": s, "quantity": q, "unit_price": p}
                for s, q, p in zip(skus, quantities, prices, strict=True)
            ],
        )
    except DraftInvalid as exc:
        for line in error_list(exc):
            messages.error(request, line)
        return _lines_response(request, draft)
    messages.success(request, "Lines saved.")
    return _lines_response(request, draft)


@manager_required
@require_POST
def line_remove(request, pk: int):
    draft, placed = _open_draft(request, pk)
    if placed:
        return placed
    form = RemoveLineForm(request.POST)
    if form.is_valid():
        draft_line_remove(draft=draft, sku=form.cleaned_data["remove"])
        messages.success(request, f"Removed {form.cleaned_data['remove']}.")
    return _lines_response(request, draft)


def _place(request, draft: OrderDraft):
    try:
        order, created = draft_place(draft=draft, actor=request.user)
    except DraftInvalid as exc:
        draft.refresh_from_db()
        return _page(request, draft, place_errors=error_list(exc), status=400)
    except DomainError as exc:
        draft.refresh_from_db()
        return _page(request, draft, place_errors=[exc.message], status=exc.status_code)
    order.refresh_from_db()
    if not created:
        messages.info(request, f"This draft was already placed as {order.number}.")
    elif order.status == order.Status.ON_HOLD:
        messages.warning(request, f"Placed {order.number}; on hold: {order.hold_reason}")
    else:
        messages.success(request, f"Placed {order.number} ({order.get_status_display()}).")
    return redirect("orders:detail", order.number)


@manager_required
@require_POST
def draft_place_view(request, pk: int):
    # Placed already (a double click, another manager): the answer is the same order.
    return _place(request, _draft_or_404(pk))


@manager_required
@require_POST
def draft_discard_view(request, pk: int):
    draft = _draft_or_404(pk)
    try:
        draft_discard(draft=draft)
    except DraftPlaced as exc:
        messages.info(request, exc.message)
        return redirect("orders:detail", exc.data["number"])
    messages.success(request, "Draft discarded.")
    return redirect("staff-orders:list")
