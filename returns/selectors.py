"""Reads of the returns shown on the order page."""

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderLine
from returns.models import ReturnLine, ReturnRequest
from returns.services import returnable_quantities


def returnable_lines(order: Order) -> list[tuple[OrderLine, int]]:
    """(order line, units that may still be requested back) for the lines with any:
    shipped minus what requested, approved or received returns already claim."""
    left = returnable_quantities(order)
    return [
        (line, left[line.pk]) for line in order.lines.order_by("pk") if left.get(line.pk, 0) > 0
    ]


def order_returns(order: Order) -> QuerySet[ReturnRequest]:
    """The order's returns, newest first, with their lines and replacement order."""
    return (
        ReturnRequest.objects.filter(order=order)
        .select_related("replacement_order")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.select_related(
                    "order_line", "replacement_product"
                ).order_by("pk"),
            )
        )
        .order_by("-created_at", "-pk")
    )


def replacement_for(order: Order) -> ReturnRequest | None:
    """The return this order replaces goods for (an exchange's replacement order)."""
    return ReturnRequest.objects.filter(replacement_order=order).select_related("order").first()
