"""The webhooks API: subscriptions (secret shown once), the delivery log, redelivery."""

import pytest

from kernel.models import WebhookDelivery, WebhookSubscription
from tests import factories as f

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


def test_create_returns_the_secret_once_and_list_never_shows_it(api):
    response = api.post(
        SUBSCRIPTIONS,
        {"url": "https://erp.example.com/hooks", "event_types": ["order.created", "stock.low"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    created = response.json()
    secret = created["secret"]
    assert len(secret) >= 32
    assert WebhookSubscription.objects.get().secret == secret
    listed = api.get(SUBSCRIPTIONS).json()["results"]
    assert listed == [
        {
            "id": created["id"],
            "url": "https://erp.example.com/hooks",
            "description": "",
            "event_types": ["order.created", "stock.low"],
            "active": True,
            "created_at": created["created_at"],
        }
    ]
    assert secret not in str(api.get(f"{SUBSCRIPTIONS}{created['id']}/").json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example.com/", "event_types": ["*"]}, "url"),
        ({"url": "https://x.example.com/", "event_types": ["order.exploded"]}, "event_types"),
        ({"url": "https://x.example.com/", "event_types": []}, "event_types"),
        ({"url": "https://x.example.com/", "event_types": ["*"], "secret": "short"}, "secret"),
    ],
)
def test_bad_subscriptions_are_refused_with_field_errors(api, body, field):
    response = api.post(SUBSCRIPTIONS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


def test_delete_keeps_the_delivery_log(api):
    subscription = WebhookSubscription.objects.create(url="http://127.0.0.1:9/x", event_types=["*"])
    product = f.make_product("TSHIRT-M")
    f.place([(product, 1)], external_id="A-1")

    assert api.delete(f"{SUBSCRIPTIONS}{subscription.pk}/").status_code == 204

    assert not WebhookSubscription.objects.exists()
    assert WebhookDelivery.objects.get().url == "http://127.0.0.1:9/x"


def test_deliveries_list_filters_and_redelivers(
    api,
    receiver,
    fast_retries,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    WebhookSubscription.objects.create(url=receiver.url, event_types=["*"])
    product = f.make_product("TSHIRT-M")
    receiver.script = [500]
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            f.place([(product, 1)], external_id=f"L-{i}")

    with django_assert_max_num_queries(6):
        response = api.get(DELIVERIES, {"status": "failed"})
    rows = response.json()["results"]
    assert [(r["attempt"], r["status"], r["status_code"]) for r in rows] == [(1, "failed", 500)]
    assert rows[0]["event_type"] == "order.created"
    assert len(api.get(DELIVERIES, {"event_type": "order.created"}).json()["results"]) == 6

    succeeded = WebhookDelivery.objects.filter(status="succeeded").order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{DELIVERIES}{succeeded.pk}/redeliver/")

    assert response.status_code == 202
    again = response.json()
    assert again["manual"] is True and again["attempt"] == succeeded.attempt + 1
    assert WebhookDelivery.objects.get(pk=again["id"]).status == "succeeded"
    headers = [r.headers["X-OMS-Delivery"] for r in receiver.requests]
    assert headers.count(receiver.requests[-1].headers["X-OMS-Delivery"]) == 2


def test_webhooks_api_is_for_integrations_and_managers(
    anon_api,
    warehouse_api,
    manager_api,
):
    assert anon_api.get(SUBSCRIPTIONS).status_code == 401
    assert warehouse_api.get(SUBSCRIPTIONS).status_code == 403
    assert warehouse_api.get(DELIVERIES).status_code == 403
    assert manager_api.get(DELIVERIES).status_code == 200
