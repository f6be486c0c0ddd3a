"""DEVELOPMENT FAKE of EasyParcel's open API (version 2025-09). Not a courier.

It answers on 127.0.0.1 the way EasyParcel's published documents say the real API
answers, so that the tests and the demo (``make run`` starts it beside the app with
``manage.py run_fake_easyparcel``) exercise the adapter's real wire format without an
account. The tests and the demo use this same code, so the two cannot drift apart.
The documents it follows are the ones ``fulfillment.carriers.easyparcel`` quotes.

Endpoints (base ``http://127.0.0.1:<port>``):

``POST /oauth/token``           Basic client_id:client_secret; form body; grants
                                ``authorization_code`` (any code) and ``refresh_token``
                                (single use: a refresh token works once)
``POST /open_api/2025-09/shipment/quotations``      per-item status; items with
                                a missing or unknown receiver postcode are errors
``POST /open_api/2025-09/shipment/submit_orders``   ES-/EI- numbers, AWB at once
                                except for the "drop-off" service (AWB via details)
``POST /open_api/2025-09/shipment/details``
``POST /open_api/2025-09/shipment/tracking_status``
``POST /open_api/2025-09/shipment/cancel``          refused once collected
``GET  /label/<shipment_number>.pdf``               the AWB, a PDF naming its number

Test controls: ``fail(path, status, body=None, delay=0, times=1)`` answers the next
``times`` requests to ``path`` with that status (or only waits ``delay`` seconds and
then answers normally when ``status`` is 0), ``expire_tokens()`` makes every access
token invalid (the next call gets the documented 401), ``scan(awb, code)`` adds a
tracking event, ``webhook_payload(awb)`` is the documented tracking webhook body.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/open_api/2025-09"
STATUS_TEXT = {
    1: "Order Created",
    2: "Payment Confirmed",
    3: "Ready for Collection",
    4: "Item Collected",
    5: "In Transit to Hub",
    6: "Processing at Hub",
    7: "Schedule In Arrangement",
    8: "Out for Delivery",
    9: "Delivered",
    10: "Delivery Failed",
    11: "Return to Sender",
}
# service_id, service name, courier id, courier name, base price, per kg, duration
SERVICES = [
    (
        "EP-CS0NV",
        "Ninja Van Standard (Pick Up)",
        "EP-CR0NV",
        "Ninja Van",
        "6.50",
        "2.00",
        "3 working day(s)",
    ),
    ("EP-CS0JT", "J&T Express (Drop-Off)", "EP-CR0JT", "J&T Express", "5.90", "1.60", None),
    (
        "EP-CS0DH",
        "DHL eCommerce Next Day (Pick Up)",
        "EP-CR0DH",
        "DHL eCommerce",
        "12.00",
        "3.50",
        "1 working day(s)",
    ),
]
DROP_OFF_SERVICE = "EP-CS0JT"  # its AWB comes later (shipment details), as Aramex's does
UNKNOWN_POSTCODES = {"00000", "99999"}
MAX_WEIGHT_KG = 20
COLLECTED = {4, 5, 6, 8, 9, 10, 11}  # status codes once the courier has the parcel


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class FakeShipment:
    shipment_number: str
    order_number: str
    service_id: str
    awb_number: str
    weight: float
    receiver_postcode: str
    awb_assigned: bool = True
    cancelled: bool = False
    log: list[dict] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeEasyParcel:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",
        refresh_tokens: tuple[str, ...] = (),
        currency: str = "MYR",
        expires_in: int = 36000,
        accept_any_refresh_token: bool = False,
        progress_every: float = 0,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.currency = currency
        self.expires_in = expires_in
        # The demo: a restarted fake has forgotten the tokens it issued, so it takes any
        # refresh token; and its parcels move on by themselves (one scan per
        # ``progress_every`` seconds: collected, at the hub, out for delivery, delivered).
        self.accept_any_refresh_token = accept_any_refresh_token
        self.progress_every = progress_every
        self.lock = threading.Lock()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set(refresh_tokens)
        self.shipments: dict[str, FakeShipment] = {}
        self.faults: dict[str, list[tuple[int, object, float]]] = {}
        self.requests: list[dict] = []
        self._serial = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self)

            def do_POST(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeEasyParcel:
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ controls

    def fail(self, path: str, status: int, body=None, *, delay: float = 0, times: int = 1):
        with self.lock:
            self.faults.setdefault(path, []).extend([(status, body, delay)] * times)

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)

    def scan(self, awb_number: str, code: int, *, location: str | None = None, at=None):
        """The courier scans the parcel: a status-log event (``STATUS_TEXT`` codes)."""
        shipment = self._by_awb(awb_number)
        when = (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S")
        with self.lock:
            shipment.log.append(
                {
                    "event_date": when,
                    "shipment_status_code": code,
                    "tracking_status": STATUS_TEXT[code],
                    "location": location,
                }
            )

    def webhook_payload(self, awb_number: str) -> dict:
        """The "Tracking Status Update" webhook body (topic shipment.tracking.update)."""
        shipment = self._by_awb(awb_number)
        last = shipment.log[-1]
        return {
            "topic": "shipment.tracking.update",
            "shipment_number": shipment.shipment_number,
            "uuid": secrets.token_hex(8),
            "timestamp": last["event_date"],
            "awb_number": shipment.awb_number,
            "latest_shipment_status_code": last["shipment_status_code"],
            "latest_tracking_status": last["tracking_status"],
            "status_log": [
                {
                    "timestamp": e["event_date"],
                    "shipment_status_code": e["shipment_status_code"],
                    "tracking_status": e["tracking_status"],
                }
                for e in reversed(shipment.log)
            ],
        }

    def _by_awb(self, awb_number: str) -> FakeShipment:
        for shipment in self.shipments.values():
            if shipment.awb_number == awb_number:
                return shipment
        raise KeyError(awb_number)

    # ------------------------------------------------------------------ HTTP

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(request.path).path
        self.requests.append(
            {"method": request.command, "path": path, "headers": dict(request.headers), "body": raw}
        )
        with self.lock:
            queue = self.faults.get(path)
            fault = queue.pop(0) if queue else None
        if fault:
            status, body, delay = fault
            if delay:
                threading.Event().wait(delay)
            if status:
                if body is None:
                    body = {
                        "status_code": status,
                        "message": _REASONS.get(status, ""),
                        "data": None,
                    }
                return self._send(request, status, body)
        try:
            status, body = self._route(request, path, raw)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            status, body = (
                400,
                {
                    "status_code": 400,
                    "message": "Validation error",
                    "data": {"errors": [f"Malformed request: {exc}"]},
                },
            )
        self._send(request, status, body)

    def _send(self, request, status: int, body) -> None:
        if isinstance(body, bytes):
            data, ctype = body, "application/pdf"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        try:
            request.send_response(status)
            request.send_header("Content-Type", ctype)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, request, path: str, raw: bytes):
        if path == "/oauth/token" and request.command == "POST":
            return self._token(request, raw)
        if path.startswith("/label/") and request.command == "GET":
            number = path.removeprefix("/label/").removesuffix(".pdf")
            shipment = self.shipments.get(number)
            if shipment is None or not shipment.awb_assigned:
                return 404, {"status_code": 404, "message": "Label not found", "data": []}
            return 200, _label_pdf(shipment)
        if not path.startswith(API + "/"):
            return 404, {"status_code": 404, "message": "Endpoint not found", "data": None}
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return 401, _auth_error("missing_token")
        with self.lock:
            known = auth.removeprefix("Bearer ") in self.access_tokens
        if not known:
            return 401, _auth_error("invalid_token")
        body = json.loads(raw.decode() or "{}")
        handler = {
            f"{API}/shipment/quotations": self._quotations,
            f"{API}/shipment/submit_orders": self._submit,
            f"{API}/shipment/details": self._details,
            f"{API}/shipment/tracking_status": self._tracking,
            f"{API}/shipment/cancel": self._cancel,
        }.get(path)
        if handler is None or request.command != "POST":
            return 404, {"status_code": 404, "message": "Endpoint not found", "data": None}
        return handler(body)

    # ------------------------------------------------------------------ OAuth

    def _token(self, request, raw: bytes):
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "status_code": 401}
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        grant = form.get("grant_type")
        with self.lock:
            if grant == "refresh_token" or (
                grant == "authorization_code" and "refresh_token" in form
            ):
                known = form.get("refresh_token") in self.refresh_tokens
                if not known and not (self.accept_any_refresh_token and form.get("refresh_token")):
                    return 400, {"error": "invalid_grant", "status_code": 400}
                self.refresh_tokens.discard(form["refresh_token"])  # single use
            elif grant == "authorization_code":
                if not form.get("code") or not form.get("redirect_uri"):
                    return 400, {"error": "invalid_request", "status_code": 400}
            else:
                return 400, {"error": "unsupported_grant_type", "status_code": 400}
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        now = datetime.now(UTC)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "expires_at": _iso(now + timedelta(seconds=self.expires_in)),
            "access_token": access,
            "refresh_token": refresh,
            "refresh_token_expires_in": 31557600,
            "refresh_token_expires_at": _iso(now + timedelta(seconds=31557600)),
            "app": {"client_id": self.client_id, "callbackUrls": [], "redirectUris": []},
        }

    # ------------------------------------------------------------------ shipping

    def _quotations(self, body: dict):
        results = []
        for item in body["list"]:
            errors = _quote_errors(item)
            if errors:
                results.append({"status": "error", "input": item, "errors": errors})
                continue
            weight = Decimal(str(item["weight"]))
            quotations = []
            for service_id, name, courier_id, courier, base, per_kg, duration in SERVICES:
                price = (Decimal(base) + Decimal(per_kg) * weight).quantize(Decimal("0.01"))
                quotations.append(
                    {
                        "courier": {
                            "service_id": service_id,
                            "service_name": name,
                            "courier_id": courier_id,
                            "courier_name": courier,
                            "courier_logo": "",
                            "delivery_duration": duration,
                            "service_tag": [
                                {"name": "Service Destinations", "value": "Domestic"},
                                {
                                    "name": "Service Methods",
                                    "value": "Drop-Off" if "Drop" in name else "Pick Up",
                                },
                            ],
                        },
                        "pricing": {
                            "currency": self.currency,
                            "total_amount": str(price),
                            "shipment_price": str(price),
                            "total_features_price": "0.00",
                        },
                        "features": [],
                    }
                )
            results.append({"status": "success", "input": item, "quotations": quotations})
        return 200, _batch(results)

    def _submit(self, body: dict):
        order_number = f"EI-{datetime.now(UTC):%y%m}-{next(self._serial):05d}"
        shipments = []
        total = Decimal("0")
        for item in body["shipment"]:
            errors = _submit_errors(item)
            if errors:
                shipments.append({"status": "error", **_echo(item), "errors": errors})
                continue
            serial = next(self._serial)
            number = f"ES-{datetime.now(UTC):%y%m}-{serial:05d}"
            awb = f"{7100000000000000 + serial}"
            fake = FakeShipment(
                shipment_number=number,
                order_number=order_number,
                service_id=item["service_id"],
                awb_number=awb,
                weight=float(item["weight"]),
                receiver_postcode=item["receiver"]["postcode"],
                awb_assigned=item["service_id"] != DROP_OFF_SERVICE,
            )
            fake.log.append(
                {
                    "event_date": _now(),
                    "shipment_status_code": 7,
                    "tracking_status": STATUS_TEXT[7],
                    "location": None,
                }
            )
            with self.lock:
                self.shipments[number] = fake
            price = _price(item["service_id"], Decimal(str(item["weight"])))
            total += price
            shipments.append(
                {
                    "status": "success",
                    "shipment_number": number,
                    "courier_service": None,
                    "courier": _service(item["service_id"])[3],
                    "courier_logo": "",
                    "awb_number": awb if fake.awb_assigned else None,
                    "awb_url": self._label_url(number) if fake.awb_assigned else None,
                    "tracking_url": None,
                    **_echo(item),
                    "pricing_breakdown": {
                        "currency_code": self.currency,
                        "total_paid_amount": str(price),
                        "shipment_price": str(price),
                        "shipment_tax_amount": "0.00",
                        "total_features_price": "0.00",
                        "total_features_tax_amount": "0.00",
                        "coupon_redeemed": "0.00",
                    },
                }
            )
        ok = sum(1 for s in shipments if s["status"] == "success")
        order = {
            "order_details": {"order_number": order_number, "account_id": 8583757},
            "pricing_breakdown": {
                "currency_code": self.currency,
                "total_order_amount": str(total),
                "total_paid_amount": str(total),
                "total_tax_amount": "0.00",
                "coupon_redeemed": "0.00",
            },
            "shipments": shipments,
        }
        return 200, {
            "status_code": 200,
            "message": f"{ok} requests success, {len(shipments) - ok} request error.",
            "data": [order],
        }

    def _details(self, body: dict):
        number = body["shipment_number"]
        shipment = self.shipments.get(number)
        if shipment is None:
            return 404, {
                "status_code": 404,
                "message": f"No Order with shipment_number {number} found from this account",
                "data": [],
            }
        shipment.awb_assigned = True  # the courier has assigned it by now
        last = shipment.log[-1]
        return 200, {
            "status_code": 200,
            "message": "success",
            "data": [
                {
                    "shipment_number": number,
                    "order_number": shipment.order_number,
                    "shipment_details": {
                        "weight": shipment.weight,
                        "shipment_status_code": 0
                        if shipment.cancelled
                        else last["shipment_status_code"],
                        "shipment_status": "Cancelled"
                        if shipment.cancelled
                        else last["tracking_status"],
                        "awb_number": int(shipment.awb_number),  # a number, as documented
                        "awb_url": self._label_url(number),
                        "tracking_url": None,
                    },
                    "courier": {"service_id": shipment.service_id},
                }
            ],
        }

    def _tracking(self, body: dict):
        results = []
        for awb in body["awb_numbers"]:
            try:
                shipment = self._by_awb(str(awb))
            except KeyError:
                results.append(
                    {"awb_number": awb, "status": "not_found", "message": "AWB number not found"}
                )
                continue
            self._progress(shipment)
            last = shipment.log[-1]
            results.append(
                {
                    "status": "success",
                    "awb_number": shipment.awb_number,
                    "shipment_number": shipment.shipment_number,
                    "order_number": shipment.order_number,
                    "latest_shipment_status_code": last["shipment_status_code"],
                    "latest_tracking_status": last["tracking_status"],
                    "latest_event_date": last["event_date"],
                    "status_log": list(shipment.log),
                }
            )
        ok = sum(1 for r in results if r["status"] == "success")
        return 200, {
            "status_code": 200,
            "request_id": secrets.token_hex(8),
            "message": f"{ok} requests success, {len(results) - ok} request error.",
            "data": {"results": results},
        }

    def _progress(self, shipment: FakeShipment) -> None:
        if not self.progress_every or shipment.cancelled:
            return
        steps = (4, 5, 8, 9)
        due = int((datetime.now(UTC) - shipment.created).total_seconds() // self.progress_every)
        done = sum(1 for e in shipment.log if e["shipment_status_code"] in steps)
        for i, code in enumerate(steps[done : min(due, len(steps))], start=done + 1):
            at = shipment.created + timedelta(seconds=i * self.progress_every)
            with self.lock:
                shipment.log.append(
                    {
                        "event_date": at.strftime("%Y-%m-%d %H:%M:%S"),
                        "shipment_status_code": code,
                        "tracking_status": STATUS_TEXT[code],
                        "location": None,
                    }
                )

    def _cancel(self, body: dict):
        results = []
        for item in body["cancel_list"]:
            number = item.get("shipment_number", "")
            shipment = self.shipments.get(number)
            if shipment is None:
                status, message = "error", "Shipment Not Found"
            elif not item.get("remark"):
                status, message = "error", "The remark field is required"
            elif shipment.cancelled:
                status, message = "error", "Shipment Already Cancelled"
            elif any(e["shipment_status_code"] in COLLECTED for e in shipment.log):
                status, message = "error", "Shipment Cannot Be Cancelled"
            else:
                shipment.cancelled = True
                status, message = "success", "Order Cancelled"
            results.append({"status": status, "message": message, "shipment_number": number})
        return 200, _batch(results)

    def _label_url(self, number: str) -> str:
        return f"{self.url}/label/{number}.pdf"


# --------------------------------------------------------------------------- helpers

_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _auth_error(name: str) -> dict:
    return {
        "error": {"statusCode": 401, "status": 401, "code": 401, "name": name},
        "status_code": 401,
    }


def _batch(results: list[dict]) -> dict:
    ok = sum(1 for r in results if r["status"] == "success")
    return {
        "status_code": 200,
        "message": f"{ok} requests success, {len(results) - ok} request error.",
        "data": results,
    }


def _quote_errors(item: dict) -> list[str]:
    errors = []
    for side in ("sender", "receiver"):
        part = item.get(side) or {}
        for key in ("postcode", "country"):
            if not part.get(key):
                errors.append(f"The {side} {key} field is required")
    if not errors and item["receiver"]["postcode"] in UNKNOWN_POSTCODES:
        errors.append("The receiver postcode is invalid")
    weight = item.get("weight")
    if not isinstance(weight, int | float) or weight <= 0:
        errors.append("The weight field is required")
    elif weight > MAX_WEIGHT_KG:
        errors.append("Weight exceeds service limits")
    return errors


def _submit_errors(item: dict) -> list[str]:
    errors = []
    if not item.get("service_id"):
        errors.append("The service id field is required")
    elif not any(s[0] == item["service_id"] for s in SERVICES):
        errors.append("Service not available for origin/destination")
    if not item.get("collection_date"):
        errors.append("The collection date field is required")
    for key in ("weight", "height", "length", "width"):
        if not isinstance(item.get(key), int | float) or item[key] <= 0:
            errors.append(f"The {key} field is required")
    if not item.get("item"):
        errors.append("The item field is required")
    for side in ("sender", "receiver"):
        part = item.get(side) or {}
        for key in (
            "name",
            "phone_number_country_code",
            "phone_number",
            "address_1",
            "postcode",
            "city",
            "country_code",
        ):
            if not part.get(key):
                errors.append(f"The {side} {key.replace('_', ' ')} field is required")
    if not errors and item["receiver"]["postcode"] in UNKNOWN_POSTCODES:
        errors.append("The receiver postcode is invalid")
    return errors


def _echo(item: dict) -> dict:
    return {k: item.get(k, "") for k in ("weight", "height", "length", "width")}


def _service(service_id: str) -> tuple:
    return next(s for s in SERVICES if s[0] == service_id)


def _price(service_id: str, weight: Decimal) -> Decimal:
    row = _service(service_id)
    return (Decimal(row[4]) + Decimal(row[5]) * weight).quantize(Decimal("0.01"))


def _label_pdf(shipment: FakeShipment) -> bytes:
    """A one-page PDF whose text is the AWB number (what a courier label carries)."""
    stream = (
        f"BT /F1 14 Tf 20 380 Td (EasyParcel) Tj 0 -24 Td (AWB {shipment.awb_number}) Tj "
        f"0 -24 Td ({shipment.shipment_number}) Tj ET"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
