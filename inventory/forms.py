"""Stock pages: look-up filter (shared with the API's StockLevelFilter), cycle count,
goods receipt."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy

from inventory.api import StockLevelFilter
from inventory.models import StockMovement
from inventory.services import MAX_QUANTITY


class StockPageFilter(StockLevelFilter):
    """The API's stock filter (sku, warehouse, below_reorder_point) plus one box that
    finds a SKU, a barcode, a bin or a product name."""

    q = django_filters.CharFilter(method="search", label=gettext_lazy("SKU, barcode, bin or name"))

    class Meta(StockLevelFilter.Meta):
        fields = [*StockLevelFilter.Meta.fields, "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(product__sku__iexact=value)
            | Q(product__barcode=value)
            | Q(bin__iexact=value)
            | Q(product__sku__istartswith=value)
            | Q(product__name__icontains=value)
        )


class CountForm(forms.Form):
    counted = forms.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, label=gettext_lazy("Counted on the shelf")
    )
    reason_code = forms.ChoiceField(
        choices=[("", gettext_lazy("no reason given")), *StockMovement.ReasonCode.choices],
        required=False,
        label=gettext_lazy("Reason"),
    )
    confirm = forms.BooleanField(required=False)


class ReceiveForm(forms.Form):
    warehouse = forms.ChoiceField(label=gettext_lazy("Fulfillment point"))
    reference = forms.CharField(
        max_length=64,
        strip=True,
        label=gettext_lazy("Delivery reference"),
        help_text=gettext_lazy("PO or delivery note"),
    )
    code = forms.CharField(max_length=128, strip=True, label=gettext_lazy("Product barcode or SKU"))
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args, warehouses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].choices = [(w.code, f"{w.code} · {w.name}") for w in warehouses]

    def clean(self):
        data = super().clean()
        code = data.get("code", "")
        if "*" in code:
            qty, _, rest = code.partition("*")
            if qty.strip().isdigit() and rest.strip():
                data["quantity"], data["code"] = int(qty), rest.strip()
        return data
