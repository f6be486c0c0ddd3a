"""The database connection dropped under load: gunicorn (production settings, persistent
connections) places orders from client threads while the test terminates every backend
of the database a few times (``pg_terminate_backend``, what a failover or a DBA does).

Requests caught mid-transaction fail cleanly with 503 (oms.middleware), never 500. The
client retries with the same external id and gets exactly one order (placement is
idempotent): a new one (201) when the transaction was rolled back, the existing one
(200) when the connection dropped after the commit, while the answer was being built.
Afterwards: no partial order, reservations equal to the open shipment lines, and a clean
stock ledger.
"""

import http.client
import json
import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Sum
from rest_framework.authtoken.models import Token

from fulfillment.models import OPEN_SHIPMENT_STATUSES, ShipmentLine
from inventory.models import StockLevel
from inventory.selectors import stock_ledger_mismatches
from kernel.roles import INTEGRATION
from orders.models import Channel, Order
from tests import factories as f
from tests.resilience import support

pytestmark = [support.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 6
PER_THREAD = 40
RUN_SECONDS = 8  # the clients stop sending new orders after this
KILL_ROUNDS = 5  # at least, while clients run; more (up to MAX) until a request got a 503
MAX_KILL_ROUNDS = 12
SKUS = [f"DROP-{i}" for i in range(8)]
OK = {200, 201}


def _body(thread: int, i: int, rng: random.Random) -> dict:
    lines = [
        {"sku": sku, "quantity": rng.randint(1, 3), "unit_price": "12.50"}
        for sku in rng.sample(SKUS, rng.randint(2, 3))
    ]
    return {
        "channel": "drop-auto",
        "external_id": f"drop-{thread}-{i}",
        "currency": "BRL",
        "financial_status": "paid",
        "customer": {"email": f"c{thread}@example.com", "name": "Dropped Conn"},
        "shipping_address": {
            "name": "Dropped Conn",
            "line1": "Rua B 2",
            "city": "Campinas",
            "region": "SP",
            "postcode": "13023-000",
            "country": "BR",
        },
        "lines": lines,
        "shipping_total": "5.00",
        "placed_at": "2026-11-26T10:00:00Z",
    }


def _post(port: int, token: str, body: dict) -> int | str:
    """POST one order on a fresh connection; the status, or the error's name."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/v1/orders/",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        conn.close()


def _setup() -> str:
    """Products stocked in two warehouses (the first runs short, so orders split), an
    auto-confirming channel and an integration token; committed (transaction=True)."""
    small = f.make_warehouse("DROP-A", priority=1)
    big = f.make_warehouse("DROP-B", priority=2)
    for sku in SKUS:
        product = f.make_product(sku, price="12.50")
        f.receive(product, small, 40)
        f.receive(product, big, 1000)
    Channel.objects.create(
        code="drop-auto", name="Drop", auto_confirm=True, auto_confirm_require_payment=False
    )
    user = User.objects.create_user("drop-integration", password="pw-123456")
    user.groups.add(Group.objects.get(name=INTEGRATION))
    return Token.objects.create(user=user).key


def test_terminated_backends_under_load_give_503s_that_retry_into_one_order_each(tmp_path):
    token = _setup()
    sent: dict[str, dict] = {}
    answers: list[tuple[str, int | str]] = []
    lock = threading.Lock()

    def client(thread: int) -> None:
        rng = random.Random(thread)
        for i in range(PER_THREAD):
            if time.monotonic() > deadline:
                return
            body = _body(thread, i, rng)
            status = _post(port, token, body)
            with lock:
                sent[body["external_id"]] = body
                answers.append((body["external_id"], status))

    gunicorn, port = support.start_gunicorn(
        url=support.database_url("oms_drop_gunicorn"), workers=3, log_path=tmp_path / "gunicorn.log"
    )
    killer = support.admin_connection()
    terminated = []
    try:
        deadline = time.monotonic() + RUN_SECONDS
        threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        rng = random.Random(42)
        for round_ in range(MAX_KILL_ROUNDS):
            time.sleep(rng.uniform(0.6, 1.2))
            if not any(t.is_alive() for t in threads):
                break
            if round_ >= KILL_ROUNDS and any(status == 503 for _, status in answers):
                break  # enough: some requests were caught mid-transaction
            rows = killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            ).fetchall()
            terminated.append(sum(1 for (ok,) in rows if ok))
        for thread in threads:
            thread.join(RUN_SECONDS + 60)
        assert not any(t.is_alive() for t in threads), "client threads hang"

        first = Counter(status for _, status in answers)
        assert set(first) <= {200, 201, 503}, (
            f"answers other than 2xx/503 under dropped connections: {first}\n"
            + support.output(gunicorn)
        )

        # Retry every failed request, same body and external id, until it succeeds.
        retried, settled = Counter(), Counter()
        for external_id, status in answers:
            if status in OK:
                continue
            for _attempt in range(30):
                retried[external_id] += 1
                status = _post(port, token, sent[external_id])
                if status in OK:
                    settled[status] += 1  # 200: it had been placed after all
                    break
                assert status == 503, f"retry of {external_id} answered {status}"
                time.sleep(0.2)
            assert status in OK, f"{external_id} never succeeded"
    finally:
        support.stop(gunicorn)
        killer.close()
        connection.close()  # our own connection was terminated too: reconnect

    print(
        f"\n{len(answers)} orders sent: first answers {dict(first)}, "
        f"backends terminated per round {terminated}, "
        f"{sum(retried.values())} retries for {len(retried)} orders, "
        f"settled as {dict(settled)} (200: placed before the connection dropped)"
    )
    assert sum(terminated) > 0, "no backend was terminated: the test proved nothing"
    assert first[503] > 0, "no request was caught mid-transaction: the test proved nothing"

    orders = Order.objects.filter(channel__code="drop-auto").prefetch_related("lines")
    by_external = defaultdict(list)
    for order in orders:
        by_external[order.external_id].append(order)
    assert set(by_external) == set(sent), "an order is missing or unexpected"
    assert all(len(found) == 1 for found in by_external.values()), "an external id placed twice"
    for external_id, (order,) in by_external.items():
        wanted = sorted((line["sku"], line["quantity"]) for line in sent[external_id]["lines"])
        assert sorted((ol.sku, ol.quantity) for ol in order.lines.all()) == wanted, (
            f"partial order {order.number}"
        )
        assert order.status == Order.Status.CONFIRMED, f"{order.number} is {order.status}"
        for line in order.lines.all():
            in_shipments = ShipmentLine.objects.filter(
                order_line=line, shipment__status__in=OPEN_SHIPMENT_STATUSES
            ).aggregate(n=Sum("quantity"))["n"]
            assert (in_shipments or 0) == line.quantity_allocated

    for level in StockLevel.objects.all():
        open_lines = ShipmentLine.objects.filter(
            shipment__warehouse_id=level.warehouse_id,
            shipment__status__in=OPEN_SHIPMENT_STATUSES,
            order_line__product_id=level.product_id,
        ).aggregate(n=Sum("quantity"))["n"]
        assert level.reserved == (open_lines or 0), f"reserved drifted at {level}"
    assert stock_ledger_mismatches() == []
