"""The staff order page: a draft kept as it is typed (it survives reloads and stays
editable), lines added by scanning or typing with their live availability, and every
bad input answered with a message and nothing stored."""

from decimal import Decimal

import pytest
from django.urls import reverse

from intake.drafts import DraftInvalid, draft_lines_set
from intake.models import OrderDraft
from orders.models import Customer, Order
from tests import factories as f
from tests.floor.conftest import make_user
from tests.intake.drafts_support import ADDRESS, Desk

pytestmark = pytest.mark.django_db
# session, user, draft, its products and their stock, the shipping methods...: none per line
MAX_PAGE_QUERIES = 12
MAX_SCAN_QUERIES = 16  # and the lookup of the code, the locked draft, its save


@pytest.fixture
def shop(db):
    sp = f.make_warehouse("SP-01", priority=1)
    rj = f.make_warehouse("RJ-01", priority=2, region="RJ")
    mug = f.make_product("MUG-01", price="9.90", name="Ceramic mug", barcode="7896543210988")
    shirt = f.make_product("TSHIRT-M", price="19.90", name="Cotton T-shirt M")
    f.receive(mug, sp, 5)
    f.receive(mug, rj, 3)
    f.receive(shirt, sp, 2)
    return sp, rj, mug, shirt


@pytest.fixture
def desk(client):
    return Desk(client)


def test_a_draft_survives_a_reload_and_stays_editable(shop, desk):
    draft = desk.start()
    assert desk.scan(draft, "MUG-01", "2").status_code == 200
    assert desk.save(draft).status_code == 302

    page = desk.page(draft)  # a reload: everything typed is still there
    assert 'value="ana.lima@example.com"' in page
    assert 'value="Rua A 1"' in page and 'value="Campinas"' in page
    assert 'data-sku="MUG-01"' in page and 'value="2"' in page

    response = desk.client.post(
        desk.url(draft, "lines"), {"sku": ["MUG-01"], "quantity": ["3"], "unit_price": ["8.50"]}
    )
    assert response.status_code == 302
    desk.save(draft, ship_city="Sumaré", customer_phone="+55 19 9999-0000")

    draft.refresh_from_db()
    assert draft.lines == [{"sku": "MUG-01", "quantity": 3, "unit_price": "8.50"}]
    assert draft.shipping_address["city"] == "Sumaré"
    assert draft.customer_phone == "+55 19 9999-0000"
    assert draft.shipping_total == Decimal("10.00") and draft.currency == "BRL"
    assert draft.created_by == desk.user and draft.placed_order is None
    assert Order.objects.count() == 0  # a draft is no order
    listed = desk.client.get(reverse("staff-orders:list")).content.decode()
    assert f"Draft {draft.pk}" in listed


def test_a_scan_adds_a_unit_and_shows_the_live_availability_across_points(shop, desk):
    sp, rj, mug, _ = shop
    f.place([(mug, 1)], channel_code="web", external_id="W-1")  # pending: nothing reserved
    f.confirm(Order.objects.get(external_id="W-1"))  # reserves 1 at SP-01
    draft = desk.start()

    response = desk.scan(draft, "7896543210988")  # the barcode
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="draft-lines"')  # the panel only
    assert "MUG-01 · Ceramic mug: 1 on the order, 7 available." in body
    assert "<strong>7</strong> available" in body and "SP-01 4 · RJ-01 3" in body

    desk.scan(draft, "mug-01")  # the same item again, typed in lower case: two
    desk.scan(draft, "3*TSHIRT-M")
    draft.refresh_from_db()
    assert draft.lines == [
        {"sku": "MUG-01", "quantity": 2, "unit_price": "9.90"},
        {"sku": "TSHIRT-M", "quantity": 3, "unit_price": "19.90"},
    ]
    body = desk.page(draft)
    assert "1 backordered" in body  # 3 shirts, 2 free
    assert 'id="draft-subtotal">R$\u00a079.50' in body  # 2 x 9.90 + 3 x 19.90


def test_typing_a_name_adds_the_one_match_or_offers_several(shop, desk):
    f.make_product("MUG-02", price="12.00", name="Ceramic mug, large")
    draft = desk.start()

    body = desk.scan(draft, "cotton").content.decode()  # one product's name
    assert "TSHIRT-M · Cotton T-shirt M: 1 on the order" in body

    body = desk.scan(draft, "ceramic").content.decode()
    assert "2 products match “ceramic”: choose one." in body
    assert 'id="candidates"' in body and "MUG-01" in body and "MUG-02" in body
    draft.refresh_from_db()
    assert [line["sku"] for line in draft.lines] == ["TSHIRT-M"]


def test_an_unknown_code_is_refused_loudly_and_adds_nothing(shop, desk):
    draft = desk.start()
    body = desk.scan(draft, "7899999999999").content.decode()
    assert "Unknown barcode or SKU: 7899999999999" in body
    assert 'data-sound="error"' in body
    draft.refresh_from_db()
    assert draft.lines == []

    # without JavaScript: a redirect back to the page, the message on it
    response = desk.scan(draft, "NOPE", htmx=False)
    assert response.status_code == 302
    assert "Unknown barcode or SKU: NOPE" in desk.page(draft)


@pytest.mark.parametrize("quantity", ["0", "-2", "two", ""])
def test_a_quantity_of_zero_or_less_is_refused_and_nothing_changes(shop, desk, quantity):
    draft = desk.start()
    desk.scan(draft, "MUG-01", "2")
    response = desk.client.post(
        desk.url(draft, "lines"),
        {"sku": ["MUG-01"], "quantity": [quantity], "unit_price": ["9.90"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Line 1 quantity:" in response.content.decode()
    draft.refresh_from_db()
    assert draft.lines == [{"sku": "MUG-01", "quantity": 2, "unit_price": "9.90"}]


def test_lines_are_checked_all_at_once_by_row(shop):
    draft = OrderDraft.objects.create(channel=f.channel("phone"), currency="BRL")
    with pytest.raises(DraftInvalid) as caught:
        draft_lines_set(
            draft=draft,
            lines=[
                {"sku": "MUG-01", "quantity": 0, "unit_price": "9.90"},
                {"sku": "TSHIRT-M", "quantity": 1, "unit_price": "1.999"},
            ],
        )
    assert set(caught.value.errors) == {"lines[0].quantity", "lines[1].unit_price"}


def test_removing_a_line(shop, desk):
    draft = desk.start()
    desk.scan(draft, "MUG-01")
    desk.scan(draft, "TSHIRT-M")
    desk.client.post(desk.url(draft, "remove-line"), {"remove": "MUG-01"}, HTTP_HX_REQUEST="true")
    draft.refresh_from_db()
    assert [line["sku"] for line in draft.lines] == ["TSHIRT-M"]


def test_picking_a_customer_fills_their_details_and_last_address(shop, desk):
    _, _, mug, _ = shop
    f.place(
        [(mug, 1)],
        external_id="W-9",
        customer={"email": "bea@example.com", "name": "Bea Souza", "phone": "+55 11 1234"},
        shipping_address={**ADDRESS, "name": "Bea Souza", "city": "Santos"},
    )
    bea = Customer.objects.get(email="bea@example.com")
    draft = desk.start()

    body = desk.client.get(desk.url(draft), {"customer_q": "souza"}).content.decode()
    assert "bea@example.com" in body and f'name="customer" value="{bea.pk}"' in body
    desk.client.post(desk.url(draft, "customer"), {"customer": bea.pk})

    draft.refresh_from_db()
    assert (draft.customer_email, draft.customer_name, draft.customer_phone) == (
        "bea@example.com",
        "Bea Souza",
        "+55 11 1234",
    )
    assert draft.shipping_address["city"] == "Santos"


def test_a_bad_currency_or_shipping_price_is_a_form_error_and_nothing_is_saved(shop, desk):
    draft = desk.start()
    response = desk.save(draft, currency="R$", ship_city="Rio")
    assert response.status_code == 200
    assert "Not saved" in response.content.decode()
    response = desk.save(draft, shipping_total="-1")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.shipping_address == {} and draft.shipping_total == 0


def test_the_page_is_for_managers(shop, client):
    draft = OrderDraft.objects.create(channel=f.channel("phone"))
    client.force_login(make_user("wes", "warehouse"))
    assert client.get(reverse("staff-orders:list")).status_code == 403
    assert client.post(reverse("staff-orders:start")).status_code == 403
    assert client.get(reverse("staff-orders:edit", args=[draft.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("staff-orders:edit", args=[draft.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_order_list_and_the_navigation_link_to_the_page(shop, desk):
    body = desk.client.get(reverse("orders:list")).content.decode()
    assert body.count(f'href="{reverse("staff-orders:list")}"') == 2  # button + navigation


def test_the_page_reads_a_long_draft_in_a_fixed_number_of_queries(
    shop, desk, django_assert_max_num_queries
):
    sp, rj, _, _ = shop
    draft = desk.start()
    for n in range(30):
        product = f.make_product(f"BULK-{n:02d}")
        f.receive(product, sp if n % 2 else rj, 4)
        draft.lines.append({"sku": product.sku, "quantity": 1, "unit_price": "10.00"})
    draft.save()
    with django_assert_max_num_queries(MAX_PAGE_QUERIES):
        body = desk.page(draft)
    assert body.count("<strong>4</strong> available") == 30
    with django_assert_max_num_queries(MAX_SCAN_QUERIES):
        response = desk.scan(draft, "BULK-07")
    panel = response.content.decode()
    assert response.status_code == 200 and panel.count("data-sku=") == 30
