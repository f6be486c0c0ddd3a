"""The staff imports page: managers upload, the job runs (q2 sync), the result shows."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from kernel.models import ImportJob
from tests.csvio.conftest import assert_nothing_written, csv_bytes, snapshot

HEADER = ["sku", "warehouse", "on_hand"]


def user_in(group: str) -> User:
    user = User.objects.create_user(f"{group}-user", password="pw-123456")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def manager_client(client, db):
    client.force_login(user_in("manager"))
    return client


def upload(client, data: bytes, *, kind="stock", name="stock.csv", **extra):
    return client.post(
        reverse("imports:list"),
        {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv"), **extra},
    )


def test_manager_uploads_and_sees_the_result(
    manager_client, products, warehouses, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, csv_bytes(HEADER, [["SKU-A", "WH1", "5"]]))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    assert (job.status, job.rows_total, job.rows_done) == ("done", 1, 1)
    assert job.result["new"] == 1 and job.result["batch"].startswith("IMP-")
    assert StockLevel.objects.get().on_hand == 5
    assert StockMovement.objects.get().reference == job.result["batch"]

    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "Import finished" in body and job.result["batch"] in body
    assert 'http-equiv="refresh"' not in body
    assert "stock.csv" in manager_client.get(reverse("imports:list")).content.decode()


def test_a_rejected_file_shows_the_report_and_writes_nothing(
    manager_client, products, warehouses, django_capture_on_commit_callbacks
):
    before = snapshot()
    data = csv_bytes(["sku", "name", "price"], [["SKU-A", "A", "19,90"]], delimiter=";")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, data, kind="products", name="p.csv")
    job = ImportJob.objects.get()
    assert job.status == "rejected"
    assert job.errors == [
        {
            "row": 2,
            "column": "price",
            "value": "19,90",
            "message": "price uses a comma as the decimal separator; write decimals with "
            "a point (19.90), without thousands separators",
        }
    ]
    body = manager_client.get(response["Location"]).content.decode()
    assert "The file was rejected" in body
    assert "comma as the decimal separator" in body
    report = manager_client.get(reverse("imports:errors_csv", args=[job.pk]))
    assert report.content.decode().splitlines()[1].startswith('2,price,"19,90",')
    assert_nothing_written(before)


def test_page_shows_progress_and_refreshes_while_running(manager_client):
    job = ImportJob.objects.create(
        kind="orders",
        file="imports/orders/x.csv",
        filename="x.csv",
        status="running",
        rows_total=200,
        rows_done=50,
        message="validating",
    )
    body = manager_client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "50 / 200" in body and "(25%)" in body
    assert '<meta http-equiv="refresh" content="2">' in body


def test_warehouse_user_gets_403(client, db):
    client.force_login(user_in("warehouse"))
    assert client.get(reverse("imports:list")).status_code == 403
    response = client.post(
        reverse("imports:list"),
        {"kind": "stock", "file": SimpleUploadedFile("s.csv", b"sku\nA\n")},
    )
    assert response.status_code == 403
    assert client.get(reverse("imports:export", args=["orders"])).status_code == 403
    assert ImportJob.objects.count() == 0


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_oversize_file_is_rejected_with_a_form_error(manager_client, settings):
    settings.OMS_MAX_UPLOAD_MB = 1
    response = upload(manager_client, b"sku,warehouse,on_hand\n" + b"A,WH1,1\n" * 200_000)
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_manager_downloads_an_export(manager_client, products):
    response = manager_client.get(reverse("imports:export", args=["products"]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("sku,name,barcode,price")
    assert len(body.splitlines()) == 4
