"""Forms of the staff order page: they check the shape of what was typed; the draft
services (``intake.drafts``) store it and check, when placing, that it is complete."""

from django import forms

from intake.models import OrderDraft
from orders.services import ADDRESS_FIELDS

ADDRESS_LABELS = {
    "name": "Name",
    "line1": "Address",
    "line2": "Address line 2",
    "city": "City",
    "region": "Region / state",
    "postcode": "Postcode",
    "country": "Country (2 letters)",
    "phone": "Phone at the address",
}
FORM_ID = "draft-details"
ADDRESS_MAX = {"city": 128, "region": 64, "postcode": 32, "country": 2, "phone": 32}


class DraftDetailsForm(forms.Form):
    """Customer, ship-to, shipping and payment of a draft. Everything may be left blank
    while the draft is being entered; placing it names what is missing."""

    customer_email = forms.CharField(label="E-mail", max_length=254, required=False)
    customer_name = forms.CharField(label="Name", max_length=255, required=False)
    customer_phone = forms.CharField(label="Phone", max_length=32, required=False)
    currency = forms.CharField(label="Currency", max_length=3, min_length=3)
    shipping_method = forms.ChoiceField(label="Shipping method", required=False, choices=())
    shipping_total = forms.DecimalField(
        label="Shipping price",
        required=False,
        min_value=0,
        max_digits=13,
        decimal_places=3,
        help_text="Blank: the method's rate for the address and weight",
    )
    financial_status = forms.ChoiceField(label="Payment", choices=OrderDraft.Payment.choices)
    payment_method = forms.CharField(label="Paid with", max_length=64, required=False)
    payment_reference = forms.CharField(label="Payment reference", max_length=128, required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        for key in ADDRESS_FIELDS:
            self.fields[f"ship_{key}"] = forms.CharField(
                label=ADDRESS_LABELS[key], max_length=ADDRESS_MAX.get(key, 255), required=False
            )
        for field in self.fields.values():
            # the inputs sit in several sections of the page, around the lines' own forms
            field.widget.attrs["form"] = FORM_ID
        self.methods = {m.code: m for m in methods}
        self.fields["shipping_method"].choices = [("", "— none / decided at packing —")] + [
            (
                m.code,
                m.label + (f" — {m.price} ({m.transit_days} days)" if m.price is not None else ""),
            )
            for m in methods
        ]

    @classmethod
    def initial_for(cls, draft: OrderDraft) -> dict:
        initial = {name: getattr(draft, name) for name in cls.base_fields}
        initial.update(
            {f"ship_{k}": (draft.shipping_address or {}).get(k, "") for k in ADDRESS_FIELDS}
        )
        return initial

    def clean_ship_country(self):
        return self.cleaned_data["ship_country"].strip().upper()

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def draft_fields(self, draft: OrderDraft) -> dict:
        """``draft_update`` arguments. The shipping price takes the chosen method's rate
        (when it has one for this address and weight) when left blank, or when the
        method was changed and the price was not; a blank price without a rate is 0."""
        data = dict(self.cleaned_data)
        address = {k: data.pop(f"ship_{k}") for k in ADDRESS_FIELDS}
        price = data["shipping_total"]
        method = self.methods.get(data["shipping_method"])
        rate = method.price if method else None
        switched = data["shipping_method"] != draft.shipping_method
        if price is None or (switched and rate is not None and price == draft.shipping_total):
            price = rate if rate is not None else (price or 0)
        data["shipping_total"] = price
        return {**data, "shipping_address": address}


class CustomerPickForm(forms.Form):
    customer = forms.IntegerField(min_value=1)


class RemoveLineForm(forms.Form):
    remove = forms.CharField(max_length=64)
