"""Listings linked from the platform's catalogue, and available-to-sell pushed to the
fake Shopify and WooCommerce stores after every committed stock change."""

import threading

import pytest
from django.db import connection, transaction

from intake.models import ChannelListing, ChannelStockPending, ChannelSyncState
from intake.sync.http import Transport
from intake.sync.listings import channel_link_listings
from intake.sync.stock import channel_stock_push
from inventory.models import StockChangeMark
from inventory.services import stock_adjust, stock_reserve
from tests import factories as f
from tests.conftest import postgres_only
from tests.intake.conftest import set_calls

pytestmark = pytest.mark.django_db


def shopify_catalogue(fake, skus):
    for n, sku in enumerate(skus):
        fake.add_variant(sku, n)


def linked_shopify(fake, channel, skus, stock=None, warehouse=None):
    products = [f.make_product(sku) for sku in skus]
    shopify_catalogue(fake, skus)
    for product in products:
        if stock and warehouse:
            f.receive(product, warehouse, stock)
    channel_link_listings(channel=channel)
    return products


# --------------------------------------------------------------------------- link


def test_link_reports_skus_found_on_one_side_only(fake_shopify, shopify_channel):
    f.make_product("TSHIRT-M")
    f.make_product("MUG-01")
    f.make_product("ONLY-HERE")
    shopify_catalogue(fake_shopify, ["TSHIRT-M", "MUG-01", "ONLY-THERE"])

    report = channel_link_listings(channel=shopify_channel)

    assert report.linked == 2
    assert report.only_on_platform == ["ONLY-THERE"]
    assert "ONLY-HERE" in report.only_here and "MUG-01" not in report.only_here
    listing = ChannelListing.objects.get(channel=shopify_channel, sku="MUG-01")
    assert listing.inventory_item_id == "gid://shopify/InventoryItem/900001"
    assert listing.remote_variant_id == "gid://shopify/ProductVariant/500001"
    assert listing.location_id == fake_shopify.LOCATION


def test_woocommerce_link_finds_simple_products_and_variations(fake_woo, woo_channel):
    for sku in ("MUG-01", "TSHIRT-S", "TSHIRT-M"):
        f.make_product(sku)
    fake_woo.add_product(10, "MUG-01")
    fake_woo.add_product(20, "TSHIRT", "variable")
    fake_woo.add_variation(20, 21, "TSHIRT-S")
    fake_woo.add_variation(20, 22, "TSHIRT-M")

    report = channel_link_listings(channel=woo_channel)

    assert report.linked == 3 and report.only_on_platform == []  # the parent is no SKU
    variation = ChannelListing.objects.get(channel=woo_channel, sku="TSHIRT-M")
    assert (variation.remote_product_id, variation.remote_variant_id) == ("20", "22")


def test_wrong_token_is_refused_with_the_platform_message(fake_shopify, shopify_channel):
    shopify_channel.access_token = "shpat_wrong"
    from intake.sync.http import ChannelRefused

    with pytest.raises(ChannelRefused, match="Invalid API key or access token"):
        channel_link_listings(channel=shopify_channel)


# --------------------------------------------------------------------------- push


def test_reservation_and_receipt_reach_shopify_after_commit(
    fake_shopify, shopify_channel, warehouses, django_capture_on_commit_callbacks
):
    sp, rj = warehouses
    (mug,) = linked_shopify(fake_shopify, shopify_channel, ["MUG-01"])
    with django_capture_on_commit_callbacks(execute=True):
        f.receive(mug, sp, 7)
        f.receive(mug, rj, 3)
    assert fake_shopify.available("MUG-01") == 10

    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(product=mug, warehouse=sp, quantity=4)
    assert fake_shopify.available("MUG-01") == 6

    with django_capture_on_commit_callbacks(execute=True):
        f.receive(mug, rj, 5)
    assert fake_shopify.available("MUG-01") == 11
    assert not ChannelStockPending.objects.exists()
    assert not StockChangeMark.objects.exists()
    state = ChannelSyncState.objects.get(channel=shopify_channel)
    assert state.last_push_skus == 1 and state.last_error == ""


def test_buffer_share_and_chosen_points_shape_what_the_channel_sells(
    fake_shopify, shopify_channel, warehouses
):
    sp, rj = warehouses
    (mug,) = linked_shopify(fake_shopify, shopify_channel, ["MUG-01"])
    f.receive(mug, sp, 20)
    f.receive(mug, rj, 100)
    shopify_channel.stock_buffer = 2
    shopify_channel.stock_share_percent = 50
    shopify_channel.save()
    shopify_channel.stock_warehouses.set([sp])

    report = channel_stock_push(channel=shopify_channel, full=True)

    assert report.sent == {"MUG-01": 9}  # (20 - 2) * 50%
    assert fake_shopify.available("MUG-01") == 9
    stock_reserve(product=mug, warehouse=sp, quantity=19)  # 1 left, under the buffer
    channel_stock_push(channel=shopify_channel)
    assert fake_shopify.available("MUG-01") == 0


def test_501_skus_go_to_shopify_in_3_calls(fake_shopify, shopify_channel, warehouses):
    skus = [f"SKU-{n:04d}" for n in range(501)]
    products = linked_shopify(fake_shopify, shopify_channel, skus)
    sp, _ = warehouses
    from inventory.services import StockChange, stock_apply

    stock_apply(
        changes=[StockChange(p.pk, sp.pk, "receipt", n + 1) for n, p in enumerate(products)],
        create_missing=True,
    )

    report = channel_stock_push(channel=shopify_channel)

    calls = set_calls(fake_shopify)
    assert [len(c["body"]["variables"]["input"]["quantities"]) for c in calls] == [250, 250, 1]
    assert len(report.sent) == 501 and report.calls == 3
    assert fake_shopify.available("SKU-0500") == 501
    # 2026-04: idempotency key and an explicit compare-and-swap opt-out on each item
    assert "@idempotent(key:" in calls[0]["body"]["query"]
    assert calls[0]["body"]["variables"]["input"]["quantities"][0]["changeFromQuantity"] is None
    assert calls[0]["headers"]["X-Shopify-Access-Token"] == shopify_channel.access_token


def test_throttled_push_waits_as_the_cost_says_then_lands(
    fake_shopify, shopify_channel, warehouses
):
    sp, _ = warehouses
    linked_shopify(fake_shopify, shopify_channel, ["MUG-01"], stock=5, warehouse=sp)
    fake_shopify.throttle_next(2)
    waits = []

    report = channel_stock_push(
        channel=shopify_channel, full=True, transport=Transport(sleep=waits.append)
    )

    assert report.sent == {"MUG-01": 5} and fake_shopify.available("MUG-01") == 5
    assert waits == [pytest.approx(0.01), pytest.approx(0.01)]  # (250 - 249) / 100 per second
    assert len(set_calls(fake_shopify)) == 3


def test_429_with_retry_after_is_honoured(fake_woo, woo_channel, warehouses):
    sp, _ = warehouses
    mug = f.make_product("MUG-01")
    fake_woo.add_product(10, "MUG-01")
    channel_link_listings(channel=woo_channel)
    f.receive(mug, sp, 4)
    fake_woo.fail_next(429, retry_after=1.5)
    waits = []

    report = channel_stock_push(channel=woo_channel, transport=Transport(sleep=waits.append))

    assert waits == [1.5] and report.sent == {"MUG-01": 4}
    assert fake_woo.stock("MUG-01") == 4


def test_5xx_is_retried_then_accepted_by_woocommerce(fake_woo, woo_channel, warehouses):
    sp, _ = warehouses
    for pid, sku in ((10, "MUG-01"), (20, "CAP-01")):
        f.make_product(sku)
        fake_woo.add_product(pid, sku)
    fake_woo.add_product(30, "TSHIRT", "variable")
    f.make_product("TSHIRT-M")
    fake_woo.add_variation(30, 31, "TSHIRT-M")
    channel_link_listings(channel=woo_channel)
    from inventory.models import Product

    for sku, qty in (("MUG-01", 3), ("CAP-01", 8), ("TSHIRT-M", 2)):
        f.receive(Product.objects.get(sku=sku), sp, qty)
    fake_woo.fail_next(503, times=2)

    report = channel_stock_push(channel=woo_channel)

    assert report.sent == {"MUG-01": 3, "CAP-01": 8, "TSHIRT-M": 2}
    assert (fake_woo.stock("MUG-01"), fake_woo.stock("CAP-01"), fake_woo.stock("TSHIRT-M")) == (
        3,
        8,
        2,
    )
    batch = [r for r in fake_woo.requests if r["path"].endswith("/products/batch")][-1]
    assert {"id": 10, "manage_stock": True, "stock_quantity": 3} in batch["body"]["update"]
    assert any(
        r["path"] == "/wp-json/wc/v3/products/30/variations/batch" for r in fake_woo.requests
    )


def test_rolled_back_change_pushes_nothing(fake_shopify, shopify_channel, warehouses):
    sp, _ = warehouses
    (mug,) = linked_shopify(fake_shopify, shopify_channel, ["MUG-01"], stock=5, warehouse=sp)
    channel_stock_push(channel=shopify_channel)
    before = len(set_calls(fake_shopify))

    with pytest.raises(RuntimeError), transaction.atomic():
        stock_reserve(product=mug, warehouse=sp, quantity=2)
        raise RuntimeError("the order failed")

    assert not StockChangeMark.objects.exists()
    report = channel_stock_push(channel=shopify_channel)
    assert report.sent == {} and len(set_calls(fake_shopify)) == before
    assert fake_shopify.available("MUG-01") == 5


def test_user_error_is_reported_per_sku_and_the_rest_still_lands(
    fake_shopify, shopify_channel, warehouses
):
    sp, _ = warehouses
    linked_shopify(fake_shopify, shopify_channel, ["MUG-01", "CAP-01"], stock=3, warehouse=sp)
    ChannelListing.objects.filter(sku="CAP-01").update(
        inventory_item_id="gid://shopify/InventoryItem/404"
    )

    report = channel_stock_push(channel=shopify_channel)

    assert report.sent == {"MUG-01": 3}
    assert report.failed == {
        "CAP-01": "The specified inventory item could not be found. (INVALID_INVENTORY_ITEM)"
    }
    pending = ChannelStockPending.objects.get()
    assert pending.product.sku == "CAP-01" and "could not be found" in pending.last_error
    assert pending.attempts == 1 and pending.next_attempt_at > pending.marked_at


def test_a_failed_push_keeps_the_mark_and_the_retry_sends_the_latest_quantity(
    fake_shopify, shopify_channel, warehouses, settings
):
    sp, _ = warehouses
    (mug,) = linked_shopify(fake_shopify, shopify_channel, ["MUG-01"], stock=5, warehouse=sp)
    fake_shopify.fail_next(502, times=settings.OMS_CHANNEL_ATTEMPTS)

    report = channel_stock_push(channel=shopify_channel)

    assert report.sent == {} and "HTTP 502" in report.failed["MUG-01"]
    assert fake_shopify.available("MUG-01") == 0
    stock_adjust(product=mug, warehouse=sp, counted=2, reason="cycle count")
    assert channel_stock_push(channel=shopify_channel).sent == {}  # backoff not over yet
    ChannelStockPending.objects.update(next_attempt_at=ChannelStockPending.objects.get().marked_at)

    assert channel_stock_push(channel=shopify_channel).sent == {"MUG-01": 2}
    assert fake_shopify.available("MUG-01") == 2 and not ChannelStockPending.objects.exists()


def test_csv_stock_import_marks_the_skus_it_changed(fake_shopify, shopify_channel, warehouses):
    from inventory.imports import import_stock

    sp, _ = warehouses
    linked_shopify(fake_shopify, shopify_channel, ["MUG-01", "CAP-01"])
    csv = "sku,warehouse,on_hand,bin,reorder_point\nMUG-01,SP-01,12,A1,0\nCAP-01,SP-01,4,A2,0\n"
    import_stock(csv.encode(), actor=None)

    report = channel_stock_push(channel=shopify_channel)

    assert report.sent == {"MUG-01": 12, "CAP-01": 4}


# --------------------------------------------------------------------------- concurrency


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_end_with_the_true_quantity_on_the_channel(
    fake_shopify, shopify_channel, warehouses
):
    sp, rj = warehouses
    (mug,) = linked_shopify(fake_shopify, shopify_channel, ["MUG-01"])
    f.receive(mug, sp, 40)
    f.receive(mug, rj, 40)
    errors = []

    def reserve(warehouse, times):
        try:
            for _ in range(times):
                stock_reserve(product=mug, warehouse=warehouse, quantity=1)  # push after commit
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(wh, 6)) for wh in (sp, rj, sp, rj)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert fake_shopify.available("MUG-01") == 80 - 24
    assert not ChannelStockPending.objects.exists()
