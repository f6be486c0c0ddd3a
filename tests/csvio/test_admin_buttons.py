"""The admin's import (preview, then confirm) and export buttons."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import StockLevel, StockMovement
from orders.models import Order
from tests.csvio.conftest import csv_bytes
from tests.factories import place, receive


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw-123456"))
    return client


def form_data(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value
    return data


def test_stock_import_previews_then_confirms(admin_client, products, warehouses):
    url = "/admin/inventory/stocklevel/import/"
    assert "Import" in admin_client.get("/admin/inventory/stocklevel/").content.decode()
    data = csv_bytes(["SKU", "Warehouse", "On_Hand"], [["SKU-A", "WH1", "4"]], delimiter=";")
    preview = admin_client.post(
        url,
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("s.csv", data)},
    )
    assert preview.status_code == 200
    assert "confirm_form" in preview.context, preview.content.decode()[:3000]
    assert StockLevel.objects.count() == 0  # the preview was rolled back

    confirm = preview.context["confirm_form"]
    done = admin_client.post("/admin/inventory/stocklevel/process_import/", form_data(confirm))
    assert done.status_code == 302
    assert StockLevel.objects.get().on_hand == 4
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.on_hand_delta, movement.actor) == ("import", 4, "boss")


def test_order_export_respects_the_changelist_filter(admin_client, products):
    a, b, _ = products
    kept = place([(a, 1), (b, 1)], external_id="K-1")
    held = place([(a, 2)], external_id="H-1")
    Order.objects.filter(pk=held.pk).update(status="on_hold")
    page = admin_client.get("/admin/orders/order/export/?status__exact=pending")
    assert page.status_code == 200
    response = admin_client.post(
        "/admin/orders/order/export/?status__exact=pending", form_data(page.context["form"])
    )
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("channel,external_id,placed_at")
    assert len(lines) == 3
    assert all(kept.number in line for line in lines[1:])


def test_stock_export_button(admin_client, products, warehouses):
    receive(products[0], warehouses[0], 3)
    page = admin_client.get("/admin/inventory/stocklevel/export/")
    response = admin_client.post(
        "/admin/inventory/stocklevel/export/", form_data(page.context["form"])
    )
    assert response.content.decode().splitlines() == [
        "sku,warehouse,on_hand,bin,reorder_point",
        "SKU-A,WH1,3,,0",
    ]
