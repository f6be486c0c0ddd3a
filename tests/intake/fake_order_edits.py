"""Order editing on the fake stores (mixed into ``FakeShopify`` and ``FakeWoo``), as
the platforms document it.

Shopify GraphQL Admin API: ``orderEditBegin(id)`` opens a ``CalculatedOrder``
(``gid://shopify/CalculatedOrder/<n>``) whose ``lineItems`` are ``CalculatedLineItem``
(``id``, ``quantity``, ``editableQuantity`` = quantity minus fulfilled, ``sku``,
``variant {id}``); ``orderEditSetQuantity(id, lineItemId, quantity, restock)`` (not
negative, not below the fulfilled units), ``orderEditAddVariant(id, variantId,
quantity, allowDuplicates)`` (a positive quantity, a known variant, no duplicate unless
allowed) stage changes on it; ``orderEditCommit(id, notifyCustomer, staffNote)`` applies
them to the order; until then the order is untouched. ``orderUpdate(input: {id,
shippingAddress})`` overwrites the shipping address. Refusals are ``userErrors
[{field, message}]`` with HTTP 200.

WooCommerce REST v3: ``GET /orders/<id>`` with its ``line_items``; ``PUT /orders/<id>``
with ``line_items``: an item with ``id`` updates that item (400
``woocommerce_rest_invalid_item_id`` when it is not on the order), ``quantity: 0`` or
``product_id: null`` removes it, an item without ``id`` is created from ``product_id``
/ ``variation_id`` (or ``sku``; 400 ``woocommerce_rest_required_product_reference``
without any); items not posted are left as they are; ``shipping`` sets the address.
"""

from __future__ import annotations

import copy
import re

ORDER_PUT = re.compile(r"^/orders/(\d+)$")


def _user_errors(root: str, message: str, field: list[str], **extra) -> dict:
    return {root: {**extra, "userErrors": [{"field": field, "message": message}]}}


class ShopifyOrderEditing:
    """Needs ``self.orders``, ``self.variants`` and ``self.lock`` (``FakeShopify``)."""

    def init_order_editing(self):
        self.line_items: dict[str, list[dict]] = {}  # legacy order id -> line items
        self.shipping_addresses: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}  # calculated order gid -> session
        self.commits: list[dict] = []
        self._next_line = 9000
        self._next_session = 0

    def add_line_item(self, legacy_id: str, sku: str, quantity: int, fulfilled: int = 0) -> str:
        variant = next((v["id"] for v in self.variants if v["sku"] == sku), None)
        with self.lock:
            self._next_line += 1
            number = self._next_line
        self.line_items.setdefault(legacy_id, []).append(
            {
                "id": number,
                "sku": sku,
                "variant": variant,
                "quantity": quantity,
                "fulfilled": fulfilled,
            }
        )
        return f"gid://shopify/LineItem/{number}"

    def quantities(self, legacy_id: str) -> dict[str, int]:
        return {li["sku"]: li["quantity"] for li in self.line_items.get(legacy_id, [])}

    def edit_handlers(self):
        return (
            ("orderEditBegin", self._edit_begin),
            ("orderEditSetQuantity", self._edit_set_quantity),
            ("orderEditAddVariant", self._edit_add_variant),
            ("orderEditCommit", self._edit_commit),
            ("orderUpdate", self._order_update),
        )

    @staticmethod
    def _calc_line(line: dict) -> dict:
        return {
            "id": f"gid://shopify/CalculatedLineItem/{line['id']}",
            "quantity": line["quantity"],
            "editableQuantity": line["quantity"] - line["fulfilled"],
            "sku": line["sku"],
            "variant": {"id": line["variant"]} if line["variant"] else None,
        }

    def _calculated(self, gid: str) -> dict:
        session = self.sessions[gid]
        return {
            "id": gid,
            "lineItems": {"nodes": [self._calc_line(li) for li in session["lines"]]},
        }

    def _edit_begin(self, query, variables, version):
        legacy = self._legacy(variables.get("id"))
        node = self.orders.get(legacy)
        if node is None:
            return _user_errors(
                "orderEditBegin", "The order does not exist.", ["id"], calculatedOrder=None
            )
        if node.get("cancelledAt"):
            return _user_errors(
                "orderEditBegin",
                "The order cannot be edited: it is cancelled.",
                ["id"],
                calculatedOrder=None,
            )
        with self.lock:
            self._next_session += 1
            gid = f"gid://shopify/CalculatedOrder/{self._next_session}"
        self.sessions[gid] = {
            "order": legacy,
            "lines": copy.deepcopy(self.line_items.get(legacy, [])),
        }
        return {"orderEditBegin": {"calculatedOrder": self._calculated(gid), "userErrors": []}}

    def _session_line(self, variables):
        session = self.sessions.get(variables.get("id"))
        if session is None:
            return None, None
        number = (variables.get("lineItemId") or "").rsplit("/", 1)[-1]
        line = next((li for li in session["lines"] if str(li["id"]) == number), None)
        return session, line

    def _edit_set_quantity(self, query, variables, version):
        root = "orderEditSetQuantity"
        session, line = self._session_line(variables)
        if session is None:
            return _user_errors(
                root, "The calculated order does not exist.", ["id"], calculatedLineItem=None
            )
        if line is None:
            return _user_errors(
                root, "The line item does not exist.", ["lineItemId"], calculatedLineItem=None
            )
        quantity = variables.get("quantity")
        if not isinstance(quantity, int) or quantity < 0:
            return _user_errors(
                root, "The quantity can't be negative.", ["quantity"], calculatedLineItem=None
            )
        if quantity < line["fulfilled"]:
            return _user_errors(
                root,
                f"The quantity can't be less than the {line['fulfilled']} fulfilled item(s).",
                ["quantity"],
                calculatedLineItem=None,
            )
        line["quantity"] = quantity
        line["restock"] = bool(variables.get("restock"))
        return {
            root: {
                "calculatedLineItem": {"id": variables["lineItemId"], "quantity": quantity},
                "userErrors": [],
            }
        }

    def _edit_add_variant(self, query, variables, version):
        root = "orderEditAddVariant"
        session = self.sessions.get(variables.get("id"))
        if session is None:
            return _user_errors(
                root, "The calculated order does not exist.", ["id"], calculatedLineItem=None
            )
        variant = next((v for v in self.variants if v["id"] == variables.get("variantId")), None)
        if variant is None:
            return _user_errors(
                root, "The variant does not exist.", ["variantId"], calculatedLineItem=None
            )
        quantity = variables.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            return _user_errors(
                root, "The quantity must be positive.", ["quantity"], calculatedLineItem=None
            )
        if not variables.get("allowDuplicates") and any(
            li["variant"] == variant["id"] for li in session["lines"]
        ):
            return _user_errors(
                root, "The variant is already on the order.", ["variantId"], calculatedLineItem=None
            )
        with self.lock:
            self._next_line += 1
            number = self._next_line
        line = {
            "id": number,
            "sku": variant["sku"],
            "variant": variant["id"],
            "quantity": quantity,
            "fulfilled": 0,
        }
        session["lines"].append(line)
        return {root: {"calculatedLineItem": self._calc_line(line), "userErrors": []}}

    def _edit_commit(self, query, variables, version):
        session = self.sessions.pop(variables.get("id"), None)
        if session is None:
            return _user_errors(
                "orderEditCommit", "The calculated order does not exist.", ["id"], order=None
            )
        legacy = session["order"]
        self.line_items[legacy] = session["lines"]
        self.commits.append(variables)
        return {
            "orderEditCommit": {"order": {"id": f"gid://shopify/Order/{legacy}"}, "userErrors": []}
        }

    def _order_update(self, query, variables, version):
        data = variables.get("input") or {}
        legacy = self._legacy(data.get("id"))
        if legacy not in self.orders:
            return _user_errors("orderUpdate", "Order does not exist", ["id"], order=None)
        if "shippingAddress" in data:
            self.shipping_addresses[legacy] = dict(data["shippingAddress"] or {})
        return {"orderUpdate": {"order": {"id": data["id"]}, "userErrors": []}}


class WooOrderEditing:
    """Needs ``self.orders``, ``self.products``, ``self.variations``, ``self.error`` and
    ``self.lock`` (``FakeWoo``)."""

    def init_order_editing(self):
        self.order_puts: list[dict] = []
        self._next_item = 300

    def add_line_item(self, order_id: int, sku: str, quantity: int) -> int:
        product_id, variation_id = self._find_sku(sku)
        with self.lock:
            self._next_item += 1
            number = self._next_item
        self.orders[order_id].setdefault("line_items", []).append(
            {
                "id": number,
                "product_id": product_id,
                "variation_id": variation_id,
                "quantity": quantity,
                "sku": sku,
            }
        )
        return number

    def quantities(self, order_id: int) -> dict[str, int]:
        return {li["sku"]: li["quantity"] for li in self.orders[order_id].get("line_items", [])}

    def _find_sku(self, sku):
        for p in self.products.values():
            if p["sku"] == sku:
                return p["id"], 0
        for parent, vs in self.variations.items():
            for v in vs.values():
                if v["sku"] == sku:
                    return parent, v["id"]
        return 0, 0

    def _sku_of(self, product_id, variation_id):
        if variation_id:
            return (self.variations.get(product_id, {}).get(variation_id) or {}).get("sku", "")
        return (self.products.get(product_id) or {}).get("sku", "")

    def order_answer(self, method, path, body):
        """GET / PUT ``/orders/<id>``; None for any other route."""
        m = ORDER_PUT.match(path)
        if not m or method not in ("GET", "PUT"):
            return None
        order = self.orders.get(int(m[1]))
        if order is None:
            return self.error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        if method == "GET":
            return 200, order, {}
        body = body or {}
        items = copy.deepcopy(order.get("line_items", []))
        for posted in body.get("line_items") or []:
            refused = self._apply_item(items, posted)
            if refused:
                return refused
        with self.lock:
            self.order_puts.append(body)
        order["line_items"] = items
        if isinstance(body.get("shipping"), dict):
            order.setdefault("shipping", {}).update(body["shipping"])
        order.update({k: v for k, v in body.items() if k in ("status",)})
        return 200, order, {}

    def _apply_item(self, items, posted):
        item_id = posted.get("id")
        removing = ("product_id" in posted and posted["product_id"] is None) or (
            "quantity" in posted and posted["quantity"] == 0
        )
        current = next((i for i in items if i["id"] == item_id), None) if item_id else None
        if item_id and current is None:
            return self.error(
                400,
                "woocommerce_rest_invalid_item_id",
                "Order item ID provided is not associated with order.",
            )
        if removing:
            if current is not None:
                items.remove(current)
            return None
        if current is not None:
            if "quantity" in posted:
                current["quantity"] = posted["quantity"]
            return None
        if posted.get("sku"):
            product_id, variation_id = self._find_sku(posted["sku"])
        elif posted.get("product_id") or posted.get("variation_id"):
            product_id = posted.get("product_id") or 0
            variation_id = posted.get("variation_id") or 0
        else:
            return self.error(
                400, "woocommerce_rest_required_product_reference", "Product ID or SKU is required."
            )
        with self.lock:
            self._next_item += 1
            number = self._next_item
        items.append(
            {
                "id": number,
                "product_id": product_id,
                "variation_id": variation_id,
                "quantity": posted.get("quantity", 1),
                "sku": self._sku_of(product_id, variation_id),
            }
        )
        return None
