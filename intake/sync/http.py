"""HTTP to the platforms: one JSON transport with timeouts and bounded retries, and a
client per platform that speaks its published API.

* **Shopify** GraphQL Admin API: ``POST {store}/admin/api/{version}/graphql.json`` with
  ``X-Shopify-Access-Token``. Cost-based throttling: a ``THROTTLED`` error (HTTP 200)
  with ``extensions.cost.throttleStatus`` (``currentlyAvailable``, ``restoreRate``) and
  the ``requestedQueryCost`` says how long to wait before the same query fits; an HTTP
  429 says it with ``Retry-After``.
* **WooCommerce** REST API v3: ``{store}/wp-json/wc/v3/...`` with HTTP Basic auth
  (consumer key and secret), pages of ``per_page`` up to 100 (``X-WP-TotalPages``),
  errors as ``{"code", "message", "data": {"status"}}``.

Timeouts, refused connections and 5xx answers are retried ``OMS_CHANNEL_ATTEMPTS``
times with exponential backoff, 429 and ``THROTTLED`` answers after the wait they
name (at most ``OMS_CHANNEL_MAX_WAIT`` seconds each, ``OMS_CHANNEL_THROTTLE_RETRIES``
times); then ``ChannelUnavailable``. Any other 4xx is ``ChannelRefused`` at once, with
the platform's own message. Credentials never appear in an error or a log line.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings

from kernel.exceptions import DomainError

log = logging.getLogger(__name__)
USER_AGENT = "OMS-ChannelSync/1.0"


class ChannelError(DomainError):
    code = "channel_error"
    status_code = 502


class ChannelUnavailable(ChannelError):
    """Timeouts, 5xx or throttling that outlasted the retries: try again later."""

    code = "channel_unavailable"


class ChannelRefused(ChannelError):
    """The platform refused the request (4xx, GraphQL errors): retrying the same fails."""

    code = "channel_refused"


@dataclass
class Response:
    status: int
    headers: dict
    body: object


@dataclass
class Transport:
    """JSON over HTTP with the retry rules above. ``calls`` counts requests sent."""

    timeout: float = field(default_factory=lambda: settings.OMS_CHANNEL_TIMEOUT)
    attempts: int = field(default_factory=lambda: settings.OMS_CHANNEL_ATTEMPTS)
    backoff: float = field(default_factory=lambda: settings.OMS_CHANNEL_BACKOFF)
    max_wait: float = field(default_factory=lambda: settings.OMS_CHANNEL_MAX_WAIT)
    throttle_retries: int = field(default_factory=lambda: settings.OMS_CHANNEL_THROTTLE_RETRIES)
    calls: int = 0
    sleep: object = time.sleep

    def request(self, method: str, url: str, *, headers: dict, body=None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        failures = throttles = 0
        while True:
            self.calls += 1
            try:
                status, reply_headers, raw = self._send(method, url, headers, data)
            except (TimeoutError, ConnectionError, OSError) as exc:
                failures += 1
                if failures >= self.attempts:
                    raise ChannelUnavailable(f"{_where(url)}: {type(exc).__name__}") from exc
                self.sleep(self.backoff * 2 ** (failures - 1))
                continue
            if status == 429:
                throttles += 1
                if throttles > self.throttle_retries:
                    raise ChannelUnavailable(f"{_where(url)}: still throttled (429)")
                self.sleep(min(self.max_wait, _retry_after(reply_headers, self.backoff)))
                continue
            if status >= 500:
                failures += 1
                if failures >= self.attempts:
                    raise ChannelUnavailable(f"{_where(url)}: HTTP {status}")
                self.sleep(self.backoff * 2 ** (failures - 1))
                continue
            parsed = _json(raw)
            if status >= 400:
                raise ChannelRefused(f"{_where(url)}: HTTP {status}: {_message(parsed, raw)}")
            return Response(status, reply_headers, parsed)

    def _send(self, method, url, headers, data):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, OSError) else OSError(str(exc.reason))
            raise reason from exc
        except http.client.HTTPException as exc:
            raise ConnectionError(str(exc)) from exc


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.netloc}{parts.path}"  # no query string: it may carry credentials


def _retry_after(headers: dict, default: float) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", default)))
    except ValueError:
        return default


def _json(raw: bytes):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _message(parsed, raw: bytes) -> str:
    if isinstance(parsed, dict):
        if parsed.get("message"):  # WooCommerce {"code","message","data"}
            code = parsed.get("code")
            return f"{parsed['message']}" + (f" ({code})" if code else "")
        if parsed.get("errors"):  # Shopify {"errors": "..."} or [{"message"}]
            return _graphql_errors(parsed["errors"])
    return (raw or b"").decode("utf-8", "replace")[:300]


def _graphql_errors(errors) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)


# --------------------------------------------------------------------------- Shopify


class ShopifyClient:
    def __init__(self, channel, transport: Transport | None = None):
        self.channel = channel
        self.transport = transport or Transport()
        self.version = settings.OMS_SHOPIFY_API_VERSION
        self.url = f"{channel.api_url.rstrip('/')}/admin/api/{self.version}/graphql.json"

    @property
    def calls(self) -> int:
        return self.transport.calls

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """The ``data`` of the answer; waits out ``THROTTLED`` as its cost says."""
        throttles = 0
        while True:
            reply = self.transport.request(
                "POST",
                self.url,
                headers={"X-Shopify-Access-Token": self.channel.access_token},
                body={"query": query, "variables": variables or {}},
            )
            body = reply.body if isinstance(reply.body, dict) else {}
            errors = body.get("errors")
            if errors and _throttled(errors):
                throttles += 1
                if throttles > self.transport.throttle_retries:
                    raise ChannelUnavailable("Shopify: still throttled (THROTTLED)")
                self.transport.sleep(min(self.transport.max_wait, _throttle_wait(body)))
                continue
            if errors:
                raise ChannelRefused(f"Shopify: {_graphql_errors(errors)}")
            if not isinstance(body.get("data"), dict):
                raise ChannelRefused("Shopify: the answer has no data")
            return body["data"]

    def version_at_least(self, version: str) -> bool:
        return self.version >= version  # YYYY-MM sorts as text; "unstable" is newest


def _throttled(errors) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )


def _throttle_wait(body: dict) -> float:
    """Seconds until the bucket holds the query's requested cost again."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0)
    except (TypeError, ValueError):
        return 1.0
    if rate <= 0:
        return 1.0
    return max(0.0, (needed - available) / rate)


# --------------------------------------------------------------------------- WooCommerce


class WooClient:
    PER_PAGE = 100

    def __init__(self, channel, transport: Transport | None = None):
        self.channel = channel
        self.transport = transport or Transport()
        self.base = f"{channel.api_url.rstrip('/')}/wp-json/wc/v3"
        pair = f"{channel.consumer_key}:{channel.consumer_secret}".encode()
        self.headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    @property
    def calls(self) -> int:
        return self.transport.calls

    def get(self, path: str, params: dict | None = None) -> Response:
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return self.transport.request("GET", url, headers=self.headers)

    def send(self, method: str, path: str, body: dict) -> object:
        return self.transport.request(
            method, f"{self.base}{path}", headers=self.headers, body=body
        ).body

    def pages(self, path: str, params: dict | None = None):
        """Every item of a paged list, page after page until ``X-WP-TotalPages``."""
        page = 1
        while True:
            reply = self.get(path, {**(params or {}), "per_page": self.PER_PAGE, "page": page})
            items = reply.body if isinstance(reply.body, list) else []
            yield from items
            try:
                total = int(reply.headers.get("x-wp-totalpages", "1"))
            except ValueError:
                total = 1
            if page >= total or not items:
                return
            page += 1


def client_for(channel, transport: Transport | None = None):
    from orders.models import Platform

    if not channel.connected:
        raise ChannelRefused(f"Channel {channel.code} is not connected to a platform")
    if channel.platform == Platform.SHOPIFY:
        return ShopifyClient(channel, transport)
    return WooClient(channel, transport)
