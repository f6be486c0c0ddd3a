"""Returns receiving form: per line, what came back, its condition and where it goes."""

from django import forms
from django.utils.translation import gettext_lazy

from returns.models import ReturnLine

# Reasons that say the item may not be sellable: it is inspected before anyone decides.
INSPECT_REASONS = {ReturnLine.Reason.DAMAGED, ReturnLine.Reason.DEFECTIVE}
INSPECT_CONDITION = {
    ReturnLine.Reason.DAMAGED: ReturnLine.Condition.DAMAGED,
    ReturnLine.Reason.DEFECTIVE: ReturnLine.Condition.OPENED,
}


def needs_inspection(line: ReturnLine) -> bool:
    return line.reason in INSPECT_REASONS


class ReturnReceiveForm(forms.Form):
    """One group of fields per return line: ``l<id>_qty``, ``l<id>_condition``,
    ``l<id>_disposition``, ``l<id>_warehouse`` and ``l<id>_sellable``. Defaults follow
    the declared reason: everything came back; new and restocked at the point that
    shipped it, except for lines declared damaged or defective, which default to their
    condition and *no* disposition (inspect, then choose). Restocking an item declared
    damaged or defective, or received damaged, needs the "sellable" box ticked too: one
    Enter never puts broken goods back on the shelf."""

    def __init__(self, *args, lines, warehouses, shipped_from, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.warehouses = {w.code: w for w in warehouses}
        choices = [(w.code, f"{w.code} · {w.name}") for w in warehouses]
        for line in lines:
            p = f"l{line.pk}_"
            self.fields[p + "qty"] = forms.IntegerField(
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                label=gettext_lazy("Received"),
            )
            inspect = needs_inspection(line)
            self.fields[p + "condition"] = forms.ChoiceField(
                choices=ReturnLine.Condition.choices,
                initial=INSPECT_CONDITION.get(line.reason, ReturnLine.Condition.NEW),
            )
            self.fields[p + "disposition"] = forms.ChoiceField(
                choices=[("", "inspect, then choose"), *ReturnLine.Disposition.choices]
                if inspect
                else ReturnLine.Disposition.choices,
                initial="" if inspect else ReturnLine.Disposition.RESTOCK,
                required=False,
            )
            self.fields[p + "sellable"] = forms.BooleanField(
                required=False, label=gettext_lazy("Inspected: sellable as new")
            )
            self.fields[p + "warehouse"] = forms.ChoiceField(
                choices=choices, required=False, initial=shipped_from.get(line.order_line_id)
            )

    def rows(self):
        for line in self.lines:
            p = f"l{line.pk}_"
            yield {
                "line": line,
                "qty": self[p + "qty"],
                "condition": self[p + "condition"],
                "disposition": self[p + "disposition"],
                "warehouse": self[p + "warehouse"],
                "sellable": self[p + "sellable"],
                "inspect": needs_inspection(line),
            }

    def clean(self):
        data = super().clean()
        for line in self.lines:
            p = f"l{line.pk}_"
            disposition, received = data.get(p + "disposition"), data.get(p + "qty")
            if not received:
                data[p + "disposition"] = disposition or ReturnLine.Disposition.RESTOCK
                continue
            if not disposition:
                self.add_error(
                    p + "disposition",
                    f"{line.order_line.sku} was declared {line.get_reason_display().lower()}: "
                    "inspect it, then choose restock or scrap",
                )
                continue
            if disposition != ReturnLine.Disposition.RESTOCK:
                continue
            if not data.get(p + "warehouse"):
                self.add_error(p + "warehouse", "Choose where to restock it")
            risky = needs_inspection(line) or data.get(p + "condition") == (
                ReturnLine.Condition.DAMAGED
            )
            if risky and not data.get(p + "sellable"):
                self.add_error(
                    p + "sellable",
                    f"Restocking {line.order_line.sku} "
                    + (
                        f"(declared {line.get_reason_display().lower()})"
                        if needs_inspection(line)
                        else "(received damaged)"
                    )
                    + ": tick 'Inspected: sellable as new' to confirm, or scrap it",
                )
        return data

    def service_lines(self) -> list[dict]:
        """The ``lines`` argument of ``returns.services.return_receive``."""
        data = self.cleaned_data
        result = []
        for line in self.lines:
            p = f"l{line.pk}_"
            restock = data[p + "disposition"] == ReturnLine.Disposition.RESTOCK
            result.append(
                {
                    "return_line": line,
                    "quantity_received": data[p + "qty"],
                    "condition": data[p + "condition"],
                    "disposition": data[p + "disposition"],
                    "restock_warehouse": self.warehouses.get(data[p + "warehouse"])
                    if restock
                    else None,
                }
            )
        return result


class ReturnRefundForm(forms.Form):
    """The refund of a received return: by default what was paid for the returned lines;
    the tax and the shipping given back with it are chosen here (none by default), and
    ``amount`` may replace the whole sum."""

    tax_amount = forms.DecimalField(
        min_value=0,
        max_digits=13,
        decimal_places=3,
        required=False,
        label=gettext_lazy("Tax to refund"),
    )
    shipping_amount = forms.DecimalField(
        min_value=0,
        max_digits=13,
        decimal_places=3,
        required=False,
        label=gettext_lazy("Shipping to refund"),
    )
    amount = forms.DecimalField(
        min_value=0,
        max_digits=13,
        decimal_places=3,
        required=False,
        label=gettext_lazy("Refund a different total"),
        help_text=gettext_lazy("Blank: the items plus the tax and shipping above"),
    )
    reference = forms.CharField(max_length=128, required=False, label=gettext_lazy("Reference"))

    def service_kwargs(self) -> dict:
        """The keyword arguments of ``returns.services.return_refund``."""
        data = self.cleaned_data
        return {
            "tax_amount": data.get("tax_amount") or 0,
            "shipping_amount": data.get("shipping_amount") or 0,
            "amount": data.get("amount") or None,
            "reference": data.get("reference") or "",
        }
