"""Adapter for a courier-aggregator style JSON API (one per ``Carrier`` of kind ``http``,
configured by its ``base_url`` and ``api_key``).

The API it speaks (``Authorization: Bearer <api_key>``, JSON bodies):

``POST {base}/rates``
    ``{"reference", "origin", "destination", "parcel"}`` ->
    ``{"rates": [{"service", "name", "price", "currency", "transit_days"}]}``
``POST {base}/shipments`` (``Idempotency-Key: <shipment number>``, so a retried booking
    is the same booking)
    ``{"reference", "service", "origin", "destination", "parcel"}`` ->
    ``{"tracking_number", "label_url"}`` or ``{"tracking_number", "label_pdf": <base64>}``
``GET {label_url}`` (absolute, or relative to the base URL) -> ``application/pdf``
``GET {base}/tracking/<tracking_number>`` ->
    ``{"events": [{"code", "occurred_at", "description", "location"}]}``

Every call has a timeout; timeouts, refused connections and 5xx answers are retried a
bounded number of times with exponential backoff, then raise ``CarrierUnavailable``.
A 4xx answer raises ``CarrierRefused`` at once; an answer that is not what the API
promises raises ``CarrierBadResponse``. All are ``CarrierError`` (a DomainError, 502).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from fulfillment.carriers.base import (
    Booking,
    CarrierAdapter,
    CarrierBadResponse,
    CarrierCannot,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    Parcel,
    Rate,
    TrackingEvent,
)

log = logging.getLogger(__name__)

TRACKING_CODES = {
    "in_transit": "in_transit",
    "transit": "in_transit",
    "picked_up": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "exception": "exception",
    "failure": "exception",
    "returned": "exception",
}
MAX_LABEL_BYTES = 10 * 1024 * 1024


class HttpCarrier(CarrierAdapter):
    supports_tracking = True

    def __init__(self, carrier, *, timeout=None, attempts=None, backoff=None):
        super().__init__(carrier)
        self.timeout = timeout if timeout is not None else settings.OMS_CARRIER_TIMEOUT
        self.attempts = max(1, attempts if attempts is not None else settings.OMS_CARRIER_ATTEMPTS)
        self.backoff = backoff if backoff is not None else settings.OMS_CARRIER_BACKOFF

    # ------------------------------------------------------------------ interface

    def quote(self, shipment) -> list[Rate]:
        parcel = self._one_parcel(shipment)
        body = self._call("POST", "rates", _parcel_body(parcel))
        rows = _field(body, "rates", list, "rates", self)
        rates = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise self._bad(f"rates[{i}] is not an object")
            rates.append(
                Rate(
                    carrier=self.carrier.code,
                    service=_text(row, "service", f"rates[{i}]", self),
                    service_name=str(row.get("name") or row.get("service")),
                    price=_decimal(row, "price", f"rates[{i}]", self),
                    currency=_text(row, "currency", f"rates[{i}]", self).upper()[:3],
                    transit_days=_days(row, f"rates[{i}]", self),
                    carrier_name=self.carrier.name,
                )
            )
        return rates

    def book(self, shipment, rate: Rate) -> Booking:
        parcel = self._one_parcel(shipment)
        body = self._call(
            "POST",
            "shipments",
            {**_parcel_body(parcel), "service": rate.service},
            idempotency_key=shipment.number,
        )
        tracking = _text(body, "tracking_number", "booking", self)
        if len(tracking) > 64:
            raise self._bad("tracking_number is longer than 64 characters")
        if body.get("label_pdf"):
            try:
                label = base64.b64decode(str(body["label_pdf"]), validate=True)
            except (binascii.Error, ValueError):
                raise self._bad("label_pdf is not base64") from None
        elif body.get("label_url"):
            label = self._download(str(body["label_url"]))
        else:
            raise self._bad("the booking has neither label_pdf nor label_url")
        if not label.startswith(b"%PDF"):
            raise self._bad("the label is not a PDF")
        return Booking(
            tracking_number=tracking,
            label_pdf=label,
            carrier_reference=str(body.get("id") or "")[:64],
        )

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        body = self._call("GET", f"tracking/{urllib.parse.quote(tracking_number, safe='')}")
        rows = _field(body, "events", list, "tracking", self)
        events = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise self._bad(f"events[{i}] is not an object")
            code = TRACKING_CODES.get(str(row.get("code", "")).strip().lower())
            if code is None:
                log.info("%s: skipping tracking code %r", self.carrier.code, row.get("code"))
                continue
            events.append(
                TrackingEvent(
                    code=code,
                    occurred_at=_datetime(row, "occurred_at", f"events[{i}]", self),
                    description=str(row.get("description") or "")[:255],
                    location=str(row.get("location") or "")[:128],
                )
            )
        return events

    def _one_parcel(self, shipment) -> Parcel:
        """The protocol carries one parcel per shipment; several boxes are refused."""
        parcels = Parcel.all_of(shipment)
        if len(parcels) > 1:
            raise CarrierCannot(
                f"{self.carrier.code} takes one parcel per shipment, not {len(parcels)}"
            )
        return parcels[0]

    # ------------------------------------------------------------------ transport

    def _url(self, path: str) -> str:
        base = (self.carrier.base_url or "").strip()
        if not base:
            raise CarrierError(f"Carrier {self.carrier.code} has no base URL configured")
        return urllib.parse.urljoin(base.rstrip("/") + "/", path)

    def _bad(self, why: str) -> CarrierBadResponse:
        return CarrierBadResponse(
            f"Carrier {self.carrier.code} answered something unexpected: {why}",
            carrier=self.carrier.code,
        )

    def _send(
        self, method: str, url: str, body: dict | bytes | None, headers: dict
    ) -> tuple[int, bytes]:
        """One request with retries; returns (status, body) of a 2xx answer."""
        if isinstance(body, bytes):  # already encoded (a form body)
            data = body
        else:
            data = json.dumps(body).encode() if body is not None else None
        last = ""
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, response.read(MAX_LABEL_BYTES + 1)
            except urllib.error.HTTPError as exc:
                payload = exc.read(4096)
                if exc.code < 500 and exc.code != 429:
                    raise CarrierRefused(
                        f"Carrier {self.carrier.code} refused the request "
                        f"({exc.code}): {self._message(payload) or exc.reason}",
                        carrier=self.carrier.code,
                        carrier_status=exc.code,
                    ) from None
                last = f"HTTP {exc.code}"
            except TimeoutError:
                last = f"no answer within {self.timeout:g} s"
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError | socket.timeout):
                    last = f"no answer within {self.timeout:g} s"
                else:
                    last = f"cannot connect ({reason})"
            except http.client.HTTPException as exc:  # a garbled or cut-off answer
                last = f"broken HTTP answer ({exc.__class__.__name__})"
            except OSError as exc:
                last = f"connection failed ({exc})"
            log.warning(
                "%s %s %s: %s (attempt %s/%s)",
                self.carrier.code,
                method,
                url,
                last,
                attempt,
                self.attempts,
            )
            if attempt < self.attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        raise CarrierUnavailable(
            f"Carrier {self.carrier.code} is unavailable: {last} after {self.attempts} attempt(s)",
            carrier=self.carrier.code,
        )

    def _message(self, payload: bytes) -> str:
        return _message(payload)

    def _headers(self, *, json_body: bool) -> dict:
        headers = {"Accept": "application/json", "User-Agent": "oms-carrier/1"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if self.carrier.api_key:
            headers["Authorization"] = f"Bearer {self.carrier.api_key}"
        return headers

    def _call(self, method: str, path: str, body: dict | None = None, *, idempotency_key=""):
        headers = self._headers(json_body=body is not None)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        _, raw = self._send(method, self._url(path), body, headers)
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._bad(f"{path} did not answer JSON") from None
        if not isinstance(parsed, dict):
            raise self._bad(f"{path} did not answer a JSON object")
        return parsed

    def _download(self, label_url: str) -> bytes:
        url = urllib.parse.urljoin(self._url(""), label_url)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise self._bad("label_url is not an http(s) URL")
        base = urllib.parse.urlsplit(self._url(""))
        headers = self._headers(json_body=False)
        headers["Accept"] = "application/pdf"
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            headers.pop("Authorization", None)  # never hand our key to another host
        _, raw = self._send("GET", url, None, headers)
        if len(raw) > MAX_LABEL_BYTES:
            raise self._bad("the label is larger than 10 MB")
        return raw


# --------------------------------------------------------------------------- parsing


def _parcel_body(parcel: Parcel) -> dict:
    return {
        "reference": parcel.reference,
        "origin": parcel.origin.as_dict(),
        "destination": parcel.destination.as_dict(),
        "parcel": parcel.as_dict(),
    }


def _message(payload: bytes) -> str:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return payload.decode("utf-8", "replace").strip()[:200]
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if data.get(key):
                return str(data[key])[:200]
    return ""


def _field(body: dict, key: str, kind: type, where: str, adapter: HttpCarrier):
    value = body.get(key)
    if not isinstance(value, kind):
        raise adapter._bad(f"the {where} answer has no {key} list")
    return value


def _text(row: dict, key: str, where: str, adapter: HttpCarrier) -> str:
    value = row.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise adapter._bad(f"{where}.{key} is missing")
    return str(value).strip()


def _decimal(row: dict, key: str, where: str, adapter: HttpCarrier) -> Decimal:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise adapter._bad(f"{where}.{key} is not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise adapter._bad(f"{where}.{key} is not a number") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("9999999999"):
        raise adapter._bad(f"{where}.{key} is out of range")
    return amount.quantize(Decimal("0.01"))


def _days(row: dict, where: str, adapter: HttpCarrier) -> int:
    value = row.get("transit_days")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise adapter._bad(f"{where}.transit_days is not a whole number of days")
    return value


def _datetime(row: dict, key: str, where: str, adapter: HttpCarrier) -> datetime:
    value = row.get(key)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise adapter._bad(f"{where}.{key} is not an ISO 8601 date-time") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed
