"""Staff pages (managers) for customer service: the internal notes form on the order
page and the customer page (their orders, returns and the notes on their orders)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kernel.views import manager_required
from orders import views
from orders.customer_selectors import customer_by_email, customer_orders, customer_returns
from orders.exceptions import OrderInvalid
from orders.forms import NoteForm
from orders.models import Order
from orders.notes import customer_notes, order_note_add

PAGE_SIZE = 50


@manager_required
@require_POST
def order_note_create(request, number):
    """Add an internal note; back to the order page at its notes. A bad note (empty, too
    long) shows the order page again with the form's error and the text kept (400)."""
    order = get_object_or_404(Order, number=number)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            order_note_add(order=order, message=form.cleaned_data["message"], actor=request.user)
        except OrderInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Note added.")
            return redirect(reverse("orders:detail", args=[order.number]) + "#notes")
    response = views.order_detail(request, number, note_form=form)
    response.status_code = 400
    return response


@manager_required
def customer_detail(request, email):
    customer = customer_by_email(email=email)
    if customer is None:
        raise Http404("No customer with that e-mail")
    orders = customer_orders(email=email, with_lines=False)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/customer_detail.html",
        {
            "customer": customer,
            "page": page,
            "returns": list(customer_returns(email=email)),
            "notes": list(customer_notes(email=email)),
        },
    )
