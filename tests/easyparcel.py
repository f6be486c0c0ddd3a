"""Fixtures for the EasyParcel carrier: the project's development fake of EasyParcel's
open API (``fulfillment.carriers.easyparcel_fake``, the same code ``make run`` starts)
on 127.0.0.1, port 0, in a thread; and a ``Carrier`` of kind ``easyparcel`` pointed at it
with a refresh token the fake knows."""

import pytest

from fulfillment.carriers.easyparcel_fake import FakeEasyParcel
from fulfillment.models import Carrier, CarrierToken

SEED_REFRESH = "seed-refresh-token"


@pytest.fixture
def easyparcel_api():
    fake = FakeEasyParcel(refresh_tokens=(SEED_REFRESH,), currency="BRL").start()
    yield fake
    fake.close()


@pytest.fixture
def easyparcel(db, easyparcel_api, settings):
    settings.OMS_CARRIER_TIMEOUT = 0.5
    settings.OMS_CARRIER_ATTEMPTS = 3
    settings.OMS_CARRIER_BACKOFF = 0.01
    settings.OMS_COMPANY_PHONE = "+55 11 4000-0000"
    carrier = Carrier.objects.create(
        code="easyparcel",
        name="EasyParcel",
        kind=Carrier.Kind.EASYPARCEL,
        base_url=easyparcel_api.url,
        client_id=easyparcel_api.client_id,
        client_secret=easyparcel_api.client_secret,
        webhook_secret="hook-secret-123",
    )
    CarrierToken.objects.create(carrier=carrier, refresh_token=SEED_REFRESH)
    return carrier
