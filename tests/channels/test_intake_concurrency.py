"""The same platform delivery arriving twice at the same instant gives one order."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from intake.models import IntakeDelivery
from orders.models import Order
from tests.channels.conftest import Platform, fixture
from tests.conftest import postgres_only


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_deliveries_make_one_order(shop):
    payload = fixture("shopify_orders_create.json")
    barrier = threading.Barrier(3)
    answers = []

    def deliver(webhook_id):
        try:
            barrier.wait()
            response = Platform(APIClient()).shopify(payload, webhook_id=webhook_id)
            answers.append(response.json()["status"])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(w,)) for w in ("same", "same", "other")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(answers) == ["duplicate", "processed", "processed"]
    assert Order.objects.count() == 1
    assert IntakeDelivery.objects.count() == 2
    assert IntakeDelivery.objects.get(delivery_id="same").duplicates == 1
