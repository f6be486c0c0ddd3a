"""Available to sell, pushed to the channels.

For a channel and a SKU: the sum of ``available`` (on hand - reserved) over the
channel's fulfillment points (its ``stock_warehouses``, or every active point), minus
``stock_buffer``, times ``stock_share_percent`` (rounded down), never below 0.

How a change reaches the channel:

1. every stock change marks its level (``inventory.StockChangeMark``) in its own
   transaction, and (``intake.sync.wiring``) queues ``intake.tasks.push_channel_stock``
   after commit; a rolled-back change leaves neither;
2. ``stock_marks_fan_out`` moves the marks, in one transaction, to a
   ``ChannelStockPending`` row per channel that pushes stock and lists the SKU;
3. ``channel_stock_push`` holds the channel's push lock (PostgreSQL advisory lock: one
   push per channel at a time), reads the due pending rows, *then* the quantities, and
   sends absolute quantities in batches (Shopify ``inventorySetQuantities``, 250 per
   call; WooCommerce ``products/batch`` and ``variations/batch``, 100 per call). A
   pending row is deleted only if no newer mark arrived while the push ran; a change
   committed meanwhile is pushed by its own task, which waits for the lock and reads
   again: the last quantity wins.
4. a failure (the platform down past the retries, or its ``userErrors`` for one SKU)
   keeps the row with the platform's message, retried with backoff.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from intake.models import ChannelListing, ChannelStockPending, ChannelSyncState
from intake.sync.http import ChannelError, ShopifyClient, Transport, WooClient, client_for
from inventory.models import StockLevel, Warehouse
from orders.models import Channel, Platform

SHOPIFY_BATCH = 250
WOO_BATCH = 100
LOCK_NAMESPACE = 18_012  # pg_advisory_lock(namespace, channel id)


@dataclass
class PushReport:
    channel: str
    sent: dict[str, int] = field(default_factory=dict)  # sku -> quantity accepted
    failed: dict[str, str] = field(default_factory=dict)  # sku -> platform's message
    calls: int = 0
    error: str = ""

    def lines(self) -> list[str]:
        out = [f"{sku}: {qty}" for sku, qty in sorted(self.sent.items())]
        out += [f"{sku}: FAILED {msg}" for sku, msg in sorted(self.failed.items())]
        return out


# --------------------------------------------------------------------------- quantities


def channel_points(channel: Channel) -> list[int]:
    chosen = list(channel.stock_warehouses.filter(active=True).values_list("pk", flat=True))
    if chosen:
        return chosen
    return list(Warehouse.objects.filter(active=True).values_list("pk", flat=True))


def sellable(available: int, *, buffer: int, share_percent: int | None) -> int:
    """What the channel may sell of ``available``: minus the buffer, times the share."""
    quantity = max(0, available - buffer)
    if share_percent is not None:
        quantity = quantity * share_percent // 100
    return max(0, quantity)


def available_to_sell(*, channel: Channel, product_ids) -> dict[int, int]:
    product_ids = list(product_ids)
    points = channel_points(channel)
    totals: dict[int, int] = dict.fromkeys(product_ids, 0)
    if connection.vendor == "postgresql":
        # Arrays, not one parameter per id: binding 10,000 parameters on the client
        # cost more than the query (a full resync).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT product_id, SUM(on_hand - reserved) FROM inventory_stocklevel "
                "WHERE product_id = ANY(%s) AND warehouse_id = ANY(%s) GROUP BY product_id",
                [product_ids, points],
            )
            totals.update(cursor.fetchall())
    else:
        for start in range(0, len(product_ids), 500):
            rows = (
                StockLevel.objects.filter(
                    product_id__in=product_ids[start : start + 500], warehouse_id__in=points
                )
                .values("product_id")
                .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
                .order_by()
            )
            for row in rows:
                totals[row["product_id"]] = row["on_hand"] - row["reserved"]
    return {
        pid: sellable(qty, buffer=channel.stock_buffer, share_percent=channel.stock_share_percent)
        for pid, qty in totals.items()
    }


# --------------------------------------------------------------------------- marks


def pushing_channels():
    return Channel.objects.filter(active=True, push_stock=True).exclude(platform=Platform.NONE)


@transaction.atomic
def stock_marks_fan_out() -> int:
    """Move the stock change marks to the pending rows of the channels that push stock
    and list the SKU. Marks still locked by a transaction in flight are left to the push
    that transaction queues when it commits. Returns how many marks were taken."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DELETE FROM inventory_stockchangemark WHERE level_id IN ("
                "SELECT level_id FROM inventory_stockchangemark ORDER BY level_id "
                "FOR UPDATE SKIP LOCKED LIMIT 100000) RETURNING product_id"
            )
        else:
            cursor.execute("DELETE FROM inventory_stockchangemark RETURNING product_id")
        product_ids = {row[0] for row in cursor.fetchall()}
    if not product_ids:
        return 0
    channels = list(pushing_channels().values_list("pk", flat=True))
    if channels:
        _mark_pending(channels, sorted(product_ids))
    return len(product_ids)


PENDING_UPSERT = (
    "INSERT INTO intake_channelstockpending "
    "(channel_id, product_id, marked_at, attempts, next_attempt_at, last_error) "
    "SELECT l.channel_id, l.product_id, %s, 0, %s, '' FROM intake_channellisting l "
    "WHERE {where} ORDER BY l.channel_id, l.product_id "
    "ON CONFLICT (channel_id, product_id) DO UPDATE SET marked_at = EXCLUDED.marked_at{also}"
)


def _mark_pending(channels: list[int], product_ids: list[int] | None, *, due_now=False) -> None:
    """Upsert the pending rows of the listings of ``channels`` (of ``product_ids``, or
    all): a new mark moves ``marked_at`` (the push that read the older one will not
    delete it); an existing failure keeps its backoff unless ``due_now``. One
    INSERT ... SELECT per chunk, whatever the number of listings."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as the ORM stores it
    also = ", next_attempt_at = EXCLUDED.next_attempt_at" if due_now else ""
    in_channels = ", ".join(["%s"] * len(channels))
    chunks = (
        [None]
        if product_ids is None
        else [product_ids[i : i + 2000] for i in range(0, len(product_ids), 2000)]
    )
    with connection.cursor() as cursor:
        for chunk in chunks:
            where = f"l.channel_id IN ({in_channels})"
            params = [now, now, *channels]
            if chunk is not None:
                where += f" AND l.product_id IN ({', '.join(['%s'] * len(chunk))})"
                params += chunk
            cursor.execute(PENDING_UPSERT.format(where=where, also=also), params)


@transaction.atomic
def channel_stock_mark_all(*, channel: Channel) -> int:
    """Resync: every listed SKU of the channel is pending and due now (failures too)."""
    _mark_pending([channel.pk], None, due_now=True)
    return ChannelListing.objects.filter(channel=channel).count()


# --------------------------------------------------------------------------- push


@contextmanager
def push_lock(channel: Channel):
    """One push per channel at a time (PostgreSQL session advisory lock; a single
    writer on SQLite needs none)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, channel.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, channel.pk])


def channel_stock_push(
    *, channel: Channel, full: bool = False, transport: Transport | None = None
) -> PushReport:
    """Push the channel's due pending SKUs (``full``: every listed SKU) now."""
    report = PushReport(channel.code)
    stock_marks_fan_out()
    if full:
        channel_stock_mark_all(channel=channel)
    if not channel.connected:
        report.error = "not connected to a platform"
        return report
    transport = transport or Transport()
    with push_lock(channel):
        now = timezone.now()
        due = list(
            ChannelStockPending.objects.filter(channel=channel, next_attempt_at__lte=now)
            .order_by("product_id")
            .values_list("pk", "product_id", "marked_at", "attempts")
        )
        if not due:
            return report
        listings = {
            listing.product_id: listing
            for listing in ChannelListing.objects.filter(
                channel=channel, product_id__in=[d[1] for d in due]
            )
        }
        quantities = available_to_sell(channel=channel, product_ids=list(listings))
        items = [(listings[pid], quantities[pid]) for pid in sorted(listings)]
        client = client_for(channel, transport)
        outcome: dict[int, str | None] = {}  # product id -> None (accepted) or message
        try:
            if isinstance(client, ShopifyClient):
                _push_shopify(client, items, outcome)
            else:
                _push_woocommerce(client, items, outcome)
        except ChannelError as exc:
            report.error = exc.message
            for listing, _ in items:
                outcome.setdefault(listing.product_id, exc.message)
        report.calls = client.calls
        quantities = {listing.product_id: quantity for listing, quantity in items}
        _record(channel, due, listings, quantities, outcome, report)
    return report


@transaction.atomic
def _record(channel, due, listings, quantities, outcome, report: PushReport) -> None:
    now = timezone.now()
    accepted = [pid for pid, message in outcome.items() if message is None]
    gone: list[int] = []
    done: dict = defaultdict(list)  # marked_at -> pending ids pushed with that mark
    retry = []
    for pk, product_id, marked_at, attempts in due:
        listing = listings.get(product_id)
        if listing is None:  # no longer listed: nothing to push
            gone.append(pk)
            continue
        message = outcome.get(product_id, "not sent")
        if message is None:
            done[marked_at].append(pk)
            report.sent[listing.sku] = quantities[product_id]
        else:
            report.failed[listing.sku] = message
            retry.append((pk, attempts + 1, message))
    # A row marked again while the push ran (its marked_at moved) stays pending.
    ChannelStockPending.objects.filter(pk__in=gone).delete()
    for marked_at, pks in done.items():
        _delete_unless_marked_again(pks, marked_at)
    for pk, attempts, message in retry:
        delay = min(
            settings.OMS_CHANNEL_RETRY_MAX_SECONDS,
            settings.OMS_CHANNEL_RETRY_SECONDS * 2 ** (attempts - 1),
        )
        ChannelStockPending.objects.filter(pk=pk).update(
            attempts=attempts,
            last_error=message[:2000],
            next_attempt_at=now + timedelta(seconds=delay),
        )
    _note_pushed([listings[pid] for pid in accepted], quantities, now)
    state, _ = ChannelSyncState.objects.get_or_create(channel=channel)
    state.last_push_at = now
    state.last_push_skus = len(report.sent)
    state.last_push_failed = len(report.failed)
    state.last_push_calls = report.calls
    state.last_error = report.error[:2000]
    state.save()


def _delete_unless_marked_again(pks: list[int], marked_at) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM intake_channelstockpending WHERE id = ANY(%s) AND marked_at = %s",
                [pks, marked_at],
            )
        return
    for start in range(0, len(pks), 500):
        ChannelStockPending.objects.filter(
            pk__in=pks[start : start + 500], marked_at=marked_at
        ).delete()


def _note_pushed(pushed: list[ChannelListing], quantities: dict[int, int], now) -> None:
    for listing in pushed:
        listing.last_pushed_quantity = quantities[listing.product_id]
        listing.last_pushed_at = now
    if not pushed:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE intake_channellisting AS l SET last_pushed_quantity = v.quantity, "
                "last_pushed_at = %s FROM unnest(%s::bigint[], %s::integer[]) "
                "AS v(id, quantity) WHERE l.id = v.id",
                [now, [x.pk for x in pushed], [x.last_pushed_quantity for x in pushed]],
            )
        return
    ChannelListing.objects.bulk_update(
        pushed, ["last_pushed_quantity", "last_pushed_at"], batch_size=500
    )


# --------------------------------------------------------------------------- Shopify

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""
SET_QUANTITIES_BEFORE_IDEMPOTENCY = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""


def _push_shopify(client: ShopifyClient, items, outcome: dict) -> None:
    """``inventorySetQuantities`` with the ``available`` quantity of up to 250 items per
    call. The mutation is all or nothing: when ``userErrors`` name items, those items
    fail with the platform's message and the rest go again without them."""
    missing = [(lst, q) for lst, q in items if not (lst.inventory_item_id and lst.location_id)]
    for listing, _ in missing:
        outcome[listing.product_id] = "not linked to a Shopify inventory item and location"
    ready = [(lst, q) for lst, q in items if lst.inventory_item_id and lst.location_id]
    for start in range(0, len(ready), SHOPIFY_BATCH):
        batch = ready[start : start + SHOPIFY_BATCH]
        while batch:
            errors = _shopify_set(client, batch)
            if errors is None:
                for listing, _ in batch:
                    outcome[listing.product_id] = None
                break
            named = {i: msg for i, msg in errors.items() if i is not None and i < len(batch)}
            if not named:  # an error about the whole call: every item fails with it
                message = "; ".join(errors.values())
                for listing, _ in batch:
                    outcome[listing.product_id] = message
                break
            for index, message in named.items():
                outcome[batch[index][0].product_id] = message
            batch = [item for i, item in enumerate(batch) if i not in named]


def _shopify_set(client: ShopifyClient, batch) -> dict | None:
    """None when accepted, else {item index or None: message}."""
    cas = client.version_at_least("2026-04")
    quantities = []
    for listing, quantity in batch:
        item = {
            "inventoryItemId": listing.inventory_item_id,
            "locationId": listing.location_id,
            "quantity": quantity,
        }
        if cas:
            item["changeFromQuantity"] = None  # we are the source of truth: no compare
        quantities.append(item)
    payload = {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": f"oms://channel-sync/{client.channel.code}",
        "quantities": quantities,
    }
    if not cas:
        payload["ignoreCompareQuantity"] = True
    if client.version_at_least("2026-01"):
        query = SET_QUANTITIES % uuid.uuid4()
    else:
        query = SET_QUANTITIES_BEFORE_IDEMPOTENCY
    data = client.graphql(query, {"input": payload})
    result = data.get("inventorySetQuantities") or {}
    user_errors = result.get("userErrors") or []
    if not user_errors:
        return None
    errors: dict = {}
    for error in user_errors:
        path = error.get("field") or []
        index = None
        if len(path) >= 3 and path[1] == "quantities":
            try:
                index = int(path[2])
            except (TypeError, ValueError):
                index = None
        code = error.get("code")
        message = str(error.get("message") or "error") + (f" ({code})" if code else "")
        errors[index] = f"{errors[index]}; {message}" if index in errors else message
    return errors


# --------------------------------------------------------------------------- WooCommerce


def _push_woocommerce(client: WooClient, items, outcome: dict) -> None:
    """Simple products through ``products/batch``, variations through their parent's
    ``variations/batch``: ``{"update": [{"id", "manage_stock": true, "stock_quantity"}]}``,
    up to 100 per call. Each item of the answer is the product or ``{"id", "error"}``."""
    simple, variations = [], defaultdict(list)
    for listing, quantity in items:
        if listing.remote_variant_id:
            variations[listing.remote_product_id].append((listing, quantity))
        elif listing.remote_product_id:
            simple.append((listing, quantity))
        else:
            outcome[listing.product_id] = "not linked to a WooCommerce product"
    groups = [("/products/batch", simple, "remote_product_id")]
    groups += [
        (f"/products/{parent}/variations/batch", rows, "remote_variant_id")
        for parent, rows in sorted(variations.items())
    ]
    for path, rows, id_field in groups:
        for start in range(0, len(rows), WOO_BATCH):
            batch = rows[start : start + WOO_BATCH]
            body = {
                "update": [
                    {
                        "id": int(getattr(lst, id_field)),
                        "manage_stock": True,
                        "stock_quantity": quantity,
                    }
                    for lst, quantity in batch
                ]
            }
            answer = client.send("POST", path, body)
            answered = answer.get("update") if isinstance(answer, dict) else None
            by_id = {}
            for entry in answered if isinstance(answered, list) else []:
                if isinstance(entry, dict) and "id" in entry:
                    by_id[str(entry["id"])] = entry
            for listing, _ in batch:
                entry = by_id.get(str(getattr(listing, id_field)))
                if entry is None:
                    outcome[listing.product_id] = "not in WooCommerce's answer"
                elif isinstance(entry.get("error"), dict):
                    err = entry["error"]
                    outcome[listing.product_id] = f"{err.get('message')} ({err.get('code')})"
                else:
                    outcome[listing.product_id] = None
