"""Who may open which page: anonymous visitors go to the login page on every URL of
the staff pages; warehouse staff get the floor pages and a 403 on the manager pages and
no admin; managers get everything."""

import pytest
from django.urls import reverse

from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db

FLOOR_PAGES = [
    ("floor:pick_queue", []),
    ("floor:pick_list", ["PL-000001"]),
    ("floor:pack", []),
    ("floor:pack_shipment", ["SH-000001"]),
    ("floor:pack_print", ["SH-000001"]),
    ("returns_floor:receive_lookup", []),
    ("returns_floor:receive", ["RMA-000001"]),
    ("stock:lookup", []),
    ("stock:receive", []),
    ("stock:level", [1]),
]
FLOOR_POSTS = [
    ("floor:pick_scan", ["PL-000001"]),
    ("floor:pick_short", ["PL-000001"]),
    ("floor:pack_scan", ["SH-000001"]),
    ("floor:pack_ship", ["SH-000001"]),
    ("floor:pack_reset", ["SH-000001"]),
]
MANAGER_PAGES = [("orders:list", []), ("orders:detail", ["SO-000001"])]
MANAGER_POSTS = [
    ("order_actions:order_action", ["SO-000001", "confirm"]),
    ("order_actions:order_action", ["SO-000001", "hold"]),
    ("order_actions:order_action", ["SO-000001", "release"]),
    ("order_actions:order_action", ["SO-000001", "cancel"]),
    ("order_actions:order_reroute", ["SO-000001"]),
]
EVERY_URL = [
    reverse(name, args=args)
    for name, args in FLOOR_PAGES + FLOOR_POSTS + MANAGER_PAGES + MANAGER_POSTS
] + ["/"]


@pytest.mark.parametrize("url", EVERY_URL)
def test_anonymous_is_sent_to_login_on_every_url(client, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={url}")


@pytest.mark.parametrize("name,args", MANAGER_PAGES + MANAGER_POSTS)
def test_warehouse_staff_get_403_on_manager_pages(floor_client, name, args):
    method = floor_client.post if name.startswith("order_actions") else floor_client.get
    assert method(reverse(name, args=args)).status_code == 403


def test_warehouse_staff_get_no_admin(floor_client):
    assert floor_client.get("/admin/").status_code == 403
    assert floor_client.get("/admin/orders/order/").status_code == 403


def test_warehouse_home_and_nav_show_only_floor_pages(floor_client):
    html = floor_client.get("/").content.decode()
    for url in ("/floor/pick/", "/floor/pack/", "/floor/returns/", "/floor/stock/"):
        assert f'href="{url}"' in html
    assert 'href="/orders/"' not in html
    assert 'href="/admin/"' not in html


def test_manager_home_and_nav_show_everything_and_the_admin(manager_client):
    html = manager_client.get("/").content.decode()
    for url in ("/orders/", "/floor/pick/", "/floor/pack/", "/floor/returns/", "/admin/"):
        assert f'href="{url}"' in html


@pytest.mark.parametrize("name,args", [(n, a) for n, a in FLOOR_PAGES + MANAGER_PAGES if not a])
def test_manager_opens_every_page(manager_client, name, args):
    assert manager_client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize("name,args", [(n, a) for n, a in FLOOR_PAGES if not a])
def test_warehouse_staff_open_the_floor_pages(floor_client, name, args):
    assert floor_client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize("name,args", [(n, a) for n, a in FLOOR_PAGES if not a][:3])
def test_integration_accounts_get_403_on_staff_pages(client, name, args):
    client.force_login(make_user("bot", "integration"))
    assert client.get(reverse(name, args=args)).status_code == 403
