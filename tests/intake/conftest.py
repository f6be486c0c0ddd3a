import pytest

from intake.sync import wiring
from orders.models import Channel
from tests import factories as f
from tests.intake.fakes import FakeShopify, FakeWoo


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.OMS_CHANNEL_BACKOFF = 0.0
    settings.OMS_CHANNEL_TIMEOUT = 5
    settings.OMS_PUBLIC_URL = "https://oms.example"
    wiring.forget_cache()
    yield
    wiring.forget_cache()


@pytest.fixture
def fake_shopify():
    store = FakeShopify().start()
    yield store
    store.stop()


@pytest.fixture
def fake_woo():
    store = FakeWoo().start()
    yield store
    store.stop()


@pytest.fixture
def warehouses(db):
    return f.make_warehouse("SP-01", priority=1), f.make_warehouse("RJ-01", priority=2)


@pytest.fixture
def shopify_channel(db, fake_shopify):
    return Channel.objects.create(
        code="shopify-eu",
        name="Shopify EU",
        platform="shopify",
        api_url=fake_shopify.url,
        access_token=FakeShopify.TOKEN,
        push_stock=True,
        push_fulfillments=True,
    )


@pytest.fixture
def woo_channel(db, fake_woo):
    return Channel.objects.create(
        code="woo-br",
        name="Woo BR",
        platform="woocommerce",
        api_url=fake_woo.url,
        consumer_key=FakeWoo.KEY,
        consumer_secret=FakeWoo.SECRET,
        push_stock=True,
        push_fulfillments=True,
    )


def set_calls(store) -> list[dict]:
    return [
        r
        for r in store.requests
        if r["body"] and "inventorySetQuantities" in (r["body"].get("query") or "")
    ]
