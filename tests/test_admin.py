"""The Django admin: every page answers, status and quantities stay read-only, and the
actions go through the services (ledger, events, per-object error messages)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from fulfillment.carriers.base import TrackingEvent as TrackingScan
from fulfillment.models import Carrier, CarrierService, PickList, Shipment, ShippingRate
from fulfillment.services import (
    order_confirm_and_allocate,
    pick_list_complete,
    pick_list_create,
    shipment_deliver,
    shipment_ship,
)
from fulfillment.services.tracking import shipment_record_tracking
from inventory.models import Product, StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from kernel.roles import DOMAIN_APPS, MANAGER, WAREHOUSE
from orders.models import Order, OrderEvent
from orders.services import order_mark_paid
from returns.models import Refund, ReturnRequest
from returns.services import return_approve, return_receive, return_refund, return_request
from tests import factories as f

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("boss", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    return user


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def stock():
    """Two products in stock at one warehouse, a second empty warehouse."""
    wh = f.make_warehouse("SP-01", priority=1)
    other = f.make_warehouse("RJ-01", priority=2, region="RJ")
    shirt = f.make_product("TSHIRT-M", price="19.90")
    mug = f.make_product("MUG", price="7.50")
    f.receive(shirt, wh, 10, reference="PO-1")
    f.receive(mug, wh, 5, reference="PO-1")
    return SimpleNamespace(wh=wh, other=other, shirt=shirt, mug=mug)


@pytest.fixture
def world(stock):
    """At least one row of every model: a whole lifecycle through the services."""
    carrier = Carrier.objects.create(code="table", name="Table rates")
    service = CarrierService.objects.create(carrier=carrier, code="standard", name="Standard")
    ShippingRate.objects.create(
        service=service,
        country="BR",
        max_weight_grams=30_000,
        price=Decimal("12.00"),
        currency="BRL",
        transit_days=3,
    )
    order = f.place([(stock.shirt, 2), (stock.mug, 1)], external_id="1001", shipping_total="5")
    order_mark_paid(order=order)
    order_confirm_and_allocate(order=order)
    shipment = order.shipments.get()
    pick_list = pick_list_create(warehouse=stock.wh, shipments=[shipment])
    pick_list_complete(pick_list=pick_list)
    shipment.refresh_from_db()
    shipment_ship(shipment=shipment, carrier="table", service="standard", tracking_number="T1")
    shipment_record_tracking(
        shipment=shipment, events=[TrackingScan("in_transit", timezone.now(), "Hub", "SP")]
    )
    shipment_deliver(shipment=shipment)
    from fulfillment.services.manifests import manifest_create

    manifest_create(carrier="table", warehouse=stock.wh)  # end of day
    from fulfillment.models import CarrierToken
    from fulfillment.services.booking import shipment_add_parcel

    CarrierToken.objects.create(carrier=carrier, refresh_token="from the authorize command")
    boxed = f.place([(stock.mug, 1)], external_id="1002")
    order_confirm_and_allocate(order=boxed)
    shipment_add_parcel(shipment=boxed.shipments.get(), weight_grams=900)
    rma = return_request(
        order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1, "reason": "size_fit"}]
    )
    return_approve(return_request=rma)
    return_receive(return_request=rma)
    from returns.models import ExchangePolicy

    ExchangePolicy.objects.create(channel=order.channel, ship_before_return=True)
    return_refund(return_request=rma)
    order.refresh_from_db()
    # a stored demand forecast, and the low-stock alert it raises (inventory.replenishment)
    from inventory.models import DemandForecast
    from inventory.replenishment import check_low_stock

    DemandForecast.objects.create(
        product=stock.shirt, warehouse=stock.wh, method="ses", level=2.0, sigma=1.0,
        weekday_factors=[1.0] * 7, computed_at=timezone.now(),
    )  # fmt: skip
    assert check_low_stock()["opened"]
    # a supplier, a purchase order partly received and a transfer in transit
    from inventory.models import Supplier, SupplierProduct
    from inventory.purchasing import (
        purchase_order_create,
        purchase_order_receive,
        purchase_order_send,
    )
    from inventory.transfers import transfer_create, transfer_dispatch

    supplier = Supplier.objects.create(code="ACME", name="Acme")
    SupplierProduct.objects.create(supplier=supplier, product=stock.mug, unit_cost="2.00")
    po = purchase_order_create(
        supplier=supplier, warehouse=stock.wh, lines=[{"product": stock.mug, "quantity": 5}]
    )
    purchase_order_send(purchase_order=po)
    purchase_order_receive(purchase_order=po, quantities=[(stock.mug, 2)])
    transfer = transfer_create(
        source=stock.wh, destination=stock.other, lines=[{"product": stock.mug, "quantity": 1}]
    )
    transfer_dispatch(transfer=transfer)
    return SimpleNamespace(
        **vars(stock), order=order, shipment=shipment, rma=rma, po=po, transfer=transfer
    )


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def run_action(client, model, action, objects, **data):
    """Pick an action in the changelist's action bar."""
    payload = {"action": action, "index": 0, "_selected_action": [o.pk for o in objects]}
    return client.post(changelist(model), {**payload, **data})


def submit_action_form(client, model, action, objects, **data):
    """Submit an action's intermediate page (what its form posts back)."""
    payload = {"action": action, "apply": "1", "_selected_action": [o.pk for o in objects]}
    return client.post(changelist(model), {**payload, **data})


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def pending_orders(stock, n=2):
    return [f.place([(stock.shirt, 1), (stock.mug, 1)], external_id=f"P{i}") for i in range(n)]


# --------------------------------------------------------------------------- pages


def test_every_admin_page_answers_for_a_manager(world, manager, manager_client):
    request = RequestFactory().get("/admin/")
    request.user = manager
    seen = set()
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = changelist(model)
        if not model_admin.has_view_or_change_permission(request):
            assert opts.app_label not in DOMAIN_APPS, f"manager cannot see {opts.label}"
            assert manager_client.get(url).status_code == 403, url
            continue
        seen.add(model)
        assert manager_client.get(url).status_code == 200, url
        assert manager_client.get(url, {"q": "SO-"}).status_code == 200, f"search on {url}"
        obj = model._default_manager.first()
        if opts.app_label in DOMAIN_APPS:
            assert obj is not None, f"the world fixture should create a {opts.label}"
        if obj is not None:
            response = manager_client.get(change_url(obj))
            assert response.status_code == 200, change_url(obj)
        if model_admin.has_add_permission(request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            # an add page answers, or leads to the staff page that creates it (orders)
            assert manager_client.get(add, follow=True).status_code == 200, add
    for app_label in DOMAIN_APPS:
        for model in apps.get_app_config(app_label).get_models():
            assert model in seen, f"{model._meta.label} has no admin the manager can use"


def test_admin_home_lists_the_domain_apps(world, manager_client):
    response = manager_client.get(reverse("admin:index"))
    assert response.status_code == 200
    for app_label in DOMAIN_APPS:
        assert reverse("admin:app_list", args=[app_label]) in response.content.decode()


def test_order_customer_is_picked_by_autocomplete(world, manager_client):
    response = manager_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "orders", "model_name": "order", "field_name": "customer", "term": "ana"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["ana@example.com"]


def test_warehouse_staff_are_kept_out_of_the_admin(client, django_user_model, world):
    user = django_user_model.objects.create_user("floor", password="pw")
    user.groups.add(Group.objects.get(name=WAREHOUSE))
    client.force_login(user)
    for url in (reverse("admin:index"), changelist(Order), change_url(world.order)):
        assert client.get(url).status_code == 403, url


def test_order_change_page_shows_lines_shipments_and_timeline(world, manager_client):
    response = manager_client.get(change_url(world.order))
    body = response.content.decode()
    assert "TSHIRT-M" in body
    assert world.shipment.number in body
    assert "All items shipped" in body
    inline_models = {fs.opts.model for fs in response.context["inline_admin_formsets"]}
    assert {Shipment, OrderEvent} <= inline_models


def test_creating_and_deleting_service_owned_rows_is_not_offered(world, manager_client):
    for model in (Shipment, PickList, ReturnRequest, Refund, StockLevel, StockMovement):
        opts = model._meta
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert manager_client.get(add).status_code == 403, add
    # an order is added by placing it: the add page opens the staff order page, no form
    orders_before = Order.objects.count()
    add = manager_client.post(reverse("admin:orders_order_add"), {"number": "SO-TYPED"})
    assert add.status_code == 302 and add["Location"] == reverse("staff-orders:list")
    assert Order.objects.count() == orders_before
    for obj in (world.order, world.shipment, world.rma, StockMovement.objects.first()):
        opts = obj._meta
        delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        assert manager_client.post(delete, {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=world.order.pk).exists()


def test_ledger_and_timeline_cannot_be_edited(world, manager_client):
    movement = StockMovement.objects.get(product=world.shirt, kind="receipt", reference="PO-1")
    response = manager_client.post(change_url(movement), {"on_hand_delta": 999, "kind": "count"})
    assert response.status_code == 403
    event = world.order.events.first()
    response = manager_client.post(change_url(event), {"message": "rewritten"})
    assert response.status_code == 403
    movement.refresh_from_db()
    event.refresh_from_db()
    assert (movement.on_hand_delta, movement.kind) == (10, "receipt")
    assert event.message != "rewritten"


# --------------------------------------------------------------------------- read-only


def form_data(response) -> dict:
    """Everything the change page's form would post back as it is."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        widget = field.widget
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(widget, forms.MultiWidget):  # the admin's split date and time
            for i, (sub, part) in enumerate(
                zip(widget.widgets, widget.decompress(value), strict=True)
            ):
                data[f"{name}_{i}"] = sub.format_value(part)
        else:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is not None:
                    data[sub.add_prefix(name)] = value
    return data


def test_order_status_fields_are_read_only_on_the_change_page(world, manager_client):
    order = world.order
    before = f.statuses(order)
    response = manager_client.get(change_url(order))
    data = form_data(response)
    assert "status" not in data and "financial_status" not in data
    data.update(
        status="cancelled",
        allocation_status="unallocated",
        fulfillment_status="unfulfilled",
        financial_status="refunded",
        total="0.01",
        number="SO-HACKED",
        notes="Gift wrap next time",
    )
    response = manager_client.post(change_url(order), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    order.refresh_from_db()
    assert f.statuses(order) == before
    assert order.total == Decimal("52.30")
    assert order.number.startswith("SO-")
    assert order.notes == "Gift wrap next time"
    edited = f.last_event(order, OrderEvent.Kind.EDITED)
    assert edited.message == "Edited in the admin: notes"
    assert edited.actor == "boss"


def test_editing_a_pending_order_address_keeps_its_status(stock, manager_client):
    order = f.place([(stock.shirt, 1)])
    response = manager_client.get(change_url(order))
    data = form_data(response)
    data.update(ship_city="Sorocaba", status="confirmed")
    assert manager_client.post(change_url(order), data).status_code == 302
    ship_by = order.ship_by
    order.refresh_from_db()
    assert (order.ship_city, order.status) == ("Sorocaba", Order.Status.PENDING)
    assert order.ship_by == ship_by
    # the address is an edit, through the edit service: its event says what and who
    event = f.last_event(order)
    assert event.kind == OrderEvent.Kind.EDITED and event.actor == "boss"
    assert "city 'Campinas' -> 'Sorocaba'" in event.message


def test_stock_level_edits_only_bin_and_reorder_point(stock, manager_client):
    level = f.level(stock.shirt, stock.wh)
    response = manager_client.get(change_url(level))
    assert set(response.context["adminform"].form.fields) == {"bin", "reorder_point"}
    response = manager_client.post(
        change_url(level), {"bin": "A-01-03", "reorder_point": 4, "on_hand": 999, "reserved": 5}
    )
    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.bin, level.reorder_point, level.on_hand, level.reserved) == ("A-01-03", 4, 10, 0)
    assert stock_ledger_mismatches() == []


def test_stock_level_list_shows_available_and_filters_below_reorder_point(stock, manager_client):
    f.confirm(f.place([(stock.shirt, 3)]))
    StockLevel.objects.filter(product=stock.mug).update(reorder_point=5)
    response = manager_client.get(changelist(StockLevel))
    rows = {lv.product.sku: lv for lv in response.context["cl"].result_list}
    assert rows["TSHIRT-M"].available_qty == 7
    response = manager_client.get(changelist(StockLevel), {"below_reorder_point": "yes"})
    assert [lv.product.sku for lv in response.context["cl"].result_list] == ["MUG"]


# --------------------------------------------------------------------------- order actions


def test_confirm_action_routes_pending_orders_and_reserves_stock(stock, manager_client):
    orders = pending_orders(stock)
    response = run_action(manager_client, Order, "confirm_orders", orders)
    assert response.status_code == 302
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.CONFIRMED
        assert order.allocation_status == Order.AllocationStatus.ALLOCATED
        assert order.shipments.count() == 1
    assert f.quantities(stock.shirt, stock.wh) == (10, 2)
    assert f.quantities(stock.mug, stock.wh) == (5, 2)
    reserves = StockMovement.objects.filter(kind="reserve")
    assert reserves.count() == 4 and set(reserves.values_list("actor", flat=True)) == {"boss"}
    assert messages_of(response) == [
        ("success", f"Confirmed 2 orders: {orders[0].number}, {orders[1].number}")
    ]
    assert stock_ledger_mismatches() == []


def test_cancel_action_asks_for_a_reason_then_releases_stock(stock, manager_client):
    orders = pending_orders(stock)
    for order in orders:
        f.confirm(order)
    assert f.quantities(stock.shirt, stock.wh) == (10, 2)

    page = run_action(manager_client, Order, "cancel_orders", orders)
    assert page.status_code == 200
    assert "admin/action_form.html" in [t.name for t in page.templates]
    assert orders[0].number in page.content.decode()
    assert Order.objects.filter(status=Order.Status.CANCELLED).count() == 0

    response = submit_action_form(
        manager_client, Order, "cancel_orders", orders, reason="Customer changed mind"
    )
    assert response.status_code == 302
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELLED
        assert order.cancel_reason == "Customer changed mind"
        assert set(order.shipments.values_list("status", flat=True)) == {"cancelled"}
    assert f.quantities(stock.shirt, stock.wh) == (10, 0)
    assert f.quantities(stock.mug, stock.wh) == (5, 0)
    assert StockMovement.objects.filter(kind="release", actor="boss").count() == 4
    assert stock_ledger_mismatches() == []


def test_a_failing_order_is_reported_by_name_while_the_others_go_on(world, manager_client):
    shipped = world.order  # delivered: too late to cancel
    fresh = pending_orders(world, n=1)[0]
    f.confirm(fresh)
    response = submit_action_form(
        manager_client, Order, "cancel_orders", [shipped, fresh], reason="Fraud check"
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        ("error", f"{shipped.number}: Order {shipped.number} is delivered; cannot cancel"),
        ("success", f"Cancelled 1 order: {fresh.number}"),
    ]
    shipped.refresh_from_db()
    fresh.refresh_from_db()
    assert shipped.status == Order.Status.DELIVERED
    assert fresh.status == Order.Status.CANCELLED
    assert stock_ledger_mismatches() == []


def test_hold_needs_a_reason_and_release_restores_the_order(stock, manager_client):
    order = pending_orders(stock, n=1)[0]
    response = submit_action_form(manager_client, Order, "hold_orders", [order], reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    response = submit_action_form(
        manager_client, Order, "hold_orders", [order], reason="Address check"
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "Address check")

    run_action(manager_client, Order, "release_orders", [order])
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Order.Status.PENDING, "")
    assert f.event_kinds(order)[-2:] == ["held", "released"]


def test_mark_paid_action(stock, manager_client):
    orders = pending_orders(stock)
    order_mark_paid(order=orders[0])
    response = run_action(manager_client, Order, "mark_paid", orders)
    assert messages_of(response) == [
        (
            "error",
            f"{orders[0].number}: Order {orders[0].number} is paid; cannot set payment to paid",
        ),
        ("success", f"Marked paid 1 order: {orders[1].number}"),
    ]
    orders[1].refresh_from_db()
    assert orders[1].financial_status == Order.FinancialStatus.PAID


# --------------------------------------------------------------------------- shipments


def test_shipment_actions_ship_deliver_and_cancel(stock, manager_client):
    first, second = pending_orders(stock)
    f.confirm(first)
    f.confirm(second)
    ship_a, ship_b = first.shipments.get(), second.shipments.get()

    response = run_action(manager_client, Shipment, "cancel_shipments", [ship_b])
    assert messages_of(response) == [("success", f"Cancelled 1 shipment: {ship_b.number}")]
    manager_client.get(changelist(Shipment))  # shows, and so clears, the messages
    ship_b.refresh_from_db()
    assert ship_b.status == Shipment.Status.CANCELLED

    response = run_action(manager_client, Shipment, "ship_shipments", [ship_a, ship_b])
    assert messages_of(response) == [
        ("error", f"{ship_b.number}: Shipment {ship_b.number} is cancelled; cannot ship"),
        ("success", f"Shipped 1 shipment: {ship_a.number}"),
    ]
    ship_a.refresh_from_db()
    assert ship_a.status == Shipment.Status.SHIPPED
    assert f.quantities(stock.shirt, stock.wh) == (9, 0)

    run_action(manager_client, Shipment, "deliver_shipments", [ship_a])
    first.refresh_from_db()
    assert first.status == Order.Status.DELIVERED
    assert stock_ledger_mismatches() == []


def test_pick_list_actions(stock, manager_client):
    orders = pending_orders(stock)
    shipments = [f.confirm(o).shipments.get() for o in orders]
    response = run_action(manager_client, Shipment, "create_pick_list", shipments)
    pick_list = PickList.objects.get()
    assert messages_of(response) == [
        (
            "success",
            f"Created {pick_list.number} at SP-01: {shipments[0].number}, {shipments[1].number}",
        )
    ]
    run_action(manager_client, PickList, "complete_pick_lists", [pick_list])
    pick_list.refresh_from_db()
    assert pick_list.status == PickList.Status.DONE
    assert set(Shipment.objects.values_list("status", flat=True)) == {"picked"}


# --------------------------------------------------------------------------- returns


def test_return_actions_approve_receive_and_refund(stock, manager_client):
    order = f.place([(stock.shirt, 2)])
    order_mark_paid(order=order)
    f.confirm(order)
    shipment_ship(shipment=order.shipments.get())
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 2}])

    response = run_action(manager_client, ReturnRequest, "receive_returns", [rma])
    assert messages_of(response) == [
        ("error", f"{rma.number}: Return {rma.number} is requested; cannot receive")
    ]
    run_action(manager_client, ReturnRequest, "approve_returns", [rma])
    run_action(manager_client, ReturnRequest, "receive_returns", [rma])
    assert f.quantities(stock.shirt, stock.wh) == (10, 0)
    run_action(manager_client, ReturnRequest, "refund_returns", [rma])

    rma.refresh_from_db()
    order.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REFUNDED
    assert rma.refunds.get().amount == Decimal("39.80")
    assert order.financial_status == Order.FinancialStatus.REFUNDED
    assert StockMovement.objects.get(kind="return_restock").actor == "boss"
    assert stock_ledger_mismatches() == []


def test_rejecting_returns_asks_for_a_reason_first(stock, manager_client):
    order = f.place([(stock.shirt, 2)])
    f.confirm(order)
    shipment_ship(shipment=order.shipments.get())
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    page = run_action(manager_client, ReturnRequest, "reject_returns", [rma])
    assert page.status_code == 200 and "Reject returns" in page.content.decode()
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REQUESTED

    response = submit_action_form(
        manager_client, ReturnRequest, "reject_returns", [rma], reason="Outside the window"
    )
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REJECTED
    assert messages_of(response) == [("success", f"Rejected 1 return request: {rma.number}")]


# --------------------------------------------------------------------------- stock forms


def test_receive_stock_form_on_products_writes_a_receipt(stock, manager_client):
    page = run_action(manager_client, Product, "receive_stock", [stock.mug])
    assert page.status_code == 200
    assert set(page.context["form"].fields) == {"warehouse", "quantity", "reference", "note"}

    response = submit_action_form(
        manager_client,
        Product,
        "receive_stock",
        [stock.mug],
        warehouse=stock.other.pk,
        quantity=7,
        reference="PO-77",
    )
    assert response.status_code == 302
    movement = StockMovement.objects.get(warehouse=stock.other)
    assert (movement.kind, movement.on_hand_delta, movement.reference, movement.actor) == (
        "receipt",
        7,
        "PO-77",
        "boss",
    )
    assert f.quantities(stock.mug, stock.other) == (7, 0)
    assert stock_ledger_mismatches() == []


def test_receive_stock_form_on_stock_levels_uses_the_levels_warehouse(stock, manager_client):
    levels = list(StockLevel.objects.filter(warehouse=stock.wh))
    page = run_action(manager_client, StockLevel, "receive_stock", levels)
    assert "warehouse" not in page.context["form"].fields
    submit_action_form(manager_client, StockLevel, "receive_stock", levels, quantity=3)
    assert f.quantities(stock.shirt, stock.wh) == (13, 0)
    assert f.quantities(stock.mug, stock.wh) == (8, 0)
    assert stock_ledger_mismatches() == []


def test_adjust_form_with_a_counted_quantity_writes_a_count(stock, manager_client):
    level = f.level(stock.shirt, stock.wh)
    response = submit_action_form(
        manager_client, StockLevel, "adjust_stock", [level], counted=4, reason="Cycle count"
    )
    assert response.status_code == 302
    movement = StockMovement.objects.get(kind="count")
    assert (movement.on_hand_delta, movement.note, movement.actor) == (-6, "Cycle count", "boss")
    assert f.quantities(stock.shirt, stock.wh) == (4, 0)
    assert stock_ledger_mismatches() == []


def test_adjust_form_with_a_delta_on_products(stock, manager_client):
    response = submit_action_form(
        manager_client,
        Product,
        "adjust_stock",
        [stock.shirt],
        warehouse=stock.wh.pk,
        delta=-2,
        reason="Damaged in storage",
    )
    assert response.status_code == 302
    assert f.movements(kind="adjustment") == [("adjustment", -2, 0, "")]
    assert f.quantities(stock.shirt, stock.wh) == (8, 0)


def test_adjust_below_reserved_is_reported_by_name(stock, manager_client):
    f.confirm(f.place([(stock.shirt, 3)]))
    levels = list(StockLevel.objects.filter(warehouse=stock.wh).order_by("pk"))
    shirt_level = next(lv for lv in levels if lv.product_id == stock.shirt.pk)
    response = submit_action_form(
        manager_client, StockLevel, "adjust_stock", levels, counted=1, reason="Count"
    )
    errors = [m for level, m in messages_of(response) if level == "error"]
    assert len(errors) == 1 and errors[0].startswith(f"{shirt_level}: Counted 1 of TSHIRT-M")
    assert f.quantities(stock.shirt, stock.wh) == (10, 3)
    assert f.quantities(stock.mug, stock.wh) == (1, 0)
    assert stock_ledger_mismatches() == []


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("receive_stock", {"quantity": 0}, "quantity"),
        ("receive_stock", {"quantity": "lots"}, "quantity"),
        ("adjust_stock", {"counted": 3, "reason": ""}, "reason"),
        ("adjust_stock", {"delta": 0, "reason": "oops"}, "delta"),
        ("adjust_stock", {"delta": 1, "counted": 3, "reason": "both"}, "__all__"),
        ("adjust_stock", {"reason": "neither"}, "__all__"),
    ],
)
def test_bad_stock_form_input_shows_an_error_and_changes_nothing(
    stock, manager_client, action, data, field
):
    levels = list(StockLevel.objects.all())
    movements_before = StockMovement.objects.count()
    response = submit_action_form(manager_client, StockLevel, action, levels, **data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert b"errornote" in response.content
    assert StockMovement.objects.count() == movements_before
    assert f.quantities(stock.shirt, stock.wh) == (10, 0)


# --------------------------------------------------------------------------- queries


@pytest.mark.parametrize(
    "model", [Order, Shipment, StockLevel, StockMovement, OrderEvent, ReturnRequest, Product]
)
def test_changelists_do_not_query_per_row(
    world, manager_client, model, django_assert_max_num_queries
):
    f.receive(world.shirt, world.wh, 20)
    f.receive(world.mug, world.wh, 20)
    for i in range(10):  # with the world's rows: 11 orders, shipments, returns...
        order = f.place([(world.shirt, 1), (world.mug, 1)], external_id=f"Q{i}")
        order_mark_paid(order=order)
        f.confirm(order)
        shipment_ship(shipment=order.shipments.get())
        return_request(order=order, lines=[{"sku": "MUG", "quantity": 1}])
    with django_assert_max_num_queries(14):
        response = manager_client.get(changelist(model))
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_actions_commit_each_object_in_its_own_transaction(stock, manager_client):
    """As in production (no request-wide transaction): each service call commits on its
    own, so a failure leaves the others' work in place."""
    ok, cancelled = pending_orders(stock)
    submit_action_form(manager_client, Order, "cancel_orders", [cancelled], reason="Duplicate")
    manager_client.get(changelist(Order))  # clears the messages
    response = run_action(manager_client, Order, "confirm_orders", [ok, cancelled])
    assert messages_of(response) == [
        ("error", f"{cancelled.number}: Order {cancelled.number} is cancelled; cannot confirm"),
        ("success", f"Confirmed 1 order: {ok.number}"),
    ]
    ok.refresh_from_db()
    assert ok.status == Order.Status.CONFIRMED
    assert f.quantities(stock.shirt, stock.wh) == (10, 1)
    assert stock_ledger_mismatches() == []
