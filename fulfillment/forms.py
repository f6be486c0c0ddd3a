"""Forms of the floor pages (pick, pack): they check the shape of a scan, nothing more;
the business rules are the services'."""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_SCAN_QUANTITY = 9999
MAX_WEIGHT_GRAMS = 1_000_000

_QTY_PREFIX = re.compile(r"^\s*(\d{1,4})\s*[*xX×]\s*(\S.*?)\s*$")
_WEIGHT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(g|kg)\s*$", re.IGNORECASE)


def parse_scan(text: str, quantity: int | None = None) -> tuple[int, str]:
    """``"3*SKU"`` (or ``3xSKU``) -> (3, "SKU"); ``"SKU"`` -> (quantity or 1, "SKU")."""
    match = _QTY_PREFIX.match(text or "")
    if match:
        return int(match.group(1)), match.group(2)
    return quantity or 1, (text or "").strip()


def parse_weight(text: str) -> int | None:
    """A typed or scale-scanned weight: ``"1250g"``, ``"1.25 kg"``, ``"1,25kg"`` -> grams.
    None when ``text`` is not a weight."""
    match = _WEIGHT.match(text or "")
    if not match:
        return None
    try:
        value = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        return None
    grams = value * 1000 if match.group(2).lower() == "kg" else value
    return int(grams.to_integral_value())


class ScanForm(forms.Form):
    """One scan: a barcode or SKU, optionally prefixed ``3*``, or a quantity field."""

    code = forms.CharField(max_length=128, strip=True)
    qty = forms.IntegerField(required=False, min_value=1, max_value=MAX_SCAN_QUANTITY)

    def clean(self):
        data = super().clean()
        if "code" in data:
            quantity, code = parse_scan(data["code"], data.get("qty"))
            if not code:
                raise forms.ValidationError(_("Scan a barcode or type a SKU"))
            if quantity < 1 or quantity > MAX_SCAN_QUANTITY:
                raise forms.ValidationError(
                    _("Quantity must be 1 to %(max)s") % {"max": MAX_SCAN_QUANTITY}
                )
            data["quantity"], data["code"] = quantity, code
        return data


class WaveForm(forms.Form):
    """Create a wave: from a scanned or typed order or shipment number (``code``), else
    from the N most urgent ready shipments, or from a ticked selection."""

    code = forms.CharField(max_length=64, required=False, strip=True)
    count = forms.IntegerField(min_value=1, max_value=200, initial=10, required=False)
    action = forms.ChoiceField(choices=[("oldest", "oldest"), ("selected", "selected")])

    def clean(self):
        data = super().clean()
        if data.get("action") == "oldest" and not data.get("count") and not data.get("code"):
            raise forms.ValidationError(_("How many shipments go on the wave?"))
        data["shipments"] = [n for n in self.data.getlist("shipments") if n][:200]
        if data.get("action") == "selected" and not data["shipments"]:
            raise forms.ValidationError(_("Tick the shipments to put on the wave"))
        return data


class ShortForm(forms.Form):
    """The bin holds fewer units than the list asks for: what is really there."""

    line = forms.IntegerField(min_value=1)
    found = forms.IntegerField(
        min_value=0, max_value=1_000_000, label=gettext_lazy("Found in the bin")
    )


class ShipForm(forms.Form):
    """Last step at the pack station: the parcel's weight and, optionally, the service."""

    weight_grams = forms.IntegerField(
        min_value=1, max_value=MAX_WEIGHT_GRAMS, label=gettext_lazy("Weight (g)"), required=True
    )
    service = forms.ChoiceField(required=False, label=gettext_lazy("Service"))

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Cheapest on time (auto)"), *services]

    def full_clean(self):
        # Accept "1.2kg" in the weight box too: normalise it before the integer field.
        if self.is_bound:
            raw = self.data.get(self.add_prefix("weight_grams"), "")
            grams = parse_weight(raw)
            if grams is not None:
                self.data = self.data.copy()
                self.data[self.add_prefix("weight_grams")] = str(grams)
        super().full_clean()


class ParcelForm(forms.Form):
    """One more box at the pack station: its weight ("1.2kg" too) and, optionally, size."""

    weight_grams = forms.IntegerField(
        min_value=1, max_value=MAX_WEIGHT_GRAMS, label=gettext_lazy("Weight (g)")
    )
    length_cm = forms.DecimalField(
        min_value=Decimal("0.1"), max_value=1000, decimal_places=1, required=False
    )
    width_cm = forms.DecimalField(
        min_value=Decimal("0.1"), max_value=1000, decimal_places=1, required=False
    )
    height_cm = forms.DecimalField(
        min_value=Decimal("0.1"), max_value=1000, decimal_places=1, required=False
    )

    def full_clean(self):
        if self.is_bound:
            grams = parse_weight(self.data.get(self.add_prefix("weight_grams"), ""))
            if grams is not None:
                self.data = self.data.copy()
                self.data[self.add_prefix("weight_grams")] = str(grams)
        super().full_clean()
