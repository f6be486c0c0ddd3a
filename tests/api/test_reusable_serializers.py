"""kernel.api.reusable: one serializer instance per thread validates and represents
exactly as fresh instances do, and keeps nothing from one call to the next."""

import threading

import pytest
from rest_framework.exceptions import ValidationError

from kernel.api import represent, reusable
from orders.api import OrderCreateSerializer, OrderSerializer
from tests import factories as f
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db

BAD = [
    {"lines": []},
    {"lines": [{"sku": "NOPE", "quantity": 1}]},
    {"currency": "euro", "shipping_total": "-1"},
    {"channel": ["web"], "customer": {"email": "x"}},
    {"shipping_address": None},
]


def fresh_errors(data):
    serializer = OrderCreateSerializer(data=data)
    assert not serializer.is_valid()
    return serializer.errors


def test_reused_validation_gives_the_errors_and_data_of_a_fresh_serializer(db):
    f.make_product("TSHIRT-M")
    good = order_body()
    for override in BAD:
        data = order_body(**override)
        with pytest.raises(ValidationError) as raised:
            reusable(OrderCreateSerializer).run_validation(data)
        assert raised.value.detail == fresh_errors(data)
        # nothing of the bad call stays behind for the next one
        fresh = OrderCreateSerializer(data=good)
        assert fresh.is_valid(), fresh.errors
        assert reusable(OrderCreateSerializer).run_validation(good) == fresh.validated_data


def test_reused_representation_equals_a_fresh_one_and_instances_are_per_thread(db):
    wh = f.make_warehouse("SP-01")
    shirt = f.make_product("TSHIRT-M")
    f.receive(shirt, wh, 5)
    first, second = (f.place([(shirt, n)], external_id=f"R-{n}") for n in (1, 2))
    for order in (first, second, first):
        assert represent(OrderSerializer, order) == OrderSerializer(order).data
    here = reusable(OrderSerializer)
    assert reusable(OrderSerializer) is here
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(reusable(OrderSerializer)))
    thread.start()
    thread.join()
    assert elsewhere[0] is not here
