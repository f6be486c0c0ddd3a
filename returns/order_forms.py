"""The "Start a return" form of the order page: per shipped line, how many units come
back (at most shipped minus what other returns already claim), why, and for an exchange
the SKU sent instead and how many. The form checks the shape; the rules (what may come
back, known and active SKUs, exchanges on refunded orders) are checked once, in
``returns.services.return_request``, whose errors land on the line they name."""

import re

from django import forms
from django.utils.translation import gettext, gettext_lazy

from returns.models import ReturnLine

SERVICE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")
# The service's field name -> the suffix of this form's field for that line.
FIELD_SUFFIX = {
    "sku": "qty",
    "quantity": "qty",
    "reason": "reason",
    "replacement_sku": "replacement_sku",
    "replacement_quantity": "replacement_qty",
}


class OrderReturnForm(forms.Form):
    """Fields per order line ``l<id>_qty``, ``l<id>_expected`` (what the page offered),
    ``l<id>_reason``, ``l<id>_replacement_sku``, ``l<id>_replacement_qty``. ``lines``:
    (order line, units returnable) pairs, only those with something returnable."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self._sent: list = []  # order lines in the order given to the service
        for line, returnable in lines:
            p = f"l{line.pk}_"
            self.fields[p + "qty"] = forms.IntegerField(
                min_value=0,
                max_value=returnable,
                initial=0,
                required=False,
                label=gettext_lazy("Units to return"),
            )
            # What the page offered: a second click (or another return meanwhile)
            # finds less left and is refused rather than opening a second return.
            self.fields[p + "expected"] = forms.IntegerField(
                required=False, widget=forms.HiddenInput
            )
            self.fields[p + "reason"] = forms.ChoiceField(
                choices=ReturnLine.Reason.choices,
                initial=ReturnLine.Reason.OTHER,
                label=gettext_lazy("Reason"),
            )
            self.fields[p + "replacement_sku"] = forms.CharField(
                max_length=64, required=False, label=gettext_lazy("Replacement SKU")
            )
            self.fields[p + "replacement_qty"] = forms.IntegerField(
                min_value=1,
                max_value=10_000,
                required=False,
                label=gettext_lazy("Replacement units"),
            )

    def rows(self):
        for line, returnable in self.lines:
            p = f"l{line.pk}_"
            yield {
                "line": line,
                "returnable": returnable,
                "qty": self[p + "qty"],
                "expected": self[p + "expected"],
                "reason": self[p + "reason"],
                "replacement_sku": self[p + "replacement_sku"],
                "replacement_qty": self[p + "replacement_qty"],
            }

    def clean(self):
        data = super().clean()
        chosen = False
        for line, returnable in self.lines:
            p = f"l{line.pk}_"
            expected = data.get(p + "expected")
            if data.get(p + "qty") and expected is not None and expected != returnable:
                self.add_error(
                    p + "qty",
                    gettext(
                        "Another return was started meanwhile: %(left)s of %(sku)s may come "
                        "back now. Check and submit again."
                    )
                    % {"left": returnable, "sku": line.sku},
                )
            if data.get(p + "qty") or p + "qty" in self.errors:
                chosen = True  # a quantity, or an error on it that says what is wrong
            elif data.get(p + "replacement_sku") or data.get(p + "replacement_qty"):
                self.add_error(p + "qty", gettext("Say how many units come back"))
                chosen = True
        if not chosen:
            raise forms.ValidationError(gettext("Choose at least one line to return"))
        return data

    def service_lines(self) -> list[dict]:
        """The ``lines`` argument of ``returns.services.return_request``."""
        data = self.cleaned_data
        result, self._sent = [], []
        for line, _returnable in self.lines:
            p = f"l{line.pk}_"
            if not data.get(p + "qty"):
                continue
            entry = {
                "order_line": line,
                "quantity": data[p + "qty"],
                "reason": data[p + "reason"],
            }
            sku = (data.get(p + "replacement_sku") or "").strip()
            if sku:
                entry["replacement_sku"] = sku
            if data.get(p + "replacement_qty") is not None:
                entry["replacement_quantity"] = data[p + "replacement_qty"]
            result.append(entry)
            self._sent.append(line)
        return result

    def add_service_error(self, field: str | None, message: str) -> None:
        """Put the service's error on the field of the line it names
        (``lines[<i>].<field>``), else on the whole form."""
        match = SERVICE_FIELD.match(field or "")
        if match and int(match.group(1)) < len(self._sent):
            line = self._sent[int(match.group(1))]
            name = f"l{line.pk}_{FIELD_SUFFIX.get(match.group(2), 'qty')}"
            if name in self.fields:
                self.add_error(name, message)
                return
        self.add_error(None, message)
