"""Forms and filters of the order pages (managers)."""

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy

from orders.api import OrderFilter
from orders.models import Order, OrderLine
from orders.notes import NOTE_MAX_LENGTH


class OrderPageFilter(OrderFilter):
    """The API's ``OrderFilter`` (status, channel, placed_after/placed_before...) plus
    what the page adds: the shipping warehouse, a placed-on date range in days and one
    search box over number, external id, customer and SKU."""

    warehouse = django_filters.CharFilter(
        method="filter_warehouse", label=gettext_lazy("Warehouse")
    )
    placed_from = django_filters.DateFilter(
        field_name="placed_at", lookup_expr="date__gte", label=gettext_lazy("Placed from")
    )
    placed_to = django_filters.DateFilter(
        field_name="placed_at", lookup_expr="date__lte", label=gettext_lazy("Placed to")
    )
    q = django_filters.CharFilter(method="search", label=gettext_lazy("Search"))

    class Meta(OrderFilter.Meta):
        fields = [*OrderFilter.Meta.fields, "warehouse", "placed_from", "placed_to", "q"]

    def filter_warehouse(self, queryset, name, value):
        # orders sits below fulfillment: name the model, do not import it (as selectors do)
        Shipment = apps.get_model("fulfillment", "Shipment")
        return queryset.filter(
            Exists(Shipment.objects.filter(order=OuterRef("pk"), warehouse__code=value))
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        by_sku = OrderLine.objects.filter(order=OuterRef("pk"), sku__iexact=value)
        return queryset.filter(
            Q(number__iexact=value)
            | Q(external_id=value)
            | Q(customer__email__iexact=value)
            | Q(customer__name__icontains=value)
            | Q(ship_name__icontains=value)
            | Exists(by_sku)
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, strip=True)


class RerouteForm(forms.Form):
    shipment = forms.CharField(max_length=20)
    warehouse = forms.CharField(max_length=32, required=False)
    reason = forms.CharField(max_length=255, strip=True)


ORDER_ACTIONS = ("confirm", "hold", "release", "cancel")


def allowed_actions(order: Order, *, shipped_anything: bool) -> set[str]:
    """The manager actions the order's state allows (the services decide in the end)."""
    S = Order.Status
    actions = set()
    if order.status == S.PENDING:
        actions |= {"confirm", "hold"}
    if order.status == S.CONFIRMED:
        actions.add("hold")
    if order.status == S.ON_HOLD:
        actions.add("release")
    if order.status in (S.PENDING, S.ON_HOLD, S.CONFIRMED) and not shipped_anything:
        actions.add("cancel")
    return actions


class NoteForm(forms.Form):
    """An internal note on the order page (the service checks the same again)."""

    message = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH}),
        error_messages={"required": "Write the note first."},
    )
