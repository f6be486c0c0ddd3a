"""Every URL pattern, requested (GET) as each kind of visitor, answers what the table
says. A new URL without a row in the table fails the test: whoever adds a page decides
who may see it.

Columns: anonymous, warehouse, manager, integration, superuser.
"""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from fulfillment.services import (
    order_confirm_and_allocate,
    pick_list_create,
    shipment_deliver,
    shipment_ship,
)
from intake.models import OrderDraft
from kernel.models import ImportJob
from returns.services import return_approve, return_request
from tests import factories as f

ROLES = ("anon", "warehouse", "manager", "integration", "superuser")
LOGIN = 302  # redirected to the login page
API_ANON = 401

# fmt: off
# route (as Django prints it, format-suffix variants dropped): expected per role
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "": (LOGIN, 200, 200, 200, 200),
    "start/": (LOGIN, 302, 302, 302, 302),  # where a login lands: dashboard or home
    # staff pages: managers only
    "dashboard/": (LOGIN, 403, 200, 403, 200),
    "replenishment/": (LOGIN, 403, 200, 403, 200),
    "replenishment/export.csv": (LOGIN, 403, 200, 403, 200),
    "review/": (LOGIN, 403, 200, 403, 200),
    "review/<str:number>/approve/": (LOGIN, 403, 405, 403, 405),
    "review/<str:number>/cancel/": (LOGIN, 403, 405, 403, 405),
    "imports/": (LOGIN, 403, 200, 403, 200),
    "imports/<int:pk>/": (LOGIN, 403, 200, 403, 200),
    "imports/<int:pk>/errors.csv": (LOGIN, 403, 200, 403, 200),
    "imports/export/<slug:kind>.csv": (LOGIN, 403, 200, 403, 200),
    "channels/sync/": (LOGIN, 403, 200, 403, 200),
    "channels/sync/<slug:code>/resync/": (LOGIN, 403, 405, 403, 405),
    "orders/": (LOGIN, 403, 200, 403, 200),
    "orders/<str:number>/": (LOGIN, 403, 200, 403, 200),
    "orders/^(?P<number>[^/]+)/(?P<action>confirm|hold|release|cancel)/$":
        (LOGIN, 403, 405, 403, 405),
    "orders/<str:number>/reroute/": (LOGIN, 403, 405, 403, 405),
    "orders/<str:number>/notes/": (LOGIN, 403, 405, 403, 405),
    "orders/customers/<path:email>/": (LOGIN, 403, 200, 403, 200),
    # staff-created orders (drafts): managers only; the writes are POST
    "orders/new/": (LOGIN, 403, 200, 403, 200),
    "orders/new/start/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/": (LOGIN, 403, 200, 403, 200),
    "orders/new/<int:pk>/customer/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/lines/scan/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/lines/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/lines/remove/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/place/": (LOGIN, 403, 405, 403, 405),
    "orders/new/<int:pk>/discard/": (LOGIN, 403, 405, 403, 405),
    "orders/<str:number>/edit/": (LOGIN, 403, 405, 403, 405),
    "orders/<str:number>/cancel-lines/": (LOGIN, 403, 405, 403, 405),
    # accounts
    "accounts/login/": (200, 200, 200, 200, 200),
    "accounts/logout/": (405, 405, 405, 405, 405),
    "accounts/password_change/": (LOGIN, 200, 200, 200, 200),
    "accounts/password_change/done/": (LOGIN, 200, 200, 200, 200),
    "accounts/password_reset/": (200, 200, 200, 200, 200),
    "accounts/password_reset/done/": (200, 200, 200, 200, 200),
    "accounts/reset/<uidb64>/<token>/": (200, 200, 200, 200, 200),
    "accounts/reset/done/": (200, 200, 200, 200, 200),
    # warehouse floor: warehouse staff and managers
    "floor/returns/": (LOGIN, 200, 200, 403, 200),
    "floor/returns/<str:number>/": (LOGIN, 200, 200, 403, 200),
    "floor/stock/": (LOGIN, 200, 200, 403, 200),
    "floor/stock/receive/": (LOGIN, 200, 200, 403, 200),
    "floor/stock/<int:pk>/": (LOGIN, 200, 200, 403, 200),
    "floor/pick/": (LOGIN, 200, 200, 403, 200),
    "floor/pick/<str:number>/": (LOGIN, 200, 200, 403, 200),
    "floor/pick/<str:number>/scan/": (LOGIN, 405, 405, 403, 405),
    "floor/pick/<str:number>/short/": (LOGIN, 405, 405, 403, 405),
    "floor/pack/": (LOGIN, 200, 200, 403, 200),
    "floor/pack/<str:number>/": (LOGIN, 200, 200, 403, 200),
    "floor/pack/<str:number>/scan/": (LOGIN, 405, 405, 403, 405),
    "floor/pack/<str:number>/ship/": (LOGIN, 405, 405, 403, 405),
    "floor/pack/<str:number>/parcels/": (LOGIN, 405, 405, 403, 405),
    "floor/pack/<str:number>/parcels/<int:sequence>/remove/": (LOGIN, 405, 405, 403, 405),
    "floor/manifests/": (LOGIN, 405, 405, 403, 405),
    "fulfillment/manifests/<str:number>/manifest.pdf": (LOGIN, 200, 200, 403, 200),
    "floor/pack/<str:number>/reset/": (LOGIN, 405, 405, 403, 405),
    "floor/pack/<str:number>/print/": (LOGIN, 200, 200, 403, 200),
    # documents for staff
    "fulfillment/shipments/<str:number>/label.pdf": (LOGIN, 200, 200, 403, 200),
    "fulfillment/shipments/<str:number>/packing-slip.pdf": (LOGIN, 200, 200, 403, 200),
    "fulfillment/pick-lists/<str:number>/pick-list.pdf": (LOGIN, 200, 200, 403, 200),
    "fulfillment/pick-lists/<str:number>/packing-slips.pdf": (LOGIN, 200, 200, 403, 200),
    "returns/<str:number>/return-slip.pdf": (LOGIN, 200, 200, 403, 200),
    "returns/<str:number>/refund/": (LOGIN, 403, 200, 403, 200),
    "returns/<str:number>/approve/": (LOGIN, 403, 405, 403, 405),
    "returns/order/<str:number>/start/": (LOGIN, 403, 405, 403, 405),
    # public: the customer tracking page (unguessable token)
    "track/<str:token>/": (200, 200, 200, 200, 200),
    # API docs: any signed-in user (production default; OMS_API_DOCS_PUBLIC opens them)
    "api/schema/": (API_ANON, 200, 200, 200, 200),
    "api/docs/": (LOGIN, 200, 200, 200, 200),
    "api/v1/auth/token/": (405, 405, 405, 405, 405),
    "api/v1/": (API_ANON, 200, 200, 200, 200),
    # intake: POST only, signature checked (GET is not allowed for anyone)
    "api/v1/channels/<slug:code>/intake/shopify/": (405, 405, 405, 405, 405),
    "api/v1/channels/<slug:code>/intake/woocommerce/": (405, 405, 405, 405, 405),
    # API resources: integration and manager; warehouse reads orders/stock/shipments
    "api/v1/^channels/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^channels/(?P<code>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^products/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^products/(?P<sku>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^warehouses/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^warehouses/(?P<code>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^stock/movements/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^stock/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^stock/adjust/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^stock/receive/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^stock/transfer/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^orders/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^orders/(?P<number>[^/]+)/cancel/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/cancel-lines/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/edit/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/confirm/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/hold/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/payments/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/release/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^orders/(?P<number>[^/]+)/routing-preview/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/orders/<str:number>/notes/": (API_ANON, 200, 200, 200, 200),
    "api/v1/customers/<path:email>/orders/": (API_ANON, 200, 200, 200, 200),
    "api/v1/^shipments/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^shipments/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^shipments/(?P<number>[^/]+)/deliver/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/pack/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/pick/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/ship/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/book/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/void-label/$": (API_ANON, 405, 405, 405, 405),
    # the sample shipment has shipped: no more rates for it (409), to whoever may ask
    "api/v1/^shipments/(?P<number>[^/]+)/rates/$": (API_ANON, 409, 409, 409, 409),
    # couriers' webhooks: POST only, no login (the URL's secret is checked)
    "api/v1/carriers/<slug:code>/webhooks/<str:secret>/": (405, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/tracking/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^shipments/(?P<number>[^/]+)/label.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^shipments/(?P<number>[^/]+)/packing-slip.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^pick-lists/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^pick-lists/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^pick-lists/(?P<number>[^/]+)/packing-slips.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^pick-lists/(?P<number>[^/]+)/pick-list.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^returns/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^returns/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^returns/(?P<number>[^/]+)/approve/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^returns/(?P<number>[^/]+)/receive/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^returns/(?P<number>[^/]+)/refund/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^returns/(?P<number>[^/]+)/reject/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^returns/(?P<number>[^/]+)/return-slip.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^replenishment/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^webhooks/subscriptions/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^webhooks/subscriptions/(?P<pk>[^/.]+)/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^webhooks/deliveries/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^webhooks/deliveries/(?P<pk>[^/.]+)/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^webhooks/deliveries/(?P<pk>[^/.]+)/redeliver/$": (API_ANON, 403, 405, 405, 405),
    # inbound: suppliers for managers and integrations; POs and transfers readable by
    # the floor (which receives them); the floor pages that receive them
    "replenishment/purchase-orders/": (LOGIN, 403, 405, 403, 405),
    "floor/stock/receive/po/": (LOGIN, 200, 200, 403, 200),
    "floor/stock/receive/po/<str:number>/": (LOGIN, 200, 200, 403, 200),
    "floor/stock/receive/transfer/<str:number>/": (LOGIN, 200, 200, 403, 200),
    "api/v1/^stock/incoming/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^suppliers/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^suppliers/(?P<code>[^/]+)/$": (API_ANON, 403, 200, 200, 200),
    "api/v1/^purchase-orders/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/cancel/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/close/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/receive/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/send/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/document.pdf/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^purchase-orders/(?P<number>[^/]+)/lines.csv/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^transfers/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^transfers/(?P<number>[^/]+)/$": (API_ANON, 200, 200, 200, 200),
    "api/v1/^transfers/(?P<number>[^/]+)/cancel/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^transfers/(?P<number>[^/]+)/dispatch/$": (API_ANON, 405, 405, 405, 405),
    "api/v1/^transfers/(?P<number>[^/]+)/receive/$": (API_ANON, 405, 405, 405, 405),
}
# fmt: on


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def all_routes() -> list[str]:
    routes = []
    for route in walk(get_resolver().url_patterns):
        if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
            continue  # DRF's .json/.api suffix twins of the routes below
        routes.append(route)
    return routes


@pytest.fixture
def world(db):
    """One object of each kind the URLs name, built through the services."""
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    f.receive(shirt, wh, 20)
    shipped = f.place([(shirt, 2)], external_id="url-1", financial_status="paid")
    order_confirm_and_allocate(order=shipped)
    shipment = shipped.shipments.get()
    shipment_ship(shipment=shipment, carrier="table", tracking_number="TRK1")
    shipment_deliver(shipment=shipment)
    from fulfillment.services.manifests import manifest_create

    manifest = manifest_create(carrier="table", warehouse=wh)
    rma = return_request(order=shipped, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    return_approve(return_request=rma)
    waiting = f.place([(shirt, 1)], external_id="url-2")
    order_confirm_and_allocate(order=waiting)
    open_shipment = waiting.shipments.get()
    pick_list = pick_list_create(warehouse=wh, shipments=[open_shipment])
    job = ImportJob.objects.create(kind="stock", status="done", rows_total=0, rows_done=0)
    from kernel.models import WebhookDelivery, WebhookEvent, WebhookSubscription

    sub = WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hook", secret="s", event_types=["order.created"]
    )
    event = WebhookEvent.objects.create(event_type="order.created", payload={})
    delivery = WebhookDelivery.objects.create(event=event, subscription=sub, attempt=1)
    level = shipped.lines.get().product.stock_levels.get()
    from inventory.models import Supplier
    from inventory.purchasing import purchase_order_create
    from inventory.transfers import transfer_create

    supplier = Supplier.objects.create(code="ACME", name="Acme")
    po = purchase_order_create(
        supplier=supplier, warehouse=wh, lines=[{"product": shirt, "quantity": 5}]
    )
    transfer = transfer_create(
        source=wh,
        destination=f.make_warehouse("RJ-01", priority=2),
        lines=[{"product": shirt, "quantity": 1}],
    )
    return {
        "purchase_order": po.number,
        "transfer": transfer.number,
        "supplier": supplier.code,
        "order": waiting.number,
        "shipped_order": shipped.number,
        "shipment": shipment.number,
        "open_shipment": open_shipment.number,
        "pick_list": pick_list.number,
        "return": rma.number,
        "token": shipped.tracking_token,
        "sku": "TSHIRT-M",
        "warehouse": "SP-01",
        "channel": "web",
        "import": job.pk,
        "level": level.pk,
        "subscription": sub.pk,
        "delivery": delivery.pk,
        "manifest": manifest.number,
        "draft": OrderDraft.objects.create(channel=f.channel("phone")).pk,
    }


def concrete(route: str, w: dict) -> str:
    """Fill a route's parameters with the sample objects' keys."""
    if "manifests/<" in route:
        number = w["manifest"]
    elif (
        route.startswith("floor/pack/")
        or route.startswith("fulfillment/shipments/")
        or ("shipments" in route)
    ):
        number = w["open_shipment"] if "floor/pack" in route else w["shipment"]
    elif "pick" in route:
        number = w["pick_list"]
    elif "returns" in route:
        number = w["return"]
    elif route.startswith("review/"):
        number = w["order"]
    else:
        number = w["order"]
    if "purchase-orders" in route or "receive/po" in route:
        number = w["purchase_order"]
    elif "transfers" in route or "receive/transfer" in route:
        number = w["transfer"]
    pk = w["import"]
    if "floor/stock" in route:
        pk = w["level"]
    if "subscriptions" in route:
        pk = w["subscription"]
    if "deliveries" in route:
        pk = w["delivery"]
    if route.startswith("orders/new/"):
        pk = w["draft"]
    values = {
        "number": number,
        "code": w["channel"] if "channel" in route else w["warehouse"],
        "sku": w["sku"],
        "token": w["token"],
        "pk": pk,
        "kind": "stock",
        "uidb64": "MQ",
        "action": "confirm",
        "sequence": 1,
        "secret": "not-the-secret",
        "email": "ana@example.com",
    }
    if "channels" in route:
        values["code"] = w["channel"]
    if "suppliers" in route:
        values["code"] = w["supplier"]
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    url = url.replace("^", "").replace("$", "").replace("\\", "")
    if "<token>" in route or "reset/" in url:
        url = url.replace("/MQ/" + w["token"], "/MQ/set-password")
    return "/" + url


def clients(db) -> dict[str, Client]:
    made = {"anon": Client()}
    for role in ("warehouse", "manager", "integration"):
        user = User.objects.create_user(
            f"{role}-user", password="pw-123456", is_staff=role == "manager"
        )
        user.groups.add(Group.objects.get(name=role))
        headers = {}
        if role == "integration":  # a service account: token for the API (and a session,
            # to prove the role, not the missing login, keeps it out of the pages)
            headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=user).key}"
        client = Client(**headers)
        client.force_login(user)
        made[role] = client
    admin = User.objects.create_superuser("root", password="pw-123456")
    made["superuser"] = Client()
    made["superuser"].force_login(admin)
    return made


@pytest.mark.django_db
def test_every_url_answers_each_role_as_the_table_says(world, settings):
    settings.OMS_API_DOCS_PUBLIC = False  # as in production (DEBUG off)
    visitors = clients(None)
    routes = all_routes()
    missing = [r for r in routes if not r.startswith("admin/") and r not in MATRIX]
    assert not missing, f"URLs without a rule in the security matrix: {missing}"
    stale = [r for r in MATRIX if r not in routes]
    assert not stale, f"rules for URLs that no longer exist: {stale}"
    wrong = []
    for route in routes:
        if route.startswith("admin/"):
            continue
        url = concrete(route, world)
        for role, expected in zip(ROLES, MATRIX[route], strict=True):
            got = visitors[role].get(url).status_code
            if got != expected:
                wrong.append(f"{role:<11} GET {url}: {got}, expected {expected}")
    assert not wrong, "\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_admin_is_for_staff_managers_and_superusers_only(world):
    visitors = clients(None)
    admin_routes = [r for r in all_routes() if r.startswith("admin/")]
    assert len(admin_routes) > 50
    for url in (
        "/admin/",
        "/admin/orders/order/",
        "/admin/inventory/stocklevel/",
        "/admin/fulfillment/shipment/",
        "/admin/returns/returnrequest/",
        "/admin/oms/webhooksubscription/",
    ):
        r = visitors["anon"].get(url)
        assert r.status_code == 302 and "/admin/login/" in r["Location"], url
        for role in ("warehouse", "integration"):  # signed in, but not staff
            assert visitors[role].get(url).status_code == 403, (role, url)
        assert visitors["manager"].get(url).status_code == 200, url
        assert visitors["superuser"].get(url).status_code == 200, url
    # Managers may not touch users and groups.
    assert visitors["manager"].get("/admin/auth/user/").status_code == 403


@pytest.mark.django_db
def test_token_login_is_throttled(settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    cache.clear()
    User.objects.create_user("svc", password="pw-123456")
    client = APIClient()
    codes = [
        client.post("/api/v1/auth/token/", {"username": "svc", "password": "wrong"}).status_code
        for _ in range(25)
    ]
    assert codes[0] == 400
    assert 429 in codes, codes  # 20 a minute, then refused
    cache.clear()


def test_every_staff_form_posts_with_a_csrf_token():
    """Templates that POST carry {% csrf_token %} (Django's middleware enforces it)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    missing = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        for form in re.findall(
            r"<form[^>]*method=\"post\"[^>]*>.*?</form>", text, flags=re.S | re.I
        ):
            if "csrf_token" not in form:
                missing.append(str(template.relative_to(root)))
    assert not missing, missing
