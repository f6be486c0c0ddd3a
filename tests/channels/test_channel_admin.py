"""Admin: channel secrets generated and shown once, rotation, intake URLs; the webhook
subscription, delivery log and intake log pages with their actions."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from intake.models import IntakeDelivery, IntakeSecretRotation
from kernel.models import WebhookDelivery, WebhookSubscription
from kernel.roles import MANAGER
from orders.models import Channel
from tests import factories as f
from tests.channels.conftest import SHOPIFY_SECRET, fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_user("boss", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def action(client, model: str, name: str, objects):
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": name, "index": 0, "_selected_action": [o.pk for o in objects]},
        follow=True,  # the changelist shows (and so uses up) the messages
    )


def test_rotate_secret_shows_the_new_secret_once(shop, admin_client):
    response = action(admin_client, "orders_channel", "rotate_webhook_secret", [shop.shopify])

    shop.shopify.refresh_from_db()
    secret = shop.shopify.webhook_secret
    assert secret != SHOPIFY_SECRET
    [message] = messages_of(response)
    assert secret in message and "not shown again" in message
    page = admin_client.get(reverse("admin:orders_channel_change", args=[shop.shopify.pk]))
    html = page.content.decode()
    assert secret not in html and SHOPIFY_SECRET not in html
    assert "/api/v1/channels/shopify-eu/intake/shopify/" in html
    assert "/api/v1/channels/shopify-eu/intake/woocommerce/" in html
    assert "previous secret is accepted until" in html
    rotation = IntakeSecretRotation.objects.get(channel=shop.shopify)
    assert (rotation.previous_secret, rotation.rotated_by) == (SHOPIFY_SECRET, "boss")


def test_pasting_a_secret_replaces_it_and_an_empty_field_keeps_it(shop, admin_client):
    url = reverse("admin:orders_channel_change", args=[shop.shopify.pk])
    form = {
        "code": "shopify-eu",
        "name": "Shopify EU",
        "kind": "web_store",
        "active": "on",
        "handling_days": 2,
        "routing_strategy": "",
        "webhook_secret": "",
    }
    assert admin_client.post(url, form).status_code == 302
    assert Channel.objects.get(pk=shop.shopify.pk).webhook_secret == SHOPIFY_SECRET

    assert admin_client.post(url, {**form, "webhook_secret": "shpss_pasted"}).status_code == 302

    channel = Channel.objects.get(pk=shop.shopify.pk)
    assert (channel.webhook_secret, channel.name) == ("shpss_pasted", "Shopify EU")
    assert IntakeSecretRotation.objects.get(channel=channel).previous_secret == SHOPIFY_SECRET


def test_subscription_added_in_the_admin_gets_a_secret_shown_once(db, admin_client):
    response = admin_client.post(
        reverse("admin:oms_webhooksubscription_add"),
        {
            "url": "https://erp.example.com/hooks",
            "event_types": ["order.created", "shipment.shipped"],
            "active": "on",
            "new_secret": "",
        },
        follow=True,
    )

    assert response.redirect_chain[0][1] == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["order.created", "shipment.shipped"]
    assert any(subscription.secret in m for m in messages_of(response))
    page = admin_client.get(reverse("admin:oms_webhooksubscription_change", args=[subscription.pk]))
    assert subscription.secret not in page.content.decode()


def test_delivery_log_pages_and_manual_redelivery(
    db, admin_client, receiver, fast_retries, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(url=receiver.url, event_types=["order.created"])
    product = f.make_product("TSHIRT-M")
    receiver.script = [500] * 4
    with django_capture_on_commit_callbacks(execute=True):
        order = f.place([(product, 1)], external_id="ADM-1")
    last = WebhookDelivery.objects.order_by("-attempt").first()
    assert last.status == "failed"

    changelist = admin_client.get(reverse("admin:oms_webhookdelivery_changelist"))
    assert changelist.status_code == 200 and "500" in changelist.content.decode()
    assert (
        admin_client.get(reverse("admin:oms_webhookdelivery_change", args=[last.pk])).status_code
        == 200
    )
    event_page = admin_client.get(reverse("admin:oms_webhookevent_change", args=[last.event_id]))
    assert order.number in event_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_client, "oms_webhookdelivery", "redeliver", [last])

    assert "Queued again 1" in messages_of(response)[0]
    manual = WebhookDelivery.objects.get(manual=True)
    assert (manual.attempt, manual.status, manual.status_code) == (5, "succeeded", 200)


def test_intake_log_shows_the_payload_and_reprocesses(shop, platform, admin_client):
    payload = fixture("shopify_orders_create.json")
    payload["line_items"][1]["sku"] = "POSTER-XL"
    platform.shopify(payload)
    delivery = IntakeDelivery.objects.get()
    f.make_product("POSTER-XL", price="9.90")

    page = admin_client.get(reverse("admin:intake_intakedelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and "POSTER-XL" in page.content.decode()
    assert (
        admin_client.get(
            reverse("admin:intake_intakedelivery_changelist"), {"q": "5612345678901"}
        ).status_code
        == 200
    )
    response = action(admin_client, "intake_intakedelivery", "reprocess", [delivery])

    delivery.refresh_from_db()
    assert delivery.status == "processed", delivery.message
    assert delivery.order.status == "pending"
    assert any("hold released" in m for m in messages_of(response))
