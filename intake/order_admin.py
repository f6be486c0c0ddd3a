"""The order admin's way into customer service: adding an order opens the staff order
page (a draft placed through intake), and the change page edits through the services.

* "Add order" (the admin's add page) goes to ``/orders/new/``: an order is placed by
  ``intake.drafts`` through the same intake as every other order (routing, auto-confirm
  rules, numbering), never written by a ``ModelForm``.
* The ship-to address on the change page is changed by
  ``fulfillment.services.order_edit`` (re-routing when the new address moves the best
  point, the ``edited`` event, the customer told, the platform synced); a refusal (picking
  started, a bad country code) is a form error, nothing is saved.
* The page links to the order page's edit and cancel-lines forms for the lines,
  quantities and shipping.
"""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from fulfillment.admin import FulfillmentOrderAdmin
from fulfillment.models import Shipment
from fulfillment.services import order_edit
from fulfillment.services.order_change import COUNTRY_RE, REQUIRED_ADDRESS
from fulfillment.services.order_locks import EDITABLE_ORDER_STATUSES, STARTED
from kernel.admin_actions import save_changed_fields
from kernel.exceptions import DomainError
from orders import services as order_services
from orders.admin import ADDRESS_FIELDS
from orders.models import Order, OrderEvent


class OrderChangeForm(forms.ModelForm):
    """Checks the shape of an address change before the service runs (the service checks
    again under its locks)."""

    class Meta:
        model = Order
        fields = ["customer", "ship_by", "notes", *ADDRESS_FIELDS]  # the admin narrows it

    def clean(self):
        cleaned = super().clean()
        order = self.instance
        changed = [name for name in ADDRESS_FIELDS if name in self.changed_data]
        if not changed or order.pk is None:
            return cleaned
        if "ship_country" in changed:
            country = (cleaned.get("ship_country") or "").strip().upper()
            if not COUNTRY_RE.match(country):
                self.add_error("ship_country", "Use a 2-letter ISO 3166-1 country code.")
            cleaned["ship_country"] = country
        for key in REQUIRED_ADDRESS:
            name = f"ship_{key}"
            if name in changed and not (cleaned.get(name) or "").strip():
                self.add_error(name, "This field may not be blank.")
        started = list(
            Shipment.objects.filter(order=order, status__in=STARTED)
            .order_by("pk")
            .values_list("number", "status")
        )
        if started:
            raise forms.ValidationError(
                "Cannot change the address: picking has started for "
                + ", ".join(f"{number} ({status})" for number, status in started)
                + "; its parcel is prepared for the old address."
            )
        return cleaned


class StaffOrderAdmin(FulfillmentOrderAdmin):
    form = OrderChangeForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(1, ("Customer service", {"fields": ["change_links"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "change_links"]

    @admin.display(description="Lines, quantities, shipping")
    def change_links(self, order):
        page = reverse("orders:detail", args=[order.number])
        if order.status not in EDITABLE_ORDER_STATUSES:
            return format_html(
                '{} cannot change any more (it is {}). <a href="{}">Order page</a>',
                order.number,
                order.get_status_display().lower(),
                page,
            )
        return format_html(
            '<a href="{}#order-edit-form">Edit lines, quantities and shipping</a> · '
            '<a href="{}#cancel-lines-form">Cancel lines</a> on the order page '
            "(stock, totals and the customer follow)",
            page,
            page,
        )

    def has_add_permission(self, request):
        # OrderAdmin says no (no order is typed into a form); here "add" is a placement.
        return admin.ModelAdmin.has_add_permission(self, request)

    def add_view(self, request, form_url="", extra_context=None):
        """Orders are placed, not typed into a form: the staff order page starts a draft."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        return redirect("staff-orders:list")

    def save_model(self, request, obj, form, change):
        address = {
            name.removeprefix("ship_"): form.cleaned_data[name]
            for name in ADDRESS_FIELDS
            if change and name in form.changed_data
        }
        if not address:
            return super().save_model(request, obj, form, change)
        # The address goes through the edit service; restore what the form set on the
        # instance so that the plain fields below are saved without it.
        for name in ADDRESS_FIELDS:
            if name in form.changed_data:
                setattr(obj, name, form.initial.get(name, ""))
        form.changed_data[:] = [n for n in form.changed_data if n not in ADDRESS_FIELDS]
        fields = save_changed_fields(obj, form, change)
        if fields:
            order_services.order_add_event(
                order=obj,
                kind=OrderEvent.Kind.EDITED,
                message="Edited in the admin: " + ", ".join(fields),
                data={"fields": fields},
                actor=request.user,
            )
        try:
            result = order_edit(order=obj, address=address, actor=request.user)
        except DomainError as exc:  # picking started after the form was checked
            messages.error(request, f"{obj.number}: the address was not changed: {exc.message}")
            return
        for name in ADDRESS_FIELDS:
            setattr(obj, name, getattr(result["order"], name))
        if result["changes"]:
            messages.info(request, f"{obj.number}: " + "; ".join(result["changes"]))


admin.site.unregister(Order)
admin.site.register(Order, StaffOrderAdmin)
