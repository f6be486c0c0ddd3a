"""Fake Shopify (GraphQL Admin API) and WooCommerce (REST API v3) stores on 127.0.0.1,
port 0, in a thread: they answer as the platforms document, throttling included.

Shopify: ``POST /admin/api/<version>/graphql.json``, ``X-Shopify-Access-Token`` or 401
``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong
password)"}``; a throttled call is HTTP 200 with ``errors[{message: "Throttled",
extensions: {code: "THROTTLED"}}]`` and ``extensions.cost`` (``requestedQueryCost``,
``actualQueryCost: null``, ``throttleStatus {maximumAvailable, currentlyAvailable,
restoreRate}``). From 2026-04 ``inventorySetQuantities`` needs ``@idempotent`` and a
``changeFromQuantity`` on every quantity. The operations are told apart by their root
field (the fake does not parse GraphQL beyond that).

WooCommerce: ``/wp-json/wc/v3/...`` with HTTP Basic auth, pages with ``X-WP-Total`` /
``X-WP-TotalPages``, batch endpoints of at most 100 items (413
``rest_request_entity_too_large`` beyond), errors ``{"code", "message", "data":
{"status"}}``.

``fail_next(status, n)`` answers the next n requests with that status (``retry_after``
for 429), ``throttle_next(n)`` answers the next n GraphQL calls THROTTLED. Order
editing (Shopify ``orderEdit*`` / ``orderUpdate``, WooCommerce ``GET``/``PUT
/orders/<id>`` with ``line_items``) is in ``fake_order_edits``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.intake.fake_order_edits import ShopifyOrderEditing, WooOrderEditing

QTY_PATH = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeStore:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self._faults: list[tuple[int, float | None]] = []
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None):
        with self.lock:
            self._faults.extend([(status, retry_after)] * times)

    def _fault(self):
        with self.lock:
            return self._faults.pop(0) if self._faults else None

    def _handler(self):
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status, body, headers=None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                parts = urlsplit(self.path)
                with store.lock:
                    store.requests.append(
                        {
                            "method": method,
                            "path": parts.path,
                            "query": parts.query,
                            "headers": dict(self.headers),
                            "body": body,
                        }
                    )
                fault = store._fault()
                if fault:
                    status, retry_after = fault
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    return self._reply(status, store.fault_body(status), headers)
                status, answer, headers = store.answer(method, parts, self.headers, body)
                self._reply(status, answer, headers)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

        return Handler


# --------------------------------------------------------------------------- Shopify


class FakeShopify(ShopifyOrderEditing, FakeStore):
    TOKEN = "shpat_test_0123456789abcdef"
    LOCATION = "gid://shopify/Location/7001"

    def __init__(self):
        super().__init__()
        self.variants: list[dict] = []  # {sku, id, product, item}
        self.levels: dict[tuple[str, str], int] = {}  # (item, location) -> available
        self.orders: dict[str, dict] = {}  # legacy id -> order node (GraphQL shape)
        self.fulfillment_orders: dict[str, list[dict]] = {}
        self.fulfillments: list[dict] = []
        self.cancels: list[dict] = []
        self.refunds: list[dict] = []
        self._throttles = 0
        self.set_calls = 0
        self.init_order_editing()  # orderEdit* and orderUpdate: fake_order_edits

    def throttle_next(self, times: int = 1):
        with self.lock:
            self._throttles += times

    def add_variant(self, sku: str, n: int):
        item = f"gid://shopify/InventoryItem/{900000 + n}"
        self.variants.append(
            {
                "sku": sku,
                "id": f"gid://shopify/ProductVariant/{500000 + n}",
                "product": f"gid://shopify/Product/{100000 + n}",
                "item": item,
            }
        )
        self.levels[(item, self.LOCATION)] = 0

    def available(self, sku: str) -> int | None:
        for v in self.variants:
            if v["sku"] == sku:
                return self.levels.get((v["item"], self.LOCATION))
        return None

    def add_order(self, legacy_id: str, node: dict, fulfillment_orders: list[dict]):
        self.orders[legacy_id] = node
        self.fulfillment_orders[legacy_id] = fulfillment_orders

    def fault_body(self, status):
        return {"errors": "Internal Server Error" if status >= 500 else "Too Many Requests"}

    def cost(self, requested=10, available=1990.0):
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": requested,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": available,
                    "restoreRate": 100.0,
                },
            }
        }

    def answer(self, method, parts, headers, body):
        match = QTY_PATH.match(parts.path)
        if method != "POST" or not match:
            return 404, {"errors": "Not Found"}, {}
        if headers.get("X-Shopify-Access-Token") != self.TOKEN:
            return (
                401,
                {
                    "errors": "[API] Invalid API key or access token (unrecognized "
                    "login or wrong password)"
                },
                {},
            )
        version = match["version"]
        query = (body or {}).get("query") or ""
        variables = (body or {}).get("variables") or {}
        with self.lock:
            if self._throttles:
                self._throttles -= 1
                return (
                    200,
                    {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": {
                            "cost": {
                                "requestedQueryCost": 250,
                                "actualQueryCost": None,
                                "throttleStatus": {
                                    "maximumAvailable": 2000.0,
                                    "currentlyAvailable": 249.0,
                                    "restoreRate": 100.0,
                                },
                            }
                        },
                    },
                    {},
                )
        for field, handler in (
            *self.edit_handlers(),
            ("inventorySetQuantities", self._set_quantities),
            ("productVariants", self._variants),
            ("locations", self._locations),
            ("fulfillmentCreate", self._fulfillment_create),
            ("orderCancel", self._order_cancel),
            ("refundCreate", self._refund_create),
            ("transactions", self._transactions),
            ("fulfillmentOrders", self._fulfillment_orders_query),
            ("orders(", self._orders),
        ):
            if field in query:
                data = handler(query, variables, version)
                if isinstance(data, tuple):
                    return data
                return 200, {"data": data, "extensions": self.cost()}, {}
        return (
            200,
            {
                "errors": [
                    {
                        "message": "Field doesn't exist on type 'QueryRoot'",
                        "extensions": {"code": "undefinedField"},
                    }
                ]
            },
            {},
        )

    def _set_quantities(self, query, variables, version):
        data = variables.get("input") or {}
        quantities = data.get("quantities") or []
        if version >= "2026-04":
            if "@idempotent" not in query:
                return (
                    200,
                    {
                        "errors": [
                            {
                                "message": "The @idempotent directive is required "
                                "for this mutation.",
                                "extensions": {"code": "BAD_REQUEST"},
                            }
                        ]
                    },
                    {},
                )
            if any("changeFromQuantity" not in q for q in quantities):
                return (
                    200,
                    {
                        "errors": [
                            {
                                "message": "changeFromQuantity must be provided (it may be null)",
                                "extensions": {"code": "argumentLiteralsIncompatible"},
                            }
                        ]
                    },
                    {},
                )
        if len(quantities) > 250:
            return (
                200,
                {
                    "errors": [
                        {
                            "message": "The input array size of 251 is greater than "
                            "the maximum allowed of 250.",
                            "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"},
                        }
                    ]
                },
                {},
            )
        errors = []
        for i, q in enumerate(quantities):
            if (q.get("inventoryItemId"), q.get("locationId")) not in self.levels:
                errors.append(
                    {
                        "code": "INVALID_INVENTORY_ITEM",
                        "field": ["input", "quantities", str(i), "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                    }
                )
            elif not isinstance(q.get("quantity"), int) or q["quantity"] < 0:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_NEGATIVE",
                        "field": ["input", "quantities", str(i), "quantity"],
                        "message": "The quantity can't be negative.",
                    }
                )
        with self.lock:
            self.set_calls += 1
            if not errors:
                for q in quantities:
                    self.levels[(q["inventoryItemId"], q["locationId"])] = q["quantity"]
        group = (
            None if errors else {"id": f"gid://shopify/InventoryAdjustmentGroup/{self.set_calls}"}
        )
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": errors}}

    def _variants(self, query, variables, version):
        start = int(variables.get("after") or 0)
        page = self.variants[start : start + 250]
        end = start + len(page)
        return {
            "productVariants": {
                "pageInfo": {"hasNextPage": end < len(self.variants), "endCursor": str(end)},
                "nodes": [
                    {
                        "id": v["id"],
                        "sku": v["sku"],
                        "product": {"id": v["product"]},
                        "inventoryItem": {"id": v["item"]},
                    }
                    for v in page
                ],
            }
        }

    def _locations(self, query, variables, version):
        return {"locations": {"nodes": [{"id": self.LOCATION, "name": "Main", "isActive": True}]}}

    def _legacy(self, gid):
        return (gid or "").rsplit("/", 1)[-1]

    def _fulfillment_orders_query(self, query, variables, version):
        legacy = self._legacy(variables.get("id"))
        node = self.orders.get(legacy)
        if node is None:
            return {"order": None}
        return {
            "order": {
                "id": variables["id"],
                "cancelledAt": node.get("cancelledAt"),
                "fulfillmentOrders": {"nodes": self.fulfillment_orders.get(legacy, [])},
            }
        }

    def _fulfillment_create(self, query, variables, version):
        fulfillment = variables.get("fulfillment") or {}
        errors = []
        for group in fulfillment.get("lineItemsByFulfillmentOrder") or []:
            fo = self._find_fo(group.get("fulfillmentOrderId"))
            if fo is None:
                errors.append(
                    {"field": ["fulfillment"], "message": "Fulfillment order does not exist."}
                )
                continue
            for item in group.get("fulfillmentOrderLineItems") or []:
                line = next((li for li in fo["lineItems"]["nodes"] if li["id"] == item["id"]), None)
                if line is None or item["quantity"] > line["remainingQuantity"]:
                    errors.append(
                        {
                            "field": ["fulfillment"],
                            "message": "Invalid fulfillment order line item quantity requested.",
                        }
                    )
        if errors:
            return {"fulfillmentCreate": {"fulfillment": None, "userErrors": errors}}
        for group in fulfillment["lineItemsByFulfillmentOrder"]:
            fo = self._find_fo(group["fulfillmentOrderId"])
            for item in group["fulfillmentOrderLineItems"]:
                line = next(li for li in fo["lineItems"]["nodes"] if li["id"] == item["id"])
                line["remainingQuantity"] -= item["quantity"]
            if all(li["remainingQuantity"] == 0 for li in fo["lineItems"]["nodes"]):
                fo["status"] = "CLOSED"
            else:
                fo["status"] = "IN_PROGRESS"
        with self.lock:
            self.fulfillments.append(fulfillment)
            number = len(self.fulfillments)
        return {
            "fulfillmentCreate": {
                "fulfillment": {"id": f"gid://shopify/Fulfillment/{number}", "status": "SUCCESS"},
                "userErrors": [],
            }
        }

    def _find_fo(self, gid):
        for fos in self.fulfillment_orders.values():
            for fo in fos:
                if fo["id"] == gid:
                    return fo
        return None

    def _order_cancel(self, query, variables, version):
        legacy = self._legacy(variables.get("orderId"))
        node = self.orders.get(legacy)
        if node is None:
            return {
                "orderCancel": {
                    "job": None,
                    "orderCancelUserErrors": [
                        {"code": "NOT_FOUND", "field": ["orderId"], "message": "Order not found"}
                    ],
                }
            }
        if node.get("cancelledAt"):
            return {
                "orderCancel": {
                    "job": None,
                    "orderCancelUserErrors": [
                        {
                            "code": "INVALID",
                            "field": ["orderId"],
                            "message": "Order has already been cancelled",
                        }
                    ],
                }
            }
        node["cancelledAt"] = "2026-12-03T08:00:00Z"
        self.cancels.append(variables)
        return {
            "orderCancel": {
                "job": {"id": "gid://shopify/Job/1", "done": False},
                "orderCancelUserErrors": [],
            }
        }

    def _transactions(self, query, variables, version):
        legacy = self._legacy(variables.get("id"))
        node = self.orders.get(legacy)
        if node is None:
            return {"order": None}
        return {
            "order": {
                "id": variables["id"],
                "transactions": [
                    {
                        "id": f"gid://shopify/OrderTransaction/{legacy}1",
                        "kind": "SALE",
                        "status": "SUCCESS",
                        "gateway": "shopify_payments",
                    }
                ],
            }
        }

    def _refund_create(self, query, variables, version):
        if version >= "2026-04" and "@idempotent" not in query:
            return (
                200,
                {
                    "errors": [
                        {
                            "message": "The @idempotent directive is required for this mutation.",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                },
                {},
            )
        self.refunds.append(variables.get("input"))
        return {
            "refundCreate": {
                "refund": {"id": f"gid://shopify/Refund/{len(self.refunds)}"},
                "userErrors": [],
            }
        }

    def _orders(self, query, variables, version):
        search = variables.get("query") or ""
        match = re.search(r"updated_at:>='([^']+)'", search)
        since = match.group(1) if match else ""
        nodes = sorted(
            (n for n in self.orders.values() if n["updatedAt"] >= since),
            key=lambda n: n["updatedAt"],
        )
        start = int(variables.get("after") or 0)
        page = nodes[start : start + 50]
        end = start + len(page)
        return {
            "orders": {
                "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": str(end)},
                "nodes": page,
            }
        }


# --------------------------------------------------------------------------- WooCommerce


class FakeWoo(WooOrderEditing, FakeStore):
    KEY = "ck_0123456789abcdef0123456789abcdef01234567"
    SECRET = "cs_0123456789abcdef0123456789abcdef01234567"

    def __init__(self):
        super().__init__()
        self.products: dict[int, dict] = {}
        self.variations: dict[int, dict[int, dict]] = {}
        self.orders: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}
        self.refunds: dict[int, list[dict]] = {}
        self.batch_calls = 0
        self.init_order_editing()  # GET/PUT /orders/<id> with line items: fake_order_edits

    def add_product(self, pid: int, sku: str, type_: str = "simple"):
        self.products[pid] = {
            "id": pid,
            "sku": sku,
            "type": type_,
            "manage_stock": False,
            "stock_quantity": None,
        }

    def add_variation(self, parent: int, vid: int, sku: str):
        self.variations.setdefault(parent, {})[vid] = {
            "id": vid,
            "sku": sku,
            "manage_stock": False,
            "stock_quantity": None,
        }

    def stock(self, sku: str):
        for p in self.products.values():
            if p["sku"] == sku:
                return p["stock_quantity"]
        for vs in self.variations.values():
            for v in vs.values():
                if v["sku"] == sku:
                    return v["stock_quantity"]
        return None

    def error(self, status, code, message):
        return status, {"code": code, "message": message, "data": {"status": status}}, {}

    def fault_body(self, status):
        return {
            "code": "internal_server_error" if status >= 500 else "too_many_requests",
            "message": "The server could not answer",
            "data": {"status": status},
        }

    def _paged(self, items, params):
        per_page = int(params.get("per_page", ["10"])[0])
        page = int(params.get("page", ["1"])[0])
        if per_page > 100:
            return self.error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, chunk, {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}

    def answer(self, method, parts, headers, body):
        auth = headers.get("Authorization") or ""
        expected = "Basic " + base64.b64encode(f"{self.KEY}:{self.SECRET}".encode()).decode()
        if auth != expected:
            return self.error(
                401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
            )
        path = parts.path
        if not path.startswith("/wp-json/wc/v3/"):
            return self.error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        path = path[len("/wp-json/wc/v3") :]
        params = parse_qs(parts.query)
        if method == "GET" and path == "/products":
            return self._paged([self.products[k] for k in sorted(self.products)], params)
        m = re.match(r"^/products/(\d+)/variations$", path)
        if method == "GET" and m:
            vs = self.variations.get(int(m[1]), {})
            return self._paged([vs[k] for k in sorted(vs)], params)
        if method == "POST" and path == "/products/batch":
            return self._batch(self.products, body, "woocommerce_rest_product_invalid_id")
        m = re.match(r"^/products/(\d+)/variations/batch$", path)
        if method == "POST" and m:
            return self._batch(
                self.variations.get(int(m[1]), {}),
                body,
                "woocommerce_rest_product_variation_invalid_id",
            )
        if method == "GET" and path == "/orders":
            after = params.get("modified_after", [""])[0]
            items = sorted(
                (o for o in self.orders.values() if o["date_modified_gmt"] > after),
                key=lambda o: o["id"],
            )
            return self._paged(items, params)
        answered = self.order_answer(method, path, body)
        if answered is not None:
            return answered
        m = re.match(r"^/orders/(\d+)/notes$", path)
        if method == "POST" and m:
            if int(m[1]) not in self.orders:
                return self.error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            note = {"id": 800 + sum(map(len, self.notes.values())), **(body or {})}
            self.notes.setdefault(int(m[1]), []).append(note)
            return 201, note, {}
        m = re.match(r"^/orders/(\d+)/refunds$", path)
        if method == "POST" and m:
            if int(m[1]) not in self.orders:
                return self.error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            refund = {"id": 700 + sum(map(len, self.refunds.values())), **(body or {})}
            self.refunds.setdefault(int(m[1]), []).append(refund)
            return 201, refund, {}
        return self.error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _batch(self, items, body, invalid_code):
        updates = (body or {}).get("update") or []
        if len(updates) > 100:
            return self.error(
                413,
                "rest_request_entity_too_large",
                "Unable to accept more than 100 items for this request.",
            )
        out = []
        with self.lock:
            self.batch_calls += 1
            for update in updates:
                item = items.get(update.get("id"))
                if item is None:
                    out.append(
                        {
                            "id": update.get("id"),
                            "error": {
                                "code": invalid_code,
                                "message": "Invalid ID.",
                                "data": {"status": 400},
                            },
                        }
                    )
                    continue
                for key in ("manage_stock", "stock_quantity"):
                    if key in update:
                        item[key] = update[key]
                out.append(dict(item))
        return 200, {"update": out}, {}
