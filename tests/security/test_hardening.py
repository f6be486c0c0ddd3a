"""Security round two: throttles that hold behind a proxy, Cache-Control on staff pages,
Permissions-Policy and CSP headers, 413 JSON for oversize bodies, API docs behind a
login, channel codes fixed once orders exist, roles (not is_staff) open the admin."""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from kernel.roles import INTEGRATION, MANAGER, WAREHOUSE
from orders.models import Channel
from tests import factories as f
from tests.api.conftest import api, manager_api, order_body, warehouse_api  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_counters(settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


def user_in(group: str, username: str | None = None, **extra) -> User:
    user = User.objects.create_user(username or group, password="pw-123456", **extra)
    user.groups.add(Group.objects.get(name=group))
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- throttles


def token_logins(client_for, n: int) -> list[int]:
    """``n`` wrong token logins, each with a new username (so the lockout, which counts
    per username, stays out of it): only the throttle can refuse them."""
    return [
        client_for(i)
        .post("/api/v1/auth/token/", {"username": f"nobody-{i}", "password": "x"})
        .status_code
        for i in range(n)
    ]


@pytest.mark.django_db
def test_a_new_forwarded_for_header_per_request_does_not_reset_the_token_login_throttle():
    codes = token_logins(
        lambda i: APIClient(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.9.{i}.1"), 25
    )
    assert codes[:20] == [400] * 20
    assert codes[20:] == [429] * 5


@pytest.mark.django_db
def test_other_clients_keep_their_own_token_login_budget():
    token_logins(lambda i: APIClient(REMOTE_ADDR="203.0.113.9"), 21)
    other = APIClient(REMOTE_ADDR="198.51.100.1")
    assert other.post("/api/v1/auth/token/", {"username": "a", "password": "b"}).status_code == 400


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_throttle_keys_on_the_address_the_proxy_saw(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # every request arrives from the proxy; the client writes whatever it likes left of
    # the address the proxy appended
    codes = token_logins(
        lambda i: APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.9"),
        21,
    )
    assert codes[-1] == 429
    neighbour = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    reply = neighbour.post("/api/v1/auth/token/", {"username": "a", "password": "b"})
    assert reply.status_code == 400


@pytest.mark.django_db
def test_intake_throttle_ignores_a_forged_forwarded_for(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    }
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["intake"] = "3/min"
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        f.channel("shopify-eu", kind="web_store")
        codes = [
            APIClient(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.{i}.1")
            .post(
                "/api/v1/channels/shopify-eu/intake/shopify/",
                data=b"{}",
                content_type="application/json",
            )
            .status_code
            for i in range(5)
        ]
    finally:
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["intake"] = "600/min"
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert 429 not in codes[:3]
    assert codes[3:] == [429, 429]


def test_the_throttle_cache_is_shared_by_processes(settings):
    """The default cache is one every worker sees (the database), not process memory."""
    from django.conf import settings as live

    assert live.CACHES["default"]["BACKEND"] in (
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
    )


# --------------------------------------------------------------------------- headers


@pytest.mark.django_db
def test_staff_pages_with_customer_data_are_not_stored_by_any_cache():
    manager = user_in(MANAGER)
    order = f.place([(f.make_product("SKU-A"), 1)], external_id="C-1")
    client = signed_in(manager)
    for url in ("/orders/", f"/orders/{order.number}/", "/review/", "/dashboard/", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    floor = signed_in(user_in(WAREHOUSE))
    response = floor.get("/floor/returns/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_every_page_sends_a_permissions_policy_and_a_csp_without_inline_script():
    response = Client().get("/accounts/login/")
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


def test_no_template_has_inline_script_or_event_handlers():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, flags=re.I):
            offenders.append(f"{template.relative_to(root)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text, flags=re.I):
            offenders.append(f"{template.relative_to(root)}: on... handler")
    assert not offenders, offenders


# --------------------------------------------------------------------------- 413


@pytest.mark.django_db
def test_an_oversize_api_body_gets_413_json(api, settings):  # noqa: F811
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps(order_body(notes="x" * 20_000))
    response = api.post("/api/v1/orders/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]


@pytest.mark.django_db
def test_an_oversize_intake_delivery_gets_413_json(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    f.channel("shopify-eu", kind="web_store")
    response = APIClient().post(
        "/api/v1/channels/shopify-eu/intake/shopify/",
        data=b"{" + b" " * 20_000 + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


# --------------------------------------------------------------------------- API docs


@pytest.mark.django_db
def test_schema_and_docs_need_a_login_when_docs_are_not_public(settings):
    settings.OMS_API_DOCS_PUBLIC = False
    anon = Client()
    assert anon.get("/api/schema/").status_code == 401
    docs = anon.get("/api/docs/")
    assert docs.status_code == 302 and "/accounts/login/" in docs["Location"]
    client = signed_in(user_in(WAREHOUSE))
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.content
    assert client.get("/api/docs/?script").status_code == 200


@pytest.mark.django_db
def test_a_setting_opens_the_docs(settings):
    settings.OMS_API_DOCS_PUBLIC = True
    assert Client().get("/api/schema/").status_code == 200
    assert Client().get("/api/docs/").status_code == 200


def test_docs_are_closed_by_default_in_production():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "a.example"}
    env.pop("OMS_API_DOCS_PUBLIC", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; print(s.OMS_API_DOCS_PUBLIC)",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "oms.settings"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False", out.stderr


# --------------------------------------------------------------------------- channels


@pytest.mark.django_db
def test_an_integration_token_cannot_edit_channels(api):  # noqa: F811
    f.channel("api", kind="api")
    response = api.put(
        "/api/v1/channels/api/", {"code": "renamed", "name": "API", "kind": "api"}, format="json"
    )
    assert response.status_code == 403
    assert api.post("/api/v1/channels/", {"code": "new", "name": "N"}).status_code == 403
    assert Channel.objects.filter(code="api").exists()
    assert api.get("/api/v1/channels/api/").status_code == 200


@pytest.mark.django_db
def test_a_channels_code_cannot_change_once_it_has_orders(manager_api):  # noqa: F811
    f.channel("api", kind="api")
    f.place([(f.make_product("SKU-A"), 1)], channel_code="api", external_id="1")
    response = manager_api.patch("/api/v1/channels/api/", {"code": "renamed"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()
    assert Channel.objects.filter(code="api").exists()
    # other fields still change
    response = manager_api.patch("/api/v1/channels/api/", {"name": "Shop API"}, format="json")
    assert response.status_code == 200
    assert Channel.objects.get(code="api").name == "Shop API"


@pytest.mark.django_db
def test_a_channel_without_orders_may_be_renamed_by_a_manager(manager_api):  # noqa: F811
    f.channel("spare", kind="api")
    response = manager_api.patch("/api/v1/channels/spare/", {"code": "spare-2"}, format="json")
    assert response.status_code == 200
    assert Channel.objects.filter(code="spare-2").exists()


@pytest.mark.django_db
def test_the_channel_admin_shows_the_code_read_only_once_orders_exist():
    boss = signed_in(User.objects.create_superuser("root", "r@example.com", "pw-123456"))
    channel = f.channel("api", kind="api")
    page = boss.get(f"/admin/orders/channel/{channel.pk}/change/")
    assert b'name="code"' in page.content
    f.place([(f.make_product("SKU-A"), 1)], channel_code="api", external_id="1")
    page = boss.get(f"/admin/orders/channel/{channel.pk}/change/")
    assert b'name="code"' not in page.content


# --------------------------------------------------------------------------- admin by role


@pytest.mark.django_db
def test_a_manager_without_is_staff_reaches_the_admin():
    manager = user_in(MANAGER, "mia", is_staff=False)
    client = signed_in(manager)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/orders/order/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403  # still not users and groups
    assert b'href="/admin/"' in client.get("/").content  # the nav offers it


@pytest.mark.django_db
def test_a_manager_without_is_staff_logs_in_on_the_admin_login_page():
    user_in(MANAGER, "mia", is_staff=False)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "mia", "password": "pw-123456"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_leaving_the_manager_group_closes_the_admin_again():
    manager = user_in(MANAGER, "mia", is_staff=False)
    manager.groups.clear()
    user_in(INTEGRATION, "svc")
    assert signed_in(User.objects.get(pk=manager.pk)).get("/admin/").status_code == 403
    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "svc", "password": "pw-123456"}
    )
    assert response.status_code == 200  # the form refuses: not for the admin
    assert b"staff account" in response.content or b"correct" in response.content


@pytest.mark.django_db
def test_an_api_url_that_matches_no_route_gets_a_json_404(api):  # noqa: F811
    response = api.post(
        "/api/v1/channels/%C2%BE/intake/woocommerce/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["detail"]
    page = Client().get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
