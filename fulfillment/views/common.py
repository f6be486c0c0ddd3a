"""Shared by the floor pages: shipment states, the form error line, the floor's warehouses."""

from django.utils.translation import gettext as _

from fulfillment.models import PickList, Shipment
from inventory.models import Warehouse

Status = Shipment.Status
TO_PICK = (Status.ALLOCATED, Status.PICKING)
DONE_LISTS = (PickList.Status.DONE, PickList.Status.CANCELLED)


# --------------------------------------------------------------------------- helpers


def form_error(form) -> str:
    """The first error of a form, as one line for a flash message."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label or field}: {errors[0]}" if field != "__all__" else errors[0]
    return _("Invalid input")


def floor_warehouses() -> list[Warehouse]:
    return list(Warehouse.objects.filter(active=True).order_by("priority", "code"))


def current_warehouse(request, warehouses: list[Warehouse]) -> Warehouse | None:
    """The point this floor user works at: ``?warehouse=CODE``, else the last one chosen
    (kept in the session), else the first own point (3PLs pick in their own systems)."""
    by_code = {w.code: w for w in warehouses}
    warehouse = by_code.get(request.GET.get("warehouse", "")) or by_code.get(
        request.session.get("floor_warehouse", "")
    )
    if warehouse is None:
        own = [w for w in warehouses if w.kind != Warehouse.Kind.THIRD_PARTY]
        warehouse = (own or warehouses or [None])[0]
    if warehouse is not None and request.session.get("floor_warehouse") != warehouse.code:
        request.session["floor_warehouse"] = warehouse.code
    return warehouse


# --------------------------------------------------------------------------- pick queue
