"""Reads for the customer page and ``customers/{email}/orders/``: a customer is found by
e-mail without case (as placement finds them), and every customer row with that address
counts, so no order hides behind a difference of case."""

from django.apps import apps
from django.db.models import QuerySet

from orders.models import Customer, Order
from orders.selectors import order_list_queryset


def customer_by_email(*, email: str) -> Customer | None:
    """The customer with exactly this e-mail, else the oldest one equal without case."""
    found = list(Customer.objects.filter(email__iexact=email).order_by("pk"))
    exact = [c for c in found if c.email == email]
    return (exact or found or [None])[0]


def customer_orders(*, email: str, with_lines: bool = True) -> QuerySet[Order]:
    """The customer's orders, newest first, with what a list shows (channel, customer
    and, unless ``with_lines`` is off, the lines: see ``order_list_queryset``)."""
    orders = (
        order_list_queryset() if with_lines else Order.objects.select_related("channel", "customer")
    )
    return orders.filter(customer__email__iexact=email).order_by("-placed_at", "-id")


def customer_returns(*, email: str) -> QuerySet:
    """The customer's return requests (RMAs), newest first, with their order. (returns
    sits above orders: the model is named, not imported.)"""
    ReturnRequest = apps.get_model("returns", "ReturnRequest")
    return (
        ReturnRequest.objects.filter(order__customer__email__iexact=email)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )
