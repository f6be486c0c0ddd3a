"""Staff edits of an order back to the platform it came from.

An edit before picking (``fulfillment.services.order_change.order_edit``) or a partial
line cancel (``fulfillment.services.line_cancel.order_cancel_lines``) writes its
``edited`` event and publishes ``order.updated``; the listener here (``order_edited``,
wired in ``intake.sync.wiring``) reads that event, inside the same transaction, and
writes one ``ChannelOutbox`` row of kind ``edit`` (reference ``edit-<event id>``), sent
after commit by ``intake.sync.outbound.channel_outbox_deliver`` with its retries,
throttling and error handling. The row names what changed (the SKUs whose quantity
moved, whether the address did); the sender reads the order as it is when it sends,
so a retry or a later edit never sends a stale quantity.

* **Shopify** (GraphQL Admin API): the ship-to address with ``orderUpdate``
  (``OrderInput.shippingAddress``, a ``MailingAddressInput``); the quantities with the
  order editing flow: ``orderEditBegin`` (the order's ``CalculatedOrder`` and its
  ``CalculatedLineItem`` ids), ``orderEditSetQuantity`` for a line already there (0
  removes it, ``restock: true``), ``orderEditAddVariant`` for a SKU new to the order,
  then ``orderEditCommit``. Any ``userErrors`` refuse the row (failed, the message
  kept); an uncommitted edit changes nothing on Shopify.
* **WooCommerce** (REST v3): ``GET /orders/<id>`` for its ``line_items``, then one
  ``PUT /orders/<id>`` with ``line_items`` (an existing item by its ``id`` and the new
  ``quantity``, ``quantity: 0`` removes it; a new one by ``product_id`` /
  ``variation_id``) and the ``shipping`` address.

What is not sent is said in the row's ``note``: a SKU the channel does not list (no
``ChannelListing``), the shipping service (our carrier choice for the parcels, not the
order's shipping line on the platform) and the shipping price (not sent by this sync).
An edit with nothing the platform can hear, or of an order that was not placed on the
platform (a staff order on a connected channel), is recorded ``skipped``. Edits made on
the platform itself (inbound webhooks) are never sent back; channels without a platform
connection, or with ``push_fulfillments`` off, hear nothing. Nothing here raises into
the staff edit: the edit stands whatever the platform answers.
"""

from __future__ import annotations

from intake.models import ChannelListing, ChannelOutbox
from intake.sync.http import ChannelRefused, ShopifyClient, WooClient
from intake.sync.outbox_queue import write_outbox
from orders.models import Order, OrderEvent, Platform

Kind = ChannelOutbox.Kind
Status = ChannelOutbox.Status
PLATFORM_NAMES = {Platform.SHOPIFY: "Shopify", Platform.WOOCOMMERCE: "WooCommerce"}


# --------------------------------------------------------------------------- listener


def _edit_event(order: Order) -> OrderEvent | None:
    """The staff edit ``order.updated`` was published for: the order's newest event,
    written by an edit or a line cancel (not an edit that came from the platform)."""
    event = OrderEvent.objects.filter(order=order).order_by("-pk").first()
    if event is None or event.kind != OrderEvent.Kind.EDITED:
        return None
    data = event.data if isinstance(event.data, dict) else {}
    if data.get("source"):  # applied from the platform's own webhook: never echo it
        return None
    if data.get("change") == "cancel_lines" or isinstance(data.get("changes"), list):
        return event
    return None


def edit_summary(data: dict, platform_name: str) -> tuple[list[str], bool, list[str]]:
    """(SKUs whose quantity changed, whether the address changed, what cannot be sent)
    from an ``edited`` event's data."""
    skus: list[str] = []
    address = False
    not_sent: list[str] = []
    if data.get("change") == "cancel_lines":
        skus = [str(line.get("sku")) for line in data.get("lines") or []]
        return list(dict.fromkeys(skus)), False, []
    for change in data.get("changes") or []:
        kind = change.get("change")
        if kind in ("quantity", "remove", "add"):
            skus.append(str(change.get("sku")))
        elif kind == "address":
            address = True
        elif kind == "service":
            not_sent.append(
                f"shipping service {change.get('from')} -> {change.get('to')} not sent: it is "
                f"our carrier choice for {change.get('shipment')}, not the order's shipping "
                f"line on {platform_name}"
            )
        elif kind == "shipping_total":
            not_sent.append(
                f"shipping price {change.get('from')} -> {change.get('to')} not sent: "
                f"the sync does not change shipping lines on {platform_name}"
            )
    return list(dict.fromkeys(skus)), address, not_sent


def placed_on_platform(order: Order) -> bool:
    """Both platforms number their orders with digits (Shopify's legacy id, the
    WooCommerce post id); a staff order on the channel has ``DRAFT-<n>``."""
    return bool(order.external_id) and order.external_id.isdigit()


def order_edited(order: Order) -> None:
    """``order.updated`` listener: queue the staff edit for the order's platform."""
    channel = order.channel
    if not (channel.push_fulfillments and channel.connected):
        return
    event = _edit_event(order)
    if event is None:
        return
    name = PLATFORM_NAMES.get(channel.platform, channel.platform)
    skus, address, notes = edit_summary(event.data, name)
    listed = set(
        ChannelListing.objects.filter(channel=channel, sku__in=skus).values_list("sku", flat=True)
    )
    unlisted = [sku for sku in skus if sku not in listed]
    notes += [f"{sku} not sent: not linked to a {name} listing" for sku in unlisted]
    sendable = [sku for sku in skus if sku in listed]
    payload = {"event": event.pk, "skus": sendable, "address": address}
    status = Status.PENDING
    if not placed_on_platform(order):
        status = Status.SKIPPED
        notes.insert(0, f"not sent: {order.number} was not placed on {name}")
    elif not sendable and not address:
        status = Status.SKIPPED
        notes.insert(0, f"nothing {name} can hear in this edit")
    write_outbox(
        order, Kind.EDIT, f"edit-{event.pk}", payload, status=status, note="; ".join(notes)
    )


# --------------------------------------------------------------------------- reading ours


def wanted_quantities(order: Order, skus: list[str]) -> dict[str, int]:
    """Per SKU, the units the order holds now (ordered minus cancelled)."""
    wanted = dict.fromkeys(skus, 0)
    for sku, quantity, cancelled in order.lines.filter(sku__in=skus).values_list(
        "sku", "quantity", "quantity_cancelled"
    ):
        wanted[sku] += quantity - cancelled
    return wanted


def listings(channel, skus: list[str]) -> dict[str, ChannelListing]:
    return {lst.sku: lst for lst in ChannelListing.objects.filter(channel=channel, sku__in=skus)}


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def _add_note(row: ChannelOutbox, text: str) -> None:
    if text not in row.note:  # a retry says it once
        row.note = f"{row.note}; {text}" if row.note else text


# --------------------------------------------------------------------------- Shopify


ORDER_UPDATE = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_BEGIN = """
mutation OrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      lineItems(first: 250) {
        nodes { id quantity editableQuantity sku variant { id } }
      }
    }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_SET_QUANTITY = """
mutation OrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_ADD_VARIANT = """
mutation OrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!,
                             $allowDuplicates: Boolean) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity,
                      allowDuplicates: $allowDuplicates) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_COMMIT = """
mutation OrderEditCommit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order { id }
    userErrors { field message }
  }
}
"""


def _shopify_refused(result: dict) -> None:
    errors = (result or {}).get("userErrors") or []
    if errors:
        raise ChannelRefused(
            "Shopify: " + "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        )


def shopify_address(order: Order) -> dict:
    first, last = _split_name(order.ship_name)
    region = order.ship_region or ""
    address = {
        "firstName": first,
        "lastName": last,
        "address1": order.ship_line1,
        "address2": order.ship_line2,
        "city": order.ship_city,
        "zip": order.ship_postcode,
        "countryCode": order.ship_country,
        "phone": order.ship_phone,
    }
    # a short code (SP, CA, NSW) is the province code; a name goes as the province
    address["provinceCode" if region.isalnum() and len(region) <= 3 else "province"] = region
    return address


def shopify_edit(client: ShopifyClient, row: ChannelOutbox) -> str:
    order = Order.objects.get(pk=row.order_id)
    gid = f"gid://shopify/Order/{order.external_id}"
    sent = []
    if row.payload.get("address"):
        result = client.graphql(
            ORDER_UPDATE, {"input": {"id": gid, "shippingAddress": shopify_address(order)}}
        )
        payload = result.get("orderUpdate") or {}
        _shopify_refused(payload)
        sent.append("address")
    skus = list(row.payload.get("skus") or [])
    if skus:
        if _shopify_quantities(client, row, order, gid, skus):
            sent.append("quantities")
    return f"{gid} " + (" and ".join(sent) if sent else "already as ours")


def _shopify_matches(item: dict, listing: ChannelListing) -> bool:
    variant = (item.get("variant") or {}).get("id")
    if listing.remote_variant_id and variant:
        return variant == listing.remote_variant_id
    return (item.get("sku") or "") == listing.sku


def _shopify_quantities(client, row, order, gid, skus) -> bool:
    wanted = wanted_quantities(order, skus)
    linked = listings(row.channel, skus)
    begin = client.graphql(ORDER_EDIT_BEGIN, {"id": gid}).get("orderEditBegin") or {}
    _shopify_refused(begin)
    calculated = begin.get("calculatedOrder") or {}
    calc_id = calculated.get("id")
    if not calc_id:
        raise ChannelRefused(f"Shopify: order {order.external_id} cannot be edited")
    items = (calculated.get("lineItems") or {}).get("nodes") or []
    staged = False
    for sku in skus:
        listing = linked.get(sku)
        if listing is None:
            _add_note(row, f"{sku} not sent: not linked to a Shopify listing")
            continue
        item = next((i for i in items if _shopify_matches(i, listing)), None)
        quantity = wanted[sku]
        if item is not None:
            if int(item.get("quantity") or 0) == quantity:
                continue
            result = client.graphql(
                ORDER_EDIT_SET_QUANTITY,
                {"id": calc_id, "lineItemId": item["id"], "quantity": quantity, "restock": True},
            ).get("orderEditSetQuantity")
        elif quantity > 0:
            if not listing.remote_variant_id:
                _add_note(row, f"{sku} not sent: its Shopify listing has no variant id")
                continue
            result = client.graphql(
                ORDER_EDIT_ADD_VARIANT,
                {
                    "id": calc_id,
                    "variantId": listing.remote_variant_id,
                    "quantity": quantity,
                    "allowDuplicates": False,
                },
            ).get("orderEditAddVariant")
        else:
            continue  # not on the Shopify order and none wanted
        _shopify_refused(result or {})
        staged = True
    if not staged:
        return False
    commit = client.graphql(
        ORDER_EDIT_COMMIT,
        {
            "id": calc_id,
            "notifyCustomer": False,
            "staffNote": f"Edited in the OMS ({order.number})",
        },
    ).get("orderEditCommit")
    _shopify_refused(commit or {})
    return True


# --------------------------------------------------------------------------- WooCommerce


def woo_address(order: Order) -> dict:
    first, last = _split_name(order.ship_name)
    return {
        "first_name": first,
        "last_name": last,
        "address_1": order.ship_line1,
        "address_2": order.ship_line2,
        "city": order.ship_city,
        "state": order.ship_region,
        "postcode": order.ship_postcode,
        "country": order.ship_country,
        "phone": order.ship_phone,
    }


def _woo_matches(item: dict, listing: ChannelListing) -> bool:
    variation = str(item.get("variation_id") or 0)
    if listing.remote_variant_id:
        return variation == listing.remote_variant_id
    return str(item.get("product_id") or "") == listing.remote_product_id and variation == "0"


def woo_edit(client: WooClient, row: ChannelOutbox) -> str:
    order = Order.objects.get(pk=row.order_id)
    path = f"/orders/{order.external_id}"
    body: dict = {}
    skus = list(row.payload.get("skus") or [])
    if skus:
        remote = client.get(path).body
        items = (remote.get("line_items") or []) if isinstance(remote, dict) else []
        wanted = wanted_quantities(order, skus)
        linked = listings(row.channel, skus)
        changes = []
        for sku in skus:
            listing = linked.get(sku)
            if listing is None:
                _add_note(row, f"{sku} not sent: not linked to a WooCommerce listing")
                continue
            item = next((i for i in items if _woo_matches(i, listing)), None)
            if item is None:
                item = next((i for i in items if (i.get("sku") or "") == sku), None)
            quantity = wanted[sku]
            if item is not None:
                if int(item.get("quantity") or 0) != quantity:
                    changes.append({"id": item["id"], "quantity": quantity})
            elif quantity > 0:
                ids = (listing.remote_product_id, listing.remote_variant_id or "0")
                if not all(i.isdigit() for i in ids):
                    _add_note(row, f"{sku} not sent: its WooCommerce listing has no product id")
                    continue
                new = {"product_id": int(ids[0]), "quantity": quantity}
                if listing.remote_variant_id:
                    new["variation_id"] = int(ids[1])
                changes.append(new)
        if changes:
            body["line_items"] = changes
    if row.payload.get("address"):
        body["shipping"] = woo_address(order)
    if not body:
        return f"{order.external_id} already as ours"
    client.send("PUT", path, body)
    return order.external_id


SENDERS = {
    (ShopifyClient, Kind.EDIT): shopify_edit,
    (WooClient, Kind.EDIT): woo_edit,
}
