"""Shipping fixtures: carriers with rate tables, a packed shipment, PDF helpers, and a
fake courier API on loopback."""

import json
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from fulfillment.models import Carrier, CarrierService, ShippingRate
from fulfillment.services import shipment_pack
from fulfillment.services.shipping import next_business_day
from tests import factories as f
from tests.api.conftest import anon_api, api, manager_api, nobody_api, warehouse_api  # noqa: F401
from tests.easyparcel import easyparcel, easyparcel_api  # noqa: F401

ADDRESS_SP = {
    "name": "Ana Lima",
    "line1": "Rua A 1",
    "city": "Campinas",
    "region": "SP",
    "postcode": "13023-000",
    "country": "BR",
    "phone": "+55 19 99999-0000",
}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# service code -> rows (country, region, min g, max g, price, transit business days)
RATES = {
    ("correios", "pac"): [
        ("BR", "SP", 0, 1000, "15.00", 3),
        ("BR", "SP", 1000, 5000, "21.00", 3),
        ("BR", "", 0, 1000, "20.00", 7),
        ("BR", "", 1000, 5000, "28.00", 7),
    ],
    ("correios", "sedex"): [
        ("BR", "SP", 0, 1000, "25.00", 1),
        ("BR", "SP", 1000, 5000, "33.00", 1),
        ("BR", "", 0, 1000, "35.00", 3),
        ("BR", "", 1000, 5000, "45.00", 3),
    ],
    ("jadlog", "package"): [
        ("BR", "SP", 0, 1000, "17.00", 2),
        ("BR", "", 0, 1000, "22.00", 4),
        ("BR", "", 1000, 30000, "30.00", 4),
    ],
}


@pytest.fixture
def carriers(db):
    made = {}
    for (carrier_code, service_code), rows in RATES.items():
        carrier, _ = Carrier.objects.get_or_create(
            code=carrier_code,
            defaults={
                "name": carrier_code.title(),
                "tracking_url_template": f"https://{carrier_code}.example/track/{{tracking}}",
            },
        )
        service = CarrierService.objects.create(
            carrier=carrier, code=service_code, name=service_code.upper()
        )
        ShippingRate.objects.bulk_create(
            ShippingRate(
                service=service,
                country=country,
                region=region,
                min_weight_grams=low,
                max_weight_grams=high,
                price=Decimal(price),
                currency="BRL",
                transit_days=days,
            )
            for country, region, low, high, price, days in rows
        )
        made[f"{carrier_code}/{service_code}"] = service
    return made


def business_days_before(day: date, n: int) -> date:
    while n:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def ship_date() -> date:
    return next_business_day(timezone.localdate())


def at_noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def warehouse(db):
    return f.make_warehouse("SP-01", name="São Paulo DC", city="São Paulo", postcode="01000-000")


@dataclass
class Packer:
    """Places, confirms and packs orders shipped from one warehouse."""

    warehouse: object
    made: list = field(default_factory=list)

    def shipment(
        self,
        *,
        grams=400,
        units=2,
        address=None,
        weighed=None,
        late_days=0,
        channel_code="web",
        products=None,
        pack=True,
    ):
        if products is None:
            product = f.make_product(weight_grams=grams, name="Blue T-shirt")
            products = [(product, units)]
        for product, quantity in products:
            f.receive(product, self.warehouse, quantity + 10)
        order = f.place(
            [(p, q) for p, q in products],
            shipping_address=address or ADDRESS_SP,
            channel_code=channel_code,
        )
        f.confirm(order)
        type(order).objects.filter(pk=order.pk).update(
            ship_by=at_noon(business_days_before(ship_date(), late_days))
        )
        shipment = order.shipments.get()
        if pack:
            shipment_pack(shipment=shipment, weight_grams=weighed)
        shipment.refresh_from_db()
        self.made.append(shipment)
        return shipment


@pytest.fixture
def packer(warehouse) -> Packer:
    return Packer(warehouse)


# --------------------------------------------------------------------------- PDFs


def pdf_text(pdf: bytes) -> str:
    assert pdf[:5] == b"%PDF-", pdf[:20]
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return out.stdout.decode()


def pdf_pages(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def barcodes(pdf: bytes, page: int = 1, dpi: int = 200) -> list[str]:
    """The barcodes a scanner reads on ``page``: rendered to PNG, decoded by zbar."""
    import tempfile
    from pathlib import Path

    from PIL import Image
    from pyzbar.pyzbar import decode

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-singlefile", "-r", str(dpi), "-f", str(page), "-", str(root)],
            input=pdf,
            capture_output=True,
            check=True,
        )
        with Image.open(f"{root}.png") as image:
            return [code.data.decode() for code in decode(image)]


# --------------------------------------------------------------------------- e-mail


class FailingEmailBackend:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


# --------------------------------------------------------------------------- courier


class FakeCourier:
    """A courier-aggregator API on 127.0.0.1. ``routes`` maps "METHOD /path" to a list
    of answers (status, body bytes or dict, delay seconds) served in turn (the last one
    repeats); every request is recorded."""

    def __init__(self):
        self.routes: dict[str, list[tuple]] = {}
        self.requests: list[dict] = []
        courier = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                key = f"{self.command} {self.path}"
                courier.requests.append({"key": key, "headers": dict(self.headers), "body": body})
                answers = courier.routes.get(key)
                if not answers:
                    status, payload, delay = 404, {"error": "no such route"}, 0
                else:
                    status, payload, delay = answers.pop(0) if len(answers) > 1 else answers[0]
                if delay:
                    threading.Event().wait(delay)
                if isinstance(payload, dict | list):
                    data, ctype = json.dumps(payload).encode(), "application/json"
                else:
                    data = payload
                    ctype = "application/pdf" if payload[:4] == b"%PDF" else "text/plain"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def on(self, key: str, *answers):
        self.routes[key] = [a if len(a) == 3 else (*a, 0) for a in answers]

    def hits(self, key: str) -> int:
        return sum(1 for r in self.requests if r["key"] == key)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def courier():
    server = FakeCourier()
    yield server
    server.close()


@pytest.fixture
def http_carrier(db, courier):
    carrier = Carrier.objects.create(
        code="fastbox",
        name="FastBox",
        kind=Carrier.Kind.HTTP,
        base_url=courier.url,
        api_key="secret-key",
        tracking_url_template="https://fastbox.example/t/{tracking}",
    )
    return carrier
