"""EasyParcel, through its open API version 2025-09 (one ``Carrier`` of kind
``easyparcel``: ``base_url`` (default ``https://api.easyparcel.com``), the app's
``client_id`` and ``client_secret``, and its tokens in ``CarrierToken``).

Written against EasyParcel's published documents (github.com/easyparcel/OpenAPI):

- ``source/includes/2025-09/_authentication.md``: OAuth 2.0; ``POST {base}/oauth/token``
  with ``Authorization: Basic base64(client_id:client_secret)``; an authorization code
  (``grant_type=authorization_code``, ``code``, ``redirect_uri``) or a refresh token
  gives ``access_token`` (``expires_in`` seconds / ``expires_at``) and a new
  ``refresh_token``. We send the refresh as RFC 6749 section 6 has it
  (``grant_type=refresh_token``, ``refresh_token``), form encoded.
- ``source/includes/2025-09/_quotation.md``: ``POST {base}/open_api/2025-09/shipment/
  quotations``, ``{"list": [{sender, receiver, weight (kg), length/width/height (cm)}]}``,
  ``Authorization: Bearer <access token>``. The answer is per item: ``data[i].status``
  is ``success`` (``quotations[].courier`` and ``.pricing``: decimal strings and a
  currency) or ``error`` (``errors``), even under HTTP 200.
- ``source/includes/2025-09/_submitorder.md``: ``.../shipment/submit_orders``,
  ``{"shipment": [...]}`` -> ``data[0].shipments[i]`` with ``status``,
  ``shipment_number`` (ES-YYMM-XXXXX), ``awb_number`` and ``awb_url`` (null when the
  courier assigns them later). (The page prints the URL without the version segment;
  every other 2025-09 endpoint, and the Postman setup in ``_postman.md``, has it.)
- ``source/includes/2025-09/_shipmentdetail.md``: ``.../shipment/details``
  ``{"shipment_number"}`` -> ``data[0].shipment_details.awb_number`` / ``awb_url``.
- ``source/includes/2025-09/_tracking_status.md``: ``.../shipment/tracking_status``
  ``{"awb_numbers": [...]}`` -> ``data.results[i]`` (``success`` with ``status_log``
  of ``event_date`` "YYYY-MM-DD HH:MM:SS" UTC and ``shipment_status_code``, or
  ``not_found``). Codes: 1-3 and 7 before collection, 4-6 on the way, 8 out for
  delivery, 9 delivered, 10 failed, 11 returned.
- ``source/includes/2025-09/_cancelshipment.md``: ``.../shipment/cancel``
  ``{"cancel_list": [{"shipment_number", "remark"}]}`` -> per item status.
- ``source/includes/2025-09/_webhooks.md``: topics ``shipment.tracking.update``,
  ``shipment.status.update``, ``shipment.awb.update``, naming ``shipment_number`` and
  ``awb_number``. The documents publish no signature for webhooks, so we never take a
  webhook's word: it only names the shipment, whose tracking we then read back from
  ``tracking_status`` (and the URL carries the carrier's ``webhook_secret``).
- ``source/includes/2025-09/_references.md``: errors (401 ``{"error": {"name":
  "invalid_token"}, "status_code": 401}``, 400 ``{"status_code", "message", "data":
  {"errors"}}``), and 429 / 500 to be retried with backoff.

A 401 refreshes the token once and repeats the call; timeouts, 429 and 5xx are retried
a bounded number of times with exponential backoff (``HttpCarrier._send``). Collection
is booked with each order (``collection_date``): the 2025-09 API has no separate pickup
request, so ``supports_pickup`` is off.
"""

from __future__ import annotations

import base64
import logging
import re
import urllib.parse
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.carriers.base import (
    Booking,
    CarrierBadResponse,
    CarrierCannot,
    CarrierError,
    CarrierRefused,
    Parcel,
    ParcelBooking,
    Rate,
    TrackingEvent,
)
from fulfillment.carriers.http import HttpCarrier

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.easyparcel.com"
API = "open_api/2025-09"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the token expires
# EasyParcel may give no delivery duration (null): assume a slow service rather than
# let rate shopping take an unknown one for the fastest.
UNKNOWN_TRANSIT_DAYS = 7
TRACKING_CODES = {
    4: "in_transit",
    5: "in_transit",
    6: "in_transit",
    8: "out_for_delivery",
    9: "delivered",
    10: "exception",
    11: "exception",
}
CALLING_CODES = {
    "MY": "60",
    "SG": "65",
    "TH": "66",
    "ID": "62",
    "PH": "63",
    "VN": "84",
    "BN": "673",
    "BR": "55",
}
WEBHOOK_TOPICS = ("shipment.tracking.update", "shipment.status.update", "shipment.awb.update")


class EasyParcelCarrier(HttpCarrier):
    supports_tracking = True
    supports_void = True
    supports_pickup = False
    pickup_note = "EasyParcel books the collection with each order (its collection date)"

    def __init__(self, carrier, **kw):
        super().__init__(carrier, **kw)
        self._bearer = ""

    # ------------------------------------------------------------------ quote

    def quote(self, shipment) -> list[Rate]:
        parcels = Parcel.all_of(shipment)
        body = self._api("shipment/quotations", {"list": [_quote_item(p) for p in parcels]})
        items = body.get("data")
        if not isinstance(items, list) or len(items) != len(parcels):
            raise self._bad("quotations: data does not answer every parcel")
        per_box: list[dict[str, Rate]] = []
        errors = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise self._bad(f"quotations: data[{i - 1}] is not an object")
            if item.get("status") != "success":
                why = "; ".join(str(e) for e in item.get("errors") or []) or "no reason given"
                errors.append(f"box {i}: {why}" if len(parcels) > 1 else why)
                continue
            per_box.append(self._rates(item, i - 1))
        if errors:
            raise CarrierRefused(
                f"EasyParcel could not quote {shipment.number}: " + "; ".join(errors),
                carrier=self.carrier.code,
                item_errors=errors,
            )
        common = set.intersection(*(set(rates) for rates in per_box))
        rates = []
        for service_id in sorted(common):
            boxes = [rates_[service_id] for rates_ in per_box]
            currencies = {r.currency for r in boxes}
            if len(currencies) > 1:
                raise self._bad(f"quotations: {service_id} priced in {sorted(currencies)}")
            first = boxes[0]
            rates.append(
                Rate(
                    carrier=self.carrier.code,
                    service=service_id,
                    service_name=first.service_name,
                    price=sum((r.price for r in boxes), Decimal("0")),
                    currency=first.currency,
                    transit_days=max(r.transit_days for r in boxes),
                    carrier_name=first.carrier_name,
                )
            )
        return rates

    def _rates(self, item: dict, index: int) -> dict[str, Rate]:
        rows = item.get("quotations")
        if not isinstance(rows, list):
            raise self._bad(f"quotations: data[{index}].quotations is not a list")
        rates = {}
        for j, row in enumerate(rows):
            where = f"data[{index}].quotations[{j}]"
            courier, pricing = (row or {}).get("courier"), (row or {}).get("pricing")
            if not isinstance(courier, dict) or not isinstance(pricing, dict):
                raise self._bad(f"{where} has no courier or pricing")
            service_id = str(courier.get("service_id") or "").strip()
            if not service_id or len(service_id) > 32:
                raise self._bad(f"{where}.courier.service_id is missing")
            currency = str(pricing.get("currency") or "").strip().upper()
            if not re.fullmatch(r"[A-Z]{3}", currency):
                raise self._bad(f"{where}.pricing.currency is not a currency code")
            rates[service_id] = Rate(
                carrier=self.carrier.code,
                service=service_id,
                service_name=str(courier.get("service_name") or service_id)[:128],
                price=_money(pricing.get("total_amount"), f"{where}.pricing.total_amount", self),
                currency=currency,
                transit_days=_duration_days(courier.get("delivery_duration")),
                carrier_name=str(courier.get("courier_name") or self.carrier.name)[:128],
            )
        return rates

    # ------------------------------------------------------------------ book

    def book(self, shipment, rate: Rate) -> Booking:
        parcels = Parcel.all_of(shipment)
        orders = [
            self._submit_item(shipment, p, rate, i, len(parcels))
            for i, p in enumerate(parcels, start=1)
        ]
        body = self._api("shipment/submit_orders", {"shipment": orders})
        data = body.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise self._bad("submit_orders: no order in data")
        rows = data[0].get("shipments")
        if not isinstance(rows, list) or len(rows) != len(parcels):
            raise self._bad("submit_orders: shipments do not answer every parcel")
        booked = [r.get("shipment_number") for r in rows if r.get("status") == "success"]
        failed = [r for r in rows if r.get("status") != "success"]
        if failed:
            self._cancel([n for n in booked if n], f"booking of {shipment.number} incomplete")
            why = "; ".join("; ".join(str(e) for e in r.get("errors") or []) for r in failed)
            raise CarrierRefused(
                f"EasyParcel refused {shipment.number}: {why or 'no reason given'}",
                carrier=self.carrier.code,
            )
        out = []
        try:
            for row in rows:
                number = str(row.get("shipment_number") or "")
                if not number:
                    raise self._bad("submit_orders: a shipment has no shipment_number")
                awb, awb_url = row.get("awb_number"), row.get("awb_url")
                if not awb or not awb_url:  # assigned later: ask for the details
                    awb, awb_url = self._details(number)
                label = self._download(str(awb_url))
                if not label.startswith(b"%PDF"):
                    raise self._bad("the AWB is not a PDF")
                out.append(
                    ParcelBooking(
                        tracking_number=str(awb)[:64], label_pdf=label, carrier_reference=number
                    )
                )
        except CarrierError:
            self._cancel([n for n in booked if n], f"label of {shipment.number} unavailable")
            raise
        from fulfillment.documents import merge_pdfs

        return Booking(
            tracking_number=out[0].tracking_number,
            label_pdf=merge_pdfs([p.label_pdf for p in out]),
            carrier_reference=",".join(p.carrier_reference for p in out)[:255],
            label_url=str(rows[0].get("awb_url") or "")[:500],
            parcels=tuple(out) if len(out) > 1 else (),
        )

    def _details(self, shipment_number: str) -> tuple[str, str]:
        body = self._api("shipment/details", {"shipment_number": shipment_number})
        data = body.get("data")
        details = (data[0] if isinstance(data, list) and data else {}).get("shipment_details")
        if not isinstance(details, dict):
            raise self._bad(f"details of {shipment_number}: no shipment_details")
        awb, awb_url = details.get("awb_number"), details.get("awb_url")
        if not awb or not awb_url:
            raise CarrierError(
                f"EasyParcel has not assigned an AWB to {shipment_number} yet; book again later",
                carrier=self.carrier.code,
            )
        return str(awb), str(awb_url)

    def _submit_item(self, shipment, parcel: Parcel, rate: Rate, index: int, total: int) -> dict:
        order = shipment.order
        lines = list(shipment.lines.select_related("order_line__product").order_by("pk"))
        products = [line.order_line.product for line in lines]
        dims = _box_dims(parcel, lines)
        if dims is None:
            raise CarrierCannot(
                f"EasyParcel needs the size of {parcel.reference}: measure the box at the "
                "pack station (length, width and height)"
            )
        phone = settings.OMS_COMPANY_PHONE
        if not phone:
            raise CarrierCannot("EasyParcel needs the sender's phone: set OMS_COMPANY_PHONE")
        if index == 1:
            items = [
                {
                    "content": (line.order_line.name or product.name)[:100],
                    "weight": _kg(product.weight_grams or 1),
                    "length": float(product.length_cm or dims[0]),
                    "width": float(product.width_cm or dims[1]),
                    "height": float(product.height_cm or dims[2]),
                    "currency_code": order.currency,
                    "value": float(line.order_line.unit_price),
                    "quantity": line.quantity,
                }
                for line, product in zip(lines, products, strict=True)
            ]
        else:
            items = [
                {
                    "content": f"Box {index} of {total} of {shipment.number}",
                    "weight": _kg(parcel.weight_grams),
                    "length": dims[0],
                    "width": dims[1],
                    "height": dims[2],
                    "currency_code": order.currency,
                    "value": 0,
                    "quantity": 1,
                }
            ]
        origin, destination = parcel.origin, parcel.destination
        return {
            "service_id": rate.service,
            "collection_date": _collection_date().isoformat(),
            "customer_reference_no": parcel.reference,
            "weight": _kg(parcel.weight_grams),
            "length": dims[0],
            "width": dims[1],
            "height": dims[2],
            "item": items,
            "sender": {
                "name": origin.name or settings.OMS_COMPANY_NAME,
                "company": settings.OMS_COMPANY_NAME,
                "phone_number_country_code": origin.country,
                "phone_number": _phone(phone, origin.country),
                # Our points carry no street line: the point's name is what the
                # courier's driver asks for at the gate.
                "address_1": origin.line1 or origin.name,
                "postcode": origin.postcode,
                "city": origin.city,
                "subdivison_code": _subdivision(origin.country, origin.region),
                "country_code": origin.country,
            },
            "receiver": {
                "name": destination.name,
                "phone_number_country_code": destination.country,
                "phone_number": _phone(destination.phone, destination.country),
                "email": order.customer.email if order.customer_id else "",
                "address_1": destination.line1,
                "address_2": destination.line2,
                "postcode": destination.postcode,
                "city": destination.city,
                "subdivison_code": _subdivision(destination.country, destination.region),
                "country_code": destination.country,
            },
            "feature": {"sms_tracking": False, "email_tracking": False, "whatsapp_tracking": False},
        }

    # ------------------------------------------------------------------ track

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        body = self._api("shipment/tracking_status", {"awb_numbers": [tracking_number]})
        results = (
            (body.get("data") or {}).get("results") if isinstance(body.get("data"), dict) else None
        )
        if not isinstance(results, list):
            raise self._bad("tracking_status: no data.results list")
        mine = [
            r
            for r in results
            if isinstance(r, dict) and str(r.get("awb_number")) == str(tracking_number)
        ]
        if not mine or mine[0].get("status") != "success":
            log.info("%s: AWB %s not found", self.carrier.code, tracking_number)
            return []
        events = []
        for i, row in enumerate(mine[0].get("status_log") or []):
            if not isinstance(row, dict):
                raise self._bad(f"status_log[{i}] is not an object")
            code = TRACKING_CODES.get(row.get("shipment_status_code"))
            if code is None:
                continue  # before collection: nothing has moved
            try:
                when = datetime.strptime(f"{row.get('event_date')} +0000", "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                raise self._bad(f"status_log[{i}].event_date is not YYYY-MM-DD HH:MM:SS") from None
            events.append(
                TrackingEvent(
                    code=code,
                    occurred_at=when,
                    description=str(row.get("tracking_status") or "")[:255],
                    location=str(row.get("location") or "")[:128],
                )
            )
        return events

    # ------------------------------------------------------------------ void

    def void(self, shipment) -> None:
        numbers = [n for n in (shipment.carrier_reference or "").split(",") if n]
        if not numbers:
            raise CarrierCannot(f"{shipment.number} has no EasyParcel shipment number to cancel")
        results = self._cancel(numbers, f"label of {shipment.number} voided", quiet=False)
        refused = [
            f"{r.get('shipment_number')}: {r.get('message')}"
            for r in results
            if r.get("status") != "success" and r.get("message") != "Shipment Already Cancelled"
        ]
        if refused:
            raise CarrierCannot(
                "EasyParcel would not cancel: " + "; ".join(refused), carrier=self.carrier.code
            )

    def _cancel(self, numbers: list[str], remark: str, *, quiet: bool = True) -> list[dict]:
        if not numbers:
            return []
        try:
            body = self._api(
                "shipment/cancel",
                {"cancel_list": [{"shipment_number": n, "remark": remark} for n in numbers]},
            )
        except CarrierError:
            if not quiet:
                raise
            log.exception("%s: could not cancel %s", self.carrier.code, numbers)
            return []
        data = body.get("data")
        if not isinstance(data, list):
            raise self._bad("cancel: data is not a list")
        return [r for r in data if isinstance(r, dict)]

    # ------------------------------------------------------------------ webhooks

    @staticmethod
    def webhook_awb(payload: dict) -> tuple[str, str]:
        """(AWB number, EasyParcel shipment number) a webhook names; ('', '') for a
        topic that is not about a shipment's tracking."""
        if not isinstance(payload, dict) or payload.get("topic") not in WEBHOOK_TOPICS:
            return "", ""
        return str(payload.get("awb_number") or ""), str(payload.get("shipment_number") or "")

    # ------------------------------------------------------------------ OAuth

    def authorize(self, *, code: str, redirect_uri: str) -> None:
        """Exchange an authorization code (from the browser flow) for the tokens."""
        answer = self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        from fulfillment.models import CarrierToken

        with transaction.atomic():
            token, _ = CarrierToken.objects.select_for_update().get_or_create(carrier=self.carrier)
            self._store(token, answer)

    def access_token(self, *, stale: str = "") -> str:
        """A valid access token: the stored one, or a fresh one when it expires within
        ``REFRESH_MARGIN`` (or is ``stale``: the API just refused it). The refresh runs
        under a lock on the token row, so one worker refreshes while the others wait and
        then use its token (a refresh token works once)."""
        from fulfillment.models import CarrierToken

        token = CarrierToken.objects.filter(carrier=self.carrier).first()
        if token is not None and _usable(token, stale):
            return token.access_token
        with transaction.atomic():
            token, _ = CarrierToken.objects.select_for_update().get_or_create(carrier=self.carrier)
            if _usable(token, stale):
                return token.access_token  # another worker refreshed meanwhile
            if not token.refresh_token:
                raise CarrierError(
                    f"Carrier {self.carrier.code} is not authorized with EasyParcel: run "
                    f"manage.py easyparcel_authorize {self.carrier.code} --code <code>",
                    carrier=self.carrier.code,
                )
            answer = self._token_request(
                {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
            )
            self._store(token, answer)
            return token.access_token

    def _token_request(self, form: dict) -> dict:
        if not self.carrier.client_id or not self.carrier.client_secret:
            raise CarrierError(
                f"Carrier {self.carrier.code} has no OAuth client id and secret",
                carrier=self.carrier.code,
            )
        basic = base64.b64encode(
            f"{self.carrier.client_id}:{self.carrier.client_secret}".encode()
        ).decode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Basic {basic}",
            "User-Agent": "oms-carrier/1",
        }
        try:
            _, raw = self._send(
                "POST", self._url("oauth/token"), urllib.parse.urlencode(form).encode(), headers
            )
        except CarrierRefused as exc:
            raise CarrierRefused(
                f"EasyParcel refused the token request ({exc.data.get('carrier_status')}): "
                "authorize the carrier again",
                carrier=self.carrier.code,
            ) from None
        answer = self._json(raw, "oauth/token")
        if not answer.get("access_token") or not answer.get("refresh_token"):
            raise self._bad("oauth/token: no access_token or refresh_token")
        return answer

    def _store(self, token, answer: dict) -> None:
        now = timezone.now()
        token.access_token = str(answer["access_token"])
        token.refresh_token = str(answer["refresh_token"])
        token.expires_at = _expiry(answer, "expires_in", "expires_at", now)
        token.refresh_expires_at = _expiry(
            answer, "refresh_token_expires_in", "refresh_token_expires_at", now
        )
        token.refreshed_at = now
        token.save()

    # ------------------------------------------------------------------ transport

    def _url(self, path: str) -> str:
        base = (self.carrier.base_url or DEFAULT_BASE_URL).strip().rstrip("/")
        return urllib.parse.urljoin(base + "/", path)

    def _headers(self, *, json_body: bool) -> dict:
        headers = {"Accept": "application/json", "User-Agent": "oms-carrier/1"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        return headers

    def _api(self, endpoint: str, body: dict) -> dict:
        """POST to a 2025-09 endpoint with the access token; a 401 refreshes it once."""
        self._bearer = self.access_token()
        path = f"{API}/{endpoint}"
        try:
            answer = self._call_raw(path, body)
        except CarrierRefused as exc:
            if exc.data.get("carrier_status") != 401:
                raise
            log.info("%s: access token refused, refreshing", self.carrier.code)
            self._bearer = self.access_token(stale=self._bearer)
            answer = self._call_raw(path, body)
        status = answer.get("status_code")
        if isinstance(status, int) and status >= 400:
            raise CarrierRefused(
                f"EasyParcel refused {endpoint} ({status}): {_errors(answer)}",
                carrier=self.carrier.code,
                carrier_status=status,
            )
        return answer

    def _call_raw(self, path: str, body: dict) -> dict:
        try:
            _, raw = self._send("POST", self._url(path), body, self._headers(json_body=True))
        except CarrierRefused as exc:
            if exc.data.get("carrier_status") == 401:
                raise
            raise CarrierRefused(
                f"EasyParcel refused {path.rsplit('/', 1)[-1]}: {exc.message.split(': ', 1)[-1]}",
                carrier=self.carrier.code,
                carrier_status=exc.data.get("carrier_status"),
            ) from None
        return self._json(raw, path)

    def _message(self, payload: bytes) -> str:
        """The documented error bodies: ``data.errors`` (400), ``message``, or the 401's
        ``error.name``."""
        import json

        try:
            answer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return payload.decode("utf-8", "replace").strip()[:200]
        if not isinstance(answer, dict):
            return ""
        error = answer.get("error")
        if isinstance(error, dict) and error.get("name"):
            return str(error["name"])
        if isinstance(error, str):
            return error
        return _errors(answer)

    def _json(self, raw: bytes, path: str) -> dict:
        import json

        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._bad(f"{path} did not answer JSON") from None
        if not isinstance(parsed, dict):
            raise self._bad(f"{path} did not answer a JSON object")
        return parsed

    def _bad(self, why: str) -> CarrierBadResponse:
        return CarrierBadResponse(
            f"EasyParcel ({self.carrier.code}) answered something unexpected: {why}",
            carrier=self.carrier.code,
        )


# --------------------------------------------------------------------------- helpers


def _usable(token, stale: str) -> bool:
    return bool(
        token.access_token
        and token.access_token != stale
        and token.expires_at
        and token.expires_at - REFRESH_MARGIN > timezone.now()
    )


def _expiry(answer: dict, seconds_key: str, at_key: str, now: datetime) -> datetime | None:
    seconds = answer.get(seconds_key)
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=seconds)
    try:
        return datetime.fromisoformat(str(answer.get(at_key)).replace("Z", "+00:00"))
    except ValueError:
        return None


def _errors(answer: dict) -> str:
    data = answer.get("data")
    if isinstance(data, dict) and data.get("errors"):
        return "; ".join(str(e) for e in data["errors"])[:300]
    return str(answer.get("message") or "no reason given")[:300]


def _money(value, where: str, adapter: EasyParcelCarrier) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise adapter._bad(f"{where} is not a decimal string")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise adapter._bad(f"{where} is not a decimal string") from None
    if not amount.is_finite() or not 0 <= amount <= Decimal("9999999999"):
        raise adapter._bad(f"{where} is out of range")
    return amount.quantize(Decimal("0.01"))


def _duration_days(value) -> int:
    """ "3 working day(s)" -> 3, "1-3 days" -> 3, "48 hours" -> 2; null -> the
    conservative ``UNKNOWN_TRANSIT_DAYS``."""
    numbers = [int(n) for n in re.findall(r"\d+", str(value or ""))]
    if not numbers:
        return UNKNOWN_TRANSIT_DAYS
    days = max(numbers)
    if "hour" in str(value).lower():
        days = -(-days // 24)
    return max(0, min(days, 365))


def _kg(grams: int) -> float:
    return float((Decimal(grams) / 1000).quantize(Decimal("0.01"))) or 0.01


def _subdivision(country: str, region: str) -> str:
    """ISO 3166-2: "MY-07" stays, "SP" in BR becomes "BR-SP"."""
    from fulfillment import geo

    region = (region or "").strip().upper()
    if not region:
        return ""
    if re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", region):
        return region
    return f"{country}-{geo.region_code(country, region)}"


def _phone(number: str, country: str) -> str:
    """Digits without the country's calling code (EasyParcel takes the country apart)."""
    digits = re.sub(r"\D", "", number or "")
    code = CALLING_CODES.get(country)
    if code and (number or "").strip().startswith("+") and digits.startswith(code):
        digits = digits[len(code) :]
    return digits


def _quote_item(parcel: Parcel) -> dict:
    item = {
        "sender": {
            "postcode": parcel.origin.postcode,
            "subdivison_code": _subdivision(parcel.origin.country, parcel.origin.region),
            "country": parcel.origin.country,
        },
        "receiver": {
            "postcode": parcel.destination.postcode,
            "subdivison_code": _subdivision(parcel.destination.country, parcel.destination.region),
            "country": parcel.destination.country,
        },
        "weight": _kg(parcel.weight_grams),
    }
    for key, value in (
        ("length", parcel.length_cm),
        ("width", parcel.width_cm),
        ("height", parcel.height_cm),
    ):
        if value:
            item[key] = float(value)
    return item


def _box_dims(parcel: Parcel, lines) -> tuple[float, float, float] | None:
    """The box as measured, else the products' (longest, widest, stacked)."""
    if parcel.length_cm and parcel.width_cm and parcel.height_cm:
        return (float(parcel.length_cm), float(parcel.width_cm), float(parcel.height_cm))
    products = [(line.order_line.product, line.quantity) for line in lines]
    if not products or not all(p.length_cm and p.width_cm and p.height_cm for p, _ in products):
        return None
    return (
        float(max(p.length_cm for p, _ in products)),
        float(max(p.width_cm for p, _ in products)),
        float(sum(p.height_cm * q for p, q in products)),
    )


def _collection_date():
    day = timezone.localdate()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
