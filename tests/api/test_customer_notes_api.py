"""``customers/{email}/orders/`` (the order list's shape and pagination, for one
customer) and ``orders/{number}/notes/`` (an order's internal notes: list and add)."""

import pytest

from orders.notes import NOTE_MAX_LENGTH, order_note_add, order_notes
from orders.services import order_add_note
from tests import factories as f

pytestmark = pytest.mark.django_db

ANA = {"email": "ana@example.com", "name": "Ana Lima"}
BIA = {"email": "bia@example.com", "name": "Bia Souza"}


@pytest.fixture
def product():
    return f.make_product("MUG-BLUE", price="30.00")


def test_a_customers_orders_have_the_order_lists_shape_newest_first(api, product):
    first = f.place([(product, 1)], external_id="A-1", customer=ANA)
    second = f.place([(product, 2)], external_id="A-2", customer=ANA)
    f.place([(product, 1)], external_id="B-1", customer=BIA)

    response = api.get("/api/v1/customers/ana@example.com/orders/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [o["number"] for o in body["results"]] == [second.number, first.number]
    assert {o["customer_email"] for o in body["results"]} == {"ana@example.com"}
    listed = api.get("/api/v1/orders/", {"search": second.number}).json()["results"][0]
    assert body["results"][0] == listed  # the same serializer as the order list
    assert set(body) == {"count", "next", "previous", "results"}


def test_a_customers_orders_are_paginated_and_filtered_like_the_order_list(api, product):
    for n in range(55):
        f.place([(product, 1)], external_id=f"P-{n}", customer=ANA)

    page1 = api.get("/api/v1/customers/ANA@example.com/orders/").json()
    assert (page1["count"], len(page1["results"])) == (55, 50)
    page2 = api.get(page1["next"]).json()
    assert len(page2["results"]) == 5
    assert (
        api.get("/api/v1/customers/ana@example.com/orders/", {"status": "cancelled"}).json()[
            "count"
        ]
        == 0
    )
    bad = api.get("/api/v1/customers/ana@example.com/orders/", {"status": "nonsense"})
    assert bad.status_code == 400 and "status" in bad.json()


def test_an_unknown_customer_is_a_404(api, product):
    f.place([(product, 1)], external_id="A-1", customer=ANA)
    response = api.get("/api/v1/customers/nobody@example.com/orders/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_customer_orders_make_the_same_queries_for_many_orders(
    api, product, django_assert_max_num_queries
):
    for n in range(30):
        f.place([(product, 1)], external_id=f"Q-{n}", customer=ANA)
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/customers/ana@example.com/orders/")
    assert response.json()["count"] == 30


def test_a_note_is_added_and_listed_with_its_author(manager_api, product):
    order = f.place([(product, 1)], external_id="N-1", customer=ANA)
    order_add_note(order=order, message="E-mail sent to ana@example.com", actor="system")

    created = manager_api.post(
        f"/api/v1/orders/{order.number}/notes/",
        {"message": "  Call before delivery "},
        format="json",
    )

    assert created.status_code == 201
    note = created.json()
    assert (note["order"], note["message"], note["author"]) == (
        order.number,
        "Call before delivery",
        "boss",
    )
    assert note["created_at"]
    stored = order_notes(order=order).get()
    assert (stored.public, stored.actor) == (False, "boss")
    listed = manager_api.get(f"/api/v1/orders/{order.number}/notes/").json()
    assert listed["count"] == 1  # the system's own note is not an internal note
    assert listed["results"] == [note]


def test_notes_are_listed_newest_first(api, product):
    order = f.place([(product, 1)], external_id="N-2", customer=ANA)
    for text in ("first", "second", "third"):
        order_note_add(order=order, message=text, actor="maria")
    listed = api.get(f"/api/v1/orders/{order.number}/notes/").json()["results"]
    assert [n["message"] for n in listed] == ["third", "second", "first"]


@pytest.mark.parametrize(
    "body",
    [{}, {"message": ""}, {"message": "   "}, {"message": "z" * (NOTE_MAX_LENGTH + 1)}],
    ids=["missing", "empty", "blank", "too-long"],
)
def test_a_bad_note_is_a_400_naming_the_field(api, product, body):
    order = f.place([(product, 1)], external_id="N-3", customer=ANA)
    response = api.post(f"/api/v1/orders/{order.number}/notes/", body, format="json")
    assert response.status_code == 400
    assert "message" in response.json() and "detail" in response.json()
    assert not order_notes(order=order).exists()


def test_notes_of_an_unknown_order_are_a_404(api):
    assert api.get("/api/v1/orders/SO-999999/notes/").status_code == 404
    response = api.post("/api/v1/orders/SO-999999/notes/", {"message": "hi"}, format="json")
    assert response.status_code == 404


def test_the_floor_reads_notes_but_does_not_write_them(warehouse_api, product):
    order = f.place([(product, 1)], external_id="N-4", customer=ANA)
    url = f"/api/v1/orders/{order.number}/notes/"
    assert warehouse_api.get(url).status_code == 200
    assert warehouse_api.post(url, {"message": "hi"}, format="json").status_code == 403
    assert not order_notes(order=order).exists()


def test_adding_a_note_honours_an_idempotency_key(api, product):
    order = f.place([(product, 1)], external_id="N-5", customer=ANA)
    url = f"/api/v1/orders/{order.number}/notes/"
    for _ in range(2):
        response = api.post(url, {"message": "once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 201
    assert order_notes(order=order).count() == 1


def test_the_schema_documents_both_endpoints(manager_api):
    schema = manager_api.get("/api/schema/", {"format": "json"}).json()
    notes = schema["paths"]["/api/v1/orders/{number}/notes/"]
    assert {"get", "post"} <= set(notes)
    assert {"201", "400", "404"} <= set(notes["post"]["responses"])
    customers = schema["paths"]["/api/v1/customers/{email}/orders/"]["get"]
    assert {"200", "404"} <= set(customers["responses"])
