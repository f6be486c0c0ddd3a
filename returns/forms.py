"""Returns receiving form: per line, what came back, its condition and where it goes."""

from django import forms

from returns.models import ReturnLine


class ReturnReceiveForm(forms.Form):
    """One group of fields per return line: ``l<id>_qty``, ``l<id>_condition``,
    ``l<id>_disposition``, ``l<id>_warehouse``. Defaults: everything came back, new,
    restocked at the point that shipped it."""

    def __init__(self, *args, lines, warehouses, shipped_from, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.warehouses = {w.code: w for w in warehouses}
        choices = [(w.code, f"{w.code} · {w.name}") for w in warehouses]
        for line in lines:
            p = f"l{line.pk}_"
            self.fields[p + "qty"] = forms.IntegerField(
                min_value=0, max_value=line.quantity, initial=line.quantity, label="Received"
            )
            self.fields[p + "condition"] = forms.ChoiceField(
                choices=ReturnLine.Condition.choices, initial=ReturnLine.Condition.NEW
            )
            self.fields[p + "disposition"] = forms.ChoiceField(
                choices=ReturnLine.Disposition.choices, initial=ReturnLine.Disposition.RESTOCK
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
            }

    def clean(self):
        data = super().clean()
        for line in self.lines:
            p = f"l{line.pk}_"
            if (
                data.get(p + "disposition") == ReturnLine.Disposition.RESTOCK
                and data.get(p + "qty")
                and not data.get(p + "warehouse")
            ):
                self.add_error(p + "warehouse", "Choose where to restock it")
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
        min_value=0, max_digits=13, decimal_places=3, required=False, label="Tax to refund"
    )
    shipping_amount = forms.DecimalField(
        min_value=0, max_digits=13, decimal_places=3, required=False, label="Shipping to refund"
    )
    amount = forms.DecimalField(
        min_value=0,
        max_digits=13,
        decimal_places=3,
        required=False,
        label="Refund a different total",
        help_text="Blank: the items plus the tax and shipping above",
    )
    reference = forms.CharField(max_length=128, required=False, label="Reference")

    def service_kwargs(self) -> dict:
        """The keyword arguments of ``returns.services.return_refund``."""
        data = self.cleaned_data
        return {
            "tax_amount": data.get("tax_amount") or 0,
            "shipping_amount": data.get("shipping_amount") or 0,
            "amount": data.get("amount") or None,
            "reference": data.get("reference") or "",
        }
