"""A django-q2 cluster SIGKILLed in the middle of a job: the broker hands the job out
again after ``Q_RETRY`` seconds, a fresh cluster runs it, and its result is applied
exactly once.

The clusters are real ``manage.py qcluster`` subprocesses on the ORM broker against the
test database, with ``Q_TIMEOUT``/``Q_RETRY`` shortened so that the re-delivery comes
within seconds. The job is made to stop mid-way deterministically: the test holds a row
lock the job needs (``SELECT ... FOR UPDATE`` in its own connection), waits until the
worker's backend is seen waiting for it in ``pg_stat_activity``, then kills the
cluster's whole process group.

Two jobs: a backorder allocation (blocked on an order row lock after it filled the first
order) and an outgoing webhook delivery (blocked on a receiver that does not answer).
"""

import http.server
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from fulfillment.models import Shipment, ShipmentLine
from inventory.selectors import stock_ledger_mismatches
from kernel import webhooks
from kernel.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from orders.models import Order, OrderEvent
from tests import factories as f
from tests.resilience import support

pytestmark = [support.postgres_only, pytest.mark.django_db(transaction=True)]

Q_TIMEOUT = 4  # a job running longer is killed by its cluster
Q_RETRY = 6  # a job not acknowledged within this is handed out again (> Q_TIMEOUT)
A = Order.AllocationStatus


ALLOCATE = "fulfillment.tasks.allocate_backorders"
WEBHOOK_TIMEOUT = 3  # the cluster's HTTP timeout for a webhook POST (< Q_TIMEOUT)


def cluster_env(application_name: str) -> dict:
    return {
        "DATABASE_URL": support.database_url(application_name),
        "Q_WORKERS": "1",
        "Q_TIMEOUT": str(Q_TIMEOUT),
        "Q_RETRY": str(Q_RETRY),
        "OMS_WEBHOOK_TIMEOUT_SECONDS": str(WEBHOOK_TIMEOUT),
        "OMS_WEBHOOK_BACKOFF_SECONDS": "0",  # the next attempt is due at once
    }


def queued_jobs(func: str) -> list[OrmQ]:
    """The jobs of ``func`` in the ORM broker's queue (other jobs may be queued too)."""
    return [q for q in OrmQ.objects.order_by("pk") if q.func() == func]


def backend_waiting_for_lock(watcher, application_name: str):
    """(pid, query) of a backend of ``application_name`` waiting for a row lock."""
    return watcher.execute(
        "SELECT pid, query FROM pg_stat_activity "
        "WHERE application_name = %s AND wait_event_type = 'Lock'",
        [application_name],
    ).fetchone()


def end_orphans(watcher, application_name: str) -> None:
    """The backends of a killed client end once the server notices; don't wait long."""
    alive = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    try:
        support.wait_for(
            lambda: watcher.execute(alive, [application_name]).fetchone()[0] == 0,
            timeout=10,
            what="the killed cluster's backends to end",
        )
    except AssertionError:
        watcher.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )


@pytest.fixture
def async_tasks(monkeypatch):
    """Tasks go to the ORM broker's queue instead of running in this process, and no
    schedule (from the data migrations) adds jobs of its own to the queue."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    Schedule.objects.all().delete()
    OrmQ.objects.all().delete()


def test_backorder_allocation_killed_mid_way_runs_again_and_applies_once(tmp_path, async_tasks):
    warehouse = f.make_warehouse("KILL-WH", priority=1)
    product = f.make_product("KILL-SKU")
    orders = [
        f.confirm(f.place([(product, 2)], placed_at=datetime(2026, 1, 1, 9 + i, tzinfo=UTC)))
        for i in range(3)
    ]
    assert [o.allocation_status for o in orders] == [A.UNALLOCATED] * 3
    assert not queued_jobs(ALLOCATE)

    locker = support.admin_connection()
    watcher = support.admin_connection()
    first = second = None
    try:
        # The second order (by placed_at) is locked: the job fills the first order in its
        # own transaction, then waits for this lock, mid-way through the run.
        locker.execute("BEGIN")
        locker.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [orders[1].pk])

        f.receive(warehouse=warehouse, product=product, quantity=10)  # queues the job
        (queued,) = queued_jobs(ALLOCATE)
        assert queued.args() == ([product.pk],)
        task_id = queued.task_id()

        started = time.monotonic()
        first = support.start_cluster(
            env=cluster_env("oms_q2_kill_1"), log_path=tmp_path / "cluster1.log"
        )
        blocked = support.wait_for(
            lambda: backend_waiting_for_lock(watcher, "oms_q2_kill_1"),
            timeout=60,
            interval=0.02,
            what=lambda: f"the job to block on the order lock\n{support.output(first)}",
        )
        support.kill_group(first)  # SIGKILL: sentinel, pusher, monitor, worker
        killed_at = time.monotonic()
        first.wait(timeout=10)
        assert blocked[1].startswith('SELECT "orders_order"'), blocked  # the order lock

        # Mid-way: the first order was filled and committed, the others not; the job
        # was not acknowledged, so it is still in the queue, locked until its retry time.
        statuses = dict(Order.objects.values_list("pk", "allocation_status"))
        assert [statuses[o.pk] for o in orders] == [A.ALLOCATED, A.UNALLOCATED, A.UNALLOCATED]
        assert OrmQ.objects.filter(pk=queued.pk).exists()
        assert not Task.objects.filter(id=task_id).exists()

        locker.execute("ROLLBACK")
        end_orphans(watcher, "oms_q2_kill_1")

        restarted_at = time.monotonic()
        second = support.start_cluster(
            env=cluster_env("oms_q2_kill_2"), log_path=tmp_path / "cluster2.log"
        )
        done = support.wait_for(
            lambda: Task.objects.filter(id=task_id).first(),
            timeout=Q_RETRY + 60,
            interval=0.2,
            what=lambda: f"the job to be re-delivered and finish\n{support.output(second)}",
        )
        finished_at = time.monotonic()
        support.wait_for(  # acknowledged: out of the queue for good
            lambda: not OrmQ.objects.filter(pk=queued.pk).exists(),
            timeout=30,
            what="the job to be acknowledged",
        )
    finally:
        locker.close()
        watcher.close()
        support.stop(first)
        support.stop(second)
        connection.close()

    print(
        f"\nallocation job: blocked and SIGKILLed {killed_at - started:.1f} s after the first "
        f"cluster started; the second cluster finished it {finished_at - restarted_at:.1f} s "
        f"after its start (Q_RETRY={Q_RETRY})"
    )
    assert done.success, done.result
    assert done.result == 2  # the re-run filled the two orders left, not the first again
    assert not queued_jobs(ALLOCATE)
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.allocation_status == A.ALLOCATED
        assert order.shipments.count() == 1, f"{order.number} allocated twice"
        assert order.events.filter(kind=OrderEvent.Kind.ALLOCATED).count() == 1
        assert order.lines.get().quantity_allocated == 2
    level = f.level(product, warehouse)
    assert (level.on_hand, level.reserved) == (10, 6)
    assert ShipmentLine.objects.aggregate(n=Sum("quantity"))["n"] == 6
    assert Shipment.objects.count() == 3
    assert len(f.movements(kind="reserve")) == 3
    assert stock_ledger_mismatches() == []


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A webhook receiver on 127.0.0.1 that logs every POST (delivery id, event id,
    attempt) and leaves the first one hanging until ``release`` is set."""

    def __init__(self):
        self.requests: list[dict] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "delivery": self.headers[webhooks.DELIVERY_HEADER],
                        "attempt": self.headers[webhooks.ATTEMPT_HEADER],
                        "id": json.loads(body)["id"],
                    }
                )
                if len(receiver.requests) == 1:
                    receiver.arrived.set()
                    receiver.release.wait(60)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_webhook_delivery_killed_while_sending_is_delivered_once_more_and_logged_once(
    tmp_path, async_tasks
):
    """The worker dies after the receiver got the POST but before it answered. The job is
    handed out again; it finds the attempt orphaned, records it as failed (once) and
    schedules the next attempt, which the receiver answers. The log holds one success;
    the receiver saw the event twice under one ``X-OMS-Delivery`` and one event id, so it
    dedupes (delivery is at least once by design).

    ``kernel.webhooks`` treats a ``sending`` attempt as orphaned only after its HTTP timeout
    plus ``STALE_MARGIN`` (60 s); rather than wait a minute, the test moves the attempt's start
    back by that much (the clock, not the logic, is what it fast-forwards)."""
    receiver = Receiver()
    watcher = support.admin_connection()
    first = second = None
    try:
        subscription = WebhookSubscription.objects.create(
            url=receiver.url, event_types=["order.created"]
        )
        product = f.make_product("HOOK-SKU")
        f.place([(product, 1)], external_id="hook-1")  # publishes order.created
        event = WebhookEvent.objects.get(event_type="order.created")
        (queued,) = queued_jobs(webhooks.TASK)
        (attempt,) = WebhookDelivery.objects.filter(event=event)
        assert queued.args() == (attempt.pk,)
        task_id = queued.task_id()

        first = support.start_cluster(
            env=cluster_env("oms_q2_hook_1"), log_path=tmp_path / "cluster1.log"
        )
        support.wait_for(
            receiver.arrived.is_set,
            timeout=60,
            what=lambda: f"the webhook POST to arrive\n{support.output(first)}",
        )
        support.kill_group(first)  # SIGKILL while the worker waits for the answer
        first.wait(timeout=10)
        end_orphans(watcher, "oms_q2_hook_1")
        receiver.release.set()

        attempt.refresh_from_db()
        assert attempt.status == WebhookDelivery.Status.SENDING  # claimed, never finished
        assert OrmQ.objects.filter(pk=queued.pk).exists()  # not acknowledged
        WebhookDelivery.objects.filter(pk=attempt.pk).update(
            started_at=timezone.now()
            - timedelta(seconds=WEBHOOK_TIMEOUT + 1)
            - webhooks.STALE_MARGIN
        )

        restarted_at = time.monotonic()
        second = support.start_cluster(
            env=cluster_env("oms_q2_hook_2"), log_path=tmp_path / "cluster2.log"
        )
        support.wait_for(
            lambda: WebhookDelivery.objects.filter(
                event=event, status=WebhookDelivery.Status.SUCCEEDED
            ).exists(),
            timeout=Q_RETRY + 60,
            interval=0.2,
            what=lambda: f"the next attempt to succeed\n{support.output(second)}",
        )
        succeeded_at = time.monotonic()
        support.wait_for(
            lambda: not queued_jobs(webhooks.TASK),
            timeout=30,
            what="the webhook jobs to be acknowledged",
        )
    finally:
        watcher.close()
        support.stop(first)
        support.stop(second)
        receiver.close()
        connection.close()

    print(
        f"\nwebhook: attempt 2 succeeded {succeeded_at - restarted_at:.1f} s after the second "
        f"cluster started; the receiver saw {len(receiver.requests)} POSTs"
    )
    attempts = list(
        WebhookDelivery.objects.filter(event=event, subscription=subscription)
        .order_by("attempt")
        .values_list("attempt", "status", "error")
    )
    assert [(n, status) for n, status, _ in attempts] == [(1, "failed"), (2, "succeeded")]
    assert "interrupted" in attempts[0][2]
    rerun = Task.objects.get(id=task_id)  # the killed job, run again to completion
    assert rerun.success and rerun.result == "failed"
    assert Task.objects.filter(func=webhooks.TASK, success=True).count() == 2

    key = webhooks.delivery_key(event, subscription.pk)
    assert [(r["delivery"], r["id"]) for r in receiver.requests] == [(key, str(event.uuid))] * 2
    assert [r["attempt"] for r in receiver.requests] == ["1", "2"]
