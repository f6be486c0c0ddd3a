"""The channel connection in the API, the admin, the sync page and the commands:
credentials are never shown back; only managers change the connection."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from intake.models import ChannelListing, ChannelStockPending
from intake.sync.listings import channel_link_listings
from intake.sync.stock import channel_stock_push
from kernel.roles import MANAGER, WAREHOUSE
from orders.models import Channel
from tests import factories as f
from tests.api.conftest import _client_for
from tests.intake.fakes import FakeShopify

pytestmark = pytest.mark.django_db

TOKEN = "shpat_secret_value_9f8e7d6c"


@pytest.fixture
def manager_api(db):
    return _client_for("boss", MANAGER)


@pytest.fixture
def integration_api(db):
    return _client_for("shop-integration", "integration")


@pytest.fixture
def manager_client(client, db):
    user = User.objects.create_user("chief", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    return client


def test_manager_connects_a_channel_and_the_token_is_never_shown_back(manager_api, warehouses):
    response = manager_api.post(
        "/api/v1/channels/",
        {
            "code": "shopify-eu",
            "name": "Shopify EU",
            "kind": "web_store",
            "platform": "shopify",
            "api_url": "https://shop-eu.myshopify.com",
            "access_token": TOKEN,
            "stock_warehouses": ["SP-01"],
            "stock_buffer": 2,
            "stock_share_percent": 50,
            "push_stock": True,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert TOKEN not in response.content.decode()
    body = response.json()
    assert body["credentials"]["access_token"] == "****7d6c"
    assert body["stock_warehouses"] == ["SP-01"] and body["stock_share_percent"] == 50
    assert Channel.objects.get(code="shopify-eu").access_token == TOKEN
    listing = manager_api.get("/api/v1/channels/shopify-eu/")
    assert TOKEN not in listing.content.decode()
    # omitted: kept
    manager_api.patch("/api/v1/channels/shopify-eu/", {"stock_buffer": 3}, format="json")
    assert Channel.objects.get(code="shopify-eu").access_token == TOKEN


def test_connection_needs_its_credentials_and_https(manager_api):
    response = manager_api.post(
        "/api/v1/channels/",
        {
            "code": "woo",
            "name": "Woo",
            "platform": "woocommerce",
            "api_url": "http://shop.example.com",
            "consumer_key": "ck_1",
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert "https" in body["api_url"][0]
    assert body["consumer_secret"] == ["The WooCommerce consumer secret is required."]


def test_integration_accounts_cannot_change_the_connection(integration_api):
    f.channel("web")
    response = integration_api.patch(
        "/api/v1/channels/web/", {"access_token": "stolen"}, format="json"
    )
    assert response.status_code == 403
    # editing channels at all is for managers (issue 16): an integration token reads them
    assert (
        integration_api.patch(
            "/api/v1/channels/web/", {"handling_days": 3}, format="json"
        ).status_code
        == 403
    )
    assert integration_api.get("/api/v1/channels/web/").status_code == 200


def test_admin_page_masks_the_token_and_keeps_it_when_left_empty(manager_client, shopify_channel):
    url = reverse("admin:orders_channel_change", args=[shopify_channel.pk])
    page = manager_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert FakeShopify.TOKEN not in html and "access token: ****cdef" in html

    form = {
        "code": "shopify-eu",
        "name": "Shopify EU renamed",
        "kind": "web_store",
        "active": "on",
        "handling_days": "2",
        "routing_strategy": "",
        "auto_confirm_require_payment": "on",
        "platform": "shopify",
        "api_url": shopify_channel.api_url,
        "access_token": "",
        "stock_buffer": "0",
        "push_stock": "on",
    }
    response = manager_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    shopify_channel.refresh_from_db()
    assert shopify_channel.name == "Shopify EU renamed"
    assert shopify_channel.access_token == FakeShopify.TOKEN


def test_admin_action_links_listings(manager_client, fake_shopify, shopify_channel):
    f.make_product("MUG-01")
    fake_shopify.add_variant("MUG-01", 1)
    fake_shopify.add_variant("GONE-01", 2)

    response = manager_client.post(
        reverse("admin:orders_channel_changelist"),
        {"action": "link_listings", "_selected_action": [shopify_channel.pk]},
        follow=True,
    )

    assert ChannelListing.objects.filter(channel=shopify_channel, sku="MUG-01").exists()
    assert "only on the platform: 1 (GONE-01)" in response.content.decode()


def test_sync_page_shows_failures_with_the_platform_message_and_resyncs(
    manager_client, fake_shopify, shopify_channel, warehouses
):
    sp, _ = warehouses
    for n, sku in enumerate(["MUG-01", "CAP-01"]):
        f.receive(f.make_product(sku), sp, 4)
        fake_shopify.add_variant(sku, n)
    channel_link_listings(channel=shopify_channel)
    ChannelListing.objects.filter(sku="CAP-01").update(
        inventory_item_id="gid://shopify/InventoryItem/404"
    )
    channel_stock_push(channel=shopify_channel, full=True)

    page = manager_client.get(reverse("channel-sync:list"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "The specified inventory item could not be found." in html and "CAP-01" in html
    assert "1 sent, 1 failed" in html

    response = manager_client.post(reverse("channel-sync:resync", args=["shopify-eu"]))
    assert response.status_code == 302
    assert fake_shopify.available("MUG-01") == 4
    assert ChannelStockPending.objects.get().product.sku == "CAP-01"


def test_sync_page_is_for_managers(client, db):
    user = User.objects.create_user("picker", password="pw")
    user.groups.add(Group.objects.get(name=WAREHOUSE))
    client.force_login(user)
    assert client.get(reverse("channel-sync:list")).status_code == 403


def test_sync_command_prints_what_it_sent(fake_shopify, shopify_channel, warehouses, capsys):
    sp, _ = warehouses
    f.receive(f.make_product("MUG-01"), sp, 6)
    fake_shopify.add_variant("MUG-01", 1)
    call_command("link_channel_listings", "shopify-eu")

    call_command("sync_channel_stock", "shopify-eu", "--all")

    out = capsys.readouterr().out
    assert "1 SKUs linked" in out and "MUG-01: 6" in out and "1 sent, 0 failed" in out
    with pytest.raises(CommandError, match="No channel"):
        call_command("sync_channel_stock", "nope")
