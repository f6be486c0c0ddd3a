"""Shared pieces of the channel tests: signed platform deliveries, products in stock,
and a local HTTP receiver for outgoing webhooks."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from intake.inbound.common import base64_hmac
from tests import factories as f
from tests.api.conftest import anon_api, api, manager_api, warehouse_api  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef"
WOO_SECRET = "wc-secret-Zs9!x2&y"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def body_of(payload) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


class Platform:
    """Posts deliveries the way a platform does (raw body, its headers, its HMAC)."""

    def __init__(self, client: APIClient):
        self.client = client
        self.sequence = 0

    def shopify(
        self,
        payload,
        *,
        topic="orders/create",
        channel="shopify-eu",
        webhook_id=None,
        secret=SHOPIFY_SECRET,
        signature=None,
        **headers,
    ):
        body = body_of(payload)
        self.sequence += 1
        meta = {
            "HTTP_X_SHOPIFY_TOPIC": topic,
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": "example.myshopify.com",
            "HTTP_X_SHOPIFY_API_VERSION": "2025-01",
            "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id
            or f"b54557e4-bdd9-4b37-8a5f-{self.sequence:012d}",
            "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-11-26T15:00:00.000000Z",
        }
        if signature is not False:
            meta["HTTP_X_SHOPIFY_HMAC_SHA256"] = signature or base64_hmac(secret, body)
        meta.update(headers)
        return self.client.post(
            f"/api/v1/channels/{channel}/intake/shopify/",
            body,
            content_type="application/json",
            **meta,
        )

    def woo(
        self,
        payload,
        *,
        topic="order.created",
        channel="woo",
        delivery_id=None,
        secret=WOO_SECRET,
        signature=None,
        **headers,
    ):
        body = body_of(payload)
        self.sequence += 1
        meta = {
            "HTTP_X_WC_WEBHOOK_SOURCE": "https://shop.example.com/",
            "HTTP_X_WC_WEBHOOK_TOPIC": topic,
            "HTTP_X_WC_WEBHOOK_RESOURCE": topic.split(".")[0],
            "HTTP_X_WC_WEBHOOK_EVENT": topic.split(".")[-1],
            "HTTP_X_WC_WEBHOOK_ID": "12",
            "HTTP_X_WC_WEBHOOK_DELIVERY_ID": delivery_id or f"5f1e8a{self.sequence:026x}",
        }
        if signature is not False:
            meta["HTTP_X_WC_WEBHOOK_SIGNATURE"] = signature or base64_hmac(secret, body)
        meta.update(headers)
        return self.client.post(
            f"/api/v1/channels/{channel}/intake/woocommerce/",
            body,
            content_type="application/json",
            **meta,
        )


@pytest.fixture
def platform(db) -> Platform:
    return Platform(APIClient())


@pytest.fixture
def shop(db):
    """Two channels with intake secrets, two products in stock at one warehouse."""
    wh = f.make_warehouse("US-01", priority=1, country="US", region="KY")
    shirt = f.make_product("TSHIRT-M", price="19.90")
    mug = f.make_product("MUG-01", price="9.90")
    f.receive(shirt, wh, 10, reference="PO-1")
    f.receive(mug, wh, 10, reference="PO-1")
    shopify = f.channel("shopify-eu", kind="web_store", webhook_secret=SHOPIFY_SECRET)
    woo = f.channel("woo", kind="web_store", webhook_secret=WOO_SECRET)
    return SimpleNamespace(wh=wh, shirt=shirt, mug=mug, shopify=shopify, woo=woo)


# --------------------------------------------------------------------------- receiver


class Receiver:
    """A local HTTP endpoint: records every POST; answers the statuses queued in
    ``script`` first (then 200), after the delays queued in ``delays`` (seconds)."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.script: list[int] = []
        self.delays: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    delay = receiver.delays.pop(0) if receiver.delays else 0
                    receiver.requests.append(
                        SimpleNamespace(path=self.path, headers=dict(self.headers), body=body)
                    )
                if delay:
                    time.sleep(delay)
                payload = b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"

    def events(self) -> list[str]:
        return [json.loads(r.body)["type"] for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fast_retries(settings):
    settings.OMS_WEBHOOK_BACKOFF_SECONDS = 0
    settings.OMS_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 4
    return settings
