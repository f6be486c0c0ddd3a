"""Demo data for ``manage.py seed_demo``: a Brazilian seller with four fulfillment
points, 62 products and three months of orders on seven channels.

Every change of a status or a quantity goes through the services, so the stock ledger,
the order timelines and the document numbers are the ones the system itself writes.
Catalogue rows (points, products, channels, carriers, rates) are plain inserts.

Two things make the data look lived in and keep it the same on every run:

* ``random.Random`` with fixed seeds plans everything up front: catalogue, customers,
  each order's contents and what happens to it (one generator for contents, another for
  dates, so redrawing a date never changes what was ordered);
* a simulated clock: the plan is a list of dated steps (placed, paid, confirmed, picked,
  packed, shipped, delivered, returned...) played in date order, and while a step runs
  ``django.utils.timezone.now`` returns its date, so ``placed_at``, ``shipped_at``,
  ``created_at`` of events and ledger rows, etc. are spread over the last 90 days.
  Only the dates move with today's date (tokens and tracking numbers stay random).

The whole run is one transaction. Stock arrivals queue
``fulfillment.tasks.allocate_backorders`` on commit; the demo runs those jobs inline
(django-q2 ``sync``) after the commit instead of leaving them in the queue, and calls
``allocate_backorders`` itself, at the simulated date, where a delivery fills backorders.
"""

import random
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from fulfillment import services as fulfillment_services
from fulfillment.models import (
    OPEN_SHIPMENT_STATUSES,
    Carrier,
    CarrierService,
    CarrierToken,
    PickList,
    Shipment,
    ShippingRate,
)
from inventory import services as inventory_services
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from oms import roles
from orders import services as order_services
from orders.models import Channel, Customer, Order
from orders.notifications import notifications_muted
from orders.services import add_business_days
from returns import services as return_services
from returns.models import Refund, ReturnLine, ReturnRequest

SEED = 20260126
MARKER_SKU = "TSHIRT-BLK-S"  # present = the demo has been seeded
CURRENCY = "BRL"

# The tables below are data, laid out as tables.
# fmt: off

# --------------------------------------------------------------------------- users

DEMO_USERS = [
    # username, password, group, is_staff, what for
    ("manager", "manager-demo-2026", roles.MANAGER, True, "staff pages + admin"),
    ("warehouse", "warehouse-demo-2026", roles.WAREHOUSE, False, "warehouse floor, no admin"),
    ("integration", "integration-demo-2026", roles.INTEGRATION, False, "API (token below)"),
]

# --------------------------------------------------------------------------- catalogue

# code, name, kind, city, region, postcode, address, lat, lon, priority
WAREHOUSES = [
    ("SP-01", "CD São Paulo", "warehouse", "São Paulo", "SP", "03162-000",
     "Rua Cavour 1200, Vila Prudente", "-23.585000", "-46.582000", 10),
    ("MG-01", "3PL Belo Horizonte (LogMinas)", "3pl", "Belo Horizonte", "MG", "31255-010",
     "Avenida Antônio Carlos 7500, Pampulha", "-19.861000", "-43.959000", 20),
    ("RJ-01", "Loja Rio de Janeiro, Centro", "store", "Rio de Janeiro", "RJ", "20040-020",
     "Rua da Assembleia 35, Centro", "-22.904000", "-43.176000", 30),
    ("PR-01", "Loja Curitiba, Batel", "store", "Curitiba", "PR", "80420-090",
     "Avenida do Batel 1868, Batel", "-25.442000", "-49.292000", 40),
]

# Shipments per business day each point can ship (its team; the delay projection's pace).
DAILY_CAPACITY = {"SP-01": 40, "MG-01": 30, "RJ-01": 8, "PR-01": 8}

# code, name, kind, auto_confirm, handling_days, routing_strategy
CHANNELS = [
    ("web", "Web store", "web_store", False, 2, ""),
    ("amazon-br", "Amazon Brasil", "marketplace", True, 1, ""),
    ("mercadolivre", "Mercado Livre", "marketplace", True, 2, ""),
    ("instagram", "Instagram Shopping", "social", False, 2, ""),
    ("pos", "Loja Rio (PDV)", "pos", True, 0, "nearest"),
    ("api", "API", "api", False, 2, ""),
    ("csv", "CSV import", "csv", False, 2, ""),
]
CHANNEL_WEIGHTS = {
    "web": 34, "amazon-br": 24, "mercadolivre": 24, "instagram": 8, "api": 5, "csv": 5,
}
MARKETPLACES = {"amazon-br", "mercadolivre", "api", "csv"}  # paid when the order arrives

# Stocking profiles: which points carry a product.
#   core: SP-01 + MG-01    sp: SP-01 only     fashion: SP-01 + both stores
#   mg: MG-01 only (bulky, the 3PL)            store: stores only (exclusives)
#   oos: nowhere (backordered)                 po: nothing until a purchase order lands
# base sku, name, category, price, grams, (l, w, h) cm, lead days, popularity, profile,
# variants: (sku suffix, name suffix)
CATALOGUE = [
    ("TSHIRT", "Cotton T-shirt", "apparel", "49.90", 180, (30, 25, 2), 15, 9, "fashion",
     [(f"{c}-{s}", f"{cn}, {s}") for c, cn in (("BLK", "black"), ("WHT", "white"))
      for s in ("S", "M", "L")]),
    ("HOODIE", "Hooded sweatshirt", "apparel", "159.90", 650, (35, 30, 8), 20, 5, "fashion",
     [(s, s) for s in ("S", "M", "L")]),
    ("JEANS", "Slim fit jeans", "apparel", "189.90", 600, (35, 30, 5), 20, 5, "fashion",
     [(s, f"size {s}") for s in ("38", "40", "42")]),
    ("SNEAKER", "Running sneakers", "apparel", "299.90", 900, (33, 22, 12), 30, 6, "fashion",
     [(s, f"size {s}") for s in ("39", "40", "41", "42")]),
    ("CAP", "Baseball cap", "apparel", "59.90", 120, (25, 18, 12), 15, 3, "store",
     [("NAV", "navy"), ("KHK", "khaki")]),
    ("SUNGLASS", "Polarized sunglasses", "accessories", "159.90", 80, (16, 7, 5), 30, 3,
     "store", [("CLASSIC", "classic"), ("AVIATOR", "aviator")]),
    ("MUG", "Ceramic mug 350 ml", "kitchen", "39.90", 400, (12, 12, 10), 10, 7, "core",
     [("WHT", "white"), ("BLU", "blue")]),
    ("CUTLERY-24", "Stainless cutlery set, 24 pieces", "kitchen", "129.90", 1500, (30, 20, 6),
     25, 3, "sp", []),
    ("PAN-28", "Non-stick frying pan 28 cm", "kitchen", "149.90", 1100, (50, 30, 8), 20, 4,
     "core", []),
    ("AIRFRYER-4L", "Air fryer 4 L", "appliances", "399.90", 4500, (35, 30, 35), 45, 4, "oos",
     []),
    ("BLENDER-600", "Blender 600 W", "appliances", "219.90", 2800, (25, 25, 40), 30, 3, "mg",
     []),
    ("COFFEE-30", "Drip coffee maker, 30 cups", "appliances", "169.90", 2000, (30, 25, 35), 30,
     3, "mg", []),
    ("PILLOW", "Pillow 50x70 cm", "home", "59.90", 700, (70, 50, 15), 15, 4, "core",
     [("SOFT", "soft"), ("FIRM", "firm")]),
    ("TOWEL", "Bath towel", "home", "44.90", 500, (70, 40, 5), 15, 5, "core",
     [("WHT", "white"), ("GRY", "grey"), ("BLU", "blue")]),
    ("SHEETS-Q", "Bed sheet set, queen", "home", "139.90", 1200, (35, 30, 8), 20, 3, "sp", []),
    ("HEADPHONE", "Bluetooth headphones", "electronics", "249.90", 300, (20, 18, 8), 30, 6,
     "core", [("BLK", "black"), ("WHT", "white")]),
    ("CHARGER-20W", "USB-C charger 20 W", "electronics", "79.90", 120, (10, 6, 4), 20, 8, "core",
     []),
    ("CABLE-USBC-1M", "USB-C cable 1 m", "electronics", "29.90", 60, (15, 10, 2), 20, 10, "core",
     []),
    ("POWERBANK-10K", "Power bank 10,000 mAh", "electronics", "119.90", 250, (15, 8, 3), 30, 5,
     "sp", []),
    ("SPEAKER-BT", "Portable Bluetooth speaker", "electronics", "199.90", 600, (20, 10, 10), 40,
     5, "po", []),
    ("SMARTWATCH", "Smartwatch", "electronics", "399.90", 200, (12, 10, 8), 45, 4, "oos", []),
    ("MOUSE-WL", "Wireless mouse", "electronics", "89.90", 150, (14, 8, 5), 20, 5, "core", []),
    ("KEYBOARD-MEC", "Mechanical keyboard", "electronics", "349.90", 1100, (45, 15, 5), 45, 3,
     "oos", []),
    ("CASE", "Phone case", "accessories", "39.90", 50, (18, 10, 2), 15, 6, "sp",
     [("IP15", "iPhone 15"), ("S24", "Galaxy S24"), ("G84", "Moto G84")]),
    ("BOOK-COOK", "Brazilian home cooking (book)", "books", "69.90", 800, (28, 21, 3), 10, 3,
     "sp", []),
    ("NOTEBOOK-A5", "Notebook A5, dotted", "stationery", "24.90", 250, (21, 15, 2), 10, 5,
     "core", [("BLK", "black"), ("GRN", "green"), ("RED", "red")]),
    ("PENS-10", "Gel pens, 10 colours", "stationery", "34.90", 100, (18, 10, 2), 10, 4, "core",
     []),
    ("YOGAMAT", "Yoga mat 6 mm", "sports", "99.90", 1200, (62, 15, 15), 20, 4, "mg", []),
    ("DUMBBELL-5", "Dumbbell 5 kg", "sports", "89.90", 5000, (30, 12, 12), 25, 3, "mg", []),
    ("BOTTLE-750", "Water bottle 750 ml", "sports", "49.90", 300, (26, 8, 8), 15, 6, "core",
     [("BLK", "black"), ("PNK", "pink")]),
    ("BACKPACK-25", "Backpack 25 L", "accessories", "179.90", 800, (45, 30, 15), 25, 4,
     "fashion", []),
    ("BLOCKS-500", "Building blocks, 500 pieces", "toys", "149.90", 900, (38, 28, 8), 30, 4,
     "sp", []),
    ("PUZZLE-1000", "Jigsaw puzzle, 1000 pieces", "toys", "79.90", 700, (35, 25, 6), 20, 3, "sp",
     []),
    ("DOGFOOD-3KG", "Dog food 3 kg", "pets", "89.90", 3000, (40, 25, 10), 10, 5, "mg", []),
    ("SUNSCREEN-50", "Sunscreen SPF 50, 200 ml", "beauty", "59.90", 250, (18, 6, 5), 15, 6,
     "core", []),
    ("SHAMPOO-400", "Shampoo 400 ml", "beauty", "29.90", 450, (22, 7, 5), 10, 6, "core", []),
    ("PERFUME-100", "Eau de parfum 100 ml", "beauty", "289.90", 400, (14, 10, 8), 30, 3, "store",
     []),
    ("LAMP-LED", "LED desk lamp", "home", "129.90", 900, (45, 20, 15), 25, 3, "sp", []),
]
PROFILE_POINTS = {
    "core": ("SP-01", "MG-01"),
    "sp": ("SP-01",),
    "fashion": ("SP-01", "RJ-01", "PR-01"),
    "mg": ("MG-01",),
    "store": ("RJ-01", "PR-01"),
    "oos": (),
    "po": (),
}
SHIPPABLE = ("core", "sp", "fashion", "mg")
WAVE_PICKED = ("core", "sp", "fashion")  # shipped from SP-01, picked in our waves
PO_DAYS_AGO = 20  # the speakers' purchase order lands then and fills the backorders
DELIVERED_ORDERS = 62  # delivered over the last three months, returns included

# --------------------------------------------------------------------------- carriers

# carrier, carrier name, service, service name, base price, transit days by zone
SERVICES = [
    ("correios", "Correios", "pac", "PAC", Decimal("15.90"), (3, 5, 7, 10)),
    ("correios", "Correios", "sedex", "SEDEX", Decimal("22.90"), (1, 2, 3, 5)),
    ("jadlog", "Jadlog", "package", ".Package", Decimal("17.90"), (2, 4, 5, 8)),
]
# The carriers' public tracking pages (shown to staff and on the customer's page).
TRACKING_URLS = {
    "correios": "https://rastreamento.correios.com.br/app/index.php?objetos={tracking}",
}
ZONES = {"SP": 0, "RJ": 1, "MG": 1, "PR": 1, "SC": 2, "RS": 2, "ES": 2, "DF": 2, "GO": 2}
ZONE_FACTOR = (Decimal("1"), Decimal("1.3"), Decimal("1.6"), Decimal("2.1"))
BANDS = ((0, 1000, Decimal("1")), (1000, 5000, Decimal("1.4")), (5000, 30000, Decimal("2.4")))

# --------------------------------------------------------------------------- people

# city, region, postcode base, area code, weight
CITIES = [
    ("São Paulo", "SP", 1000, "11", 22), ("Campinas", "SP", 13010, "19", 5),
    ("Santos", "SP", 11010, "13", 3), ("Ribeirão Preto", "SP", 14010, "16", 3),
    ("Sorocaba", "SP", 18010, "15", 2), ("Rio de Janeiro", "RJ", 20000, "21", 12),
    ("Niterói", "RJ", 24020, "21", 3), ("Petrópolis", "RJ", 25600, "24", 1),
    ("Belo Horizonte", "MG", 30110, "31", 7), ("Uberlândia", "MG", 38400, "34", 2),
    ("Juiz de Fora", "MG", 36010, "32", 2), ("Curitiba", "PR", 80010, "41", 5),
    ("Londrina", "PR", 86010, "43", 2), ("Porto Alegre", "RS", 90010, "51", 4),
    ("Florianópolis", "SC", 88010, "48", 3), ("Joinville", "SC", 89201, "47", 2),
    ("Salvador", "BA", 40010, "71", 3), ("Recife", "PE", 50010, "81", 3),
    ("Fortaleza", "CE", 60010, "85", 2), ("Brasília", "DF", 70040, "61", 4),
    ("Goiânia", "GO", 74003, "62", 2), ("Vitória", "ES", 29010, "27", 2),
    ("Manaus", "AM", 69005, "92", 1), ("Belém", "PA", 66010, "91", 1),
]
FIRST_NAMES = [
    "Ana", "Beatriz", "Bruno", "Camila", "Carlos", "Daniela", "Diego", "Eduardo", "Fernanda",
    "Gabriel", "Gustavo", "Helena", "Isabela", "João", "Juliana", "Larissa", "Leonardo",
    "Lucas", "Luana", "Marcelo", "Mariana", "Mateus", "Natália", "Paulo", "Pedro", "Rafael",
    "Renata", "Rodrigo", "Sofia", "Thiago", "Vanessa", "Vinícius",
]
SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Araújo", "Cardoso", "Nascimento", "Moreira",
]
STREETS = [
    "Rua das Flores", "Avenida Paulista", "Rua XV de Novembro", "Avenida Brasil",
    "Rua São Bento", "Rua da Consolação", "Avenida Atlântica", "Rua Augusta",
    "Avenida Afonso Pena", "Rua Sete de Setembro", "Avenida Beira-Mar", "Rua Bahia",
    "Rua Marechal Deodoro", "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua Dom Pedro II",
]
LINE2 = ["", "", "", "Apto 12", "Apto 304, Bloco B", "Casa 2", "Fundos", "Sala 801"]
NOTES = ["", "", "", "", "", "", "Leave with the doorman", "Gift: no prices on the slip",
         "Deliver after 2 pm", "Call before delivering"]

HOLD_REASONS = [
    "Fraud review: billing and shipping addresses differ",
    "Address incomplete: missing house number",
    "Customer asked to change the delivery address",
    "Payment under review by the card issuer",
    "Customer asked to add an item before shipping",
]
CANCEL_PENDING = ["Boleto expired: payment not received", "Customer request",
                  "Duplicate order"]
CANCEL_CONFIRMED = ["Customer request: bought elsewhere", "Customer changed their mind",
                    "Delivery address outside the service area"]
CANCEL_HELD = ["Fraud confirmed by the card issuer", "Customer did not confirm the address"]
# After-sales scenarios for delivered orders: name, how many, last step played.
AFTER_SALES = [
    ("refunded", 8, "refund"), ("closed", 2, "close"), ("received", 3, "receive"),
    ("approved", 3, "approve"), ("requested", 4, "request"), ("rejected", 2, "reject"),
    ("goodwill", 3, "goodwill"),
]
REJECT_REASONS = ["Outside the 30-day return window", "Item shows signs of use"]
RETURN_REASONS = {
    "apparel": [("size_fit", "Too small, I need one size up"),
                ("size_fit", "Fits too loose")],
    "electronics": [("defective", "Stopped charging after two days"),
                    ("defective", "Left earbud has no sound")],
    "kitchen": [("damaged", "Arrived with a crack"), ("damaged", "Box crushed, item dented")],
    "appliances": [("damaged", "Arrived with a crack")],
    "other": [("no_longer_needed", "Bought it twice by mistake"),
              ("not_as_described", "Colour differs from the photo"),
              ("wrong_item", "Received a different model"),
              ("arrived_late", "Arrived after the birthday")],
}

# fmt: on

# --------------------------------------------------------------------------- helpers


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit (weights 1, 3, 1, 3... from the left)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def s10_tracking(rng: random.Random, prefix: str) -> str:
    """A Correios-style (UPU S10) tracking number with its check digit: OJ123456785BR."""
    digits = [rng.randrange(10) for _ in range(8)]
    check = 11 - sum(d * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{''.join(map(str, digits))}{check}BR"


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ascii_text.lower().replace(" ", "")


class SimulatedClock:
    """While installed, ``timezone.now()`` returns ``current`` (real time when unset)."""

    def __init__(self) -> None:
        self.current: datetime | None = None
        self._real = timezone.now

    def now(self) -> datetime:
        return self.current if self.current is not None else self._real()

    @contextmanager
    def installed(self) -> Iterator["SimulatedClock"]:
        timezone.now = self.now
        try:
            yield self
        finally:
            timezone.now = self._real


@contextmanager
def tasks_inline() -> Iterator[None]:
    """Run django-q2 jobs queued on commit in-process (``sync``), not in the queue."""
    from django_q.conf import Conf

    previous = Conf.SYNC
    Conf.SYNC = True
    try:
        yield
    finally:
        Conf.SYNC = previous


def demo_present() -> bool:
    return Product.objects.filter(sku=MARKER_SKU).exists()


def ensure_users() -> dict:
    """Create or reset the demo users; returns username -> (user, password, token key)."""
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    result = {}
    for username, password, group_name, is_staff, _ in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = is_staff
        user.is_superuser = False
        user.is_active = True
        user.email = user.email or f"{username}@example.com"
        user.save()
        group, _ = Group.objects.get_or_create(name=group_name)
        user.groups.set([group])
        token = None
        if group_name == roles.INTEGRATION:
            token = Token.objects.get_or_create(user=user)[0].key
        result[username] = (user, password, token)
    return result


# --------------------------------------------------------------------------- the plan


@dataclass
class Person:
    name: str
    email: str
    phone: str
    address: dict


@dataclass
class Plan:
    """One order: who, what, when, and the scenario it plays to the end."""

    scenario: str
    channel: str
    placed_at: datetime
    lines: list[tuple[str, int]]
    person: Person | None
    address: dict
    payment: str  # marketplace, pix, card, boleto, pos
    notes: str = ""
    index: int = 0
    after_sales: str = ""
    external_id: str = ""
    order: Order | None = None
    rma: ReturnRequest | None = None
    times: dict = field(default_factory=dict)


@dataclass
class DemoProduct:
    sku: str
    name: str
    category: str
    price: Decimal
    grams: int
    dims: tuple
    lead: int
    popularity: int
    profile: str


class DemoSeeder:
    """Plans the demo (``build``), then plays it (``run``)."""

    def __init__(self, *, now: datetime) -> None:
        self.now0 = now.replace(second=0, microsecond=0)
        # Contents (catalogue, customers, orders) come from ``rng`` in a fixed order, so
        # they are the same on every run. Dates come from ``trng``; where a date must be
        # redrawn (it fell after now) only ``trng`` moves, never the contents.
        self.rng = random.Random(SEED)
        self.trng = random.Random(SEED + 1)
        self.exec_rng = random.Random(SEED + 2)  # tracking numbers
        self.clock = SimulatedClock()
        self.steps: list[tuple[datetime, int, Callable, tuple]] = []
        self.plans: list[Plan] = []
        self.waves: dict[tuple[datetime, bool], list[Plan]] = defaultdict(list)
        self.pick_lists: dict[tuple[datetime, bool], list[PickList]] = {}
        self.products = self._catalogue()
        self.product_meta = {p.sku: p for p in self.products}
        self.people = [self._person(i) for i in range(120)]

    # ---------------------------------------------------------------- time helpers

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now0 - timedelta(days=days, hours=hours, minutes=minutes)

    def between(self, lo: datetime, hi: datetime) -> datetime:
        span = (hi - lo).total_seconds()
        return lo + timedelta(seconds=int(self.trng.random() * span))

    def daytime(self, lo: datetime, hi: datetime) -> datetime:
        """A moment between lo and hi, moved into shopping hours (11:00-01:00 UTC)."""
        t = self.between(lo, hi)
        if 1 <= t.hour < 11:
            t = t.replace(hour=self.trng.randint(11, 22))
        return min(max(t, lo), hi)

    @staticmethod
    def _working(day: datetime) -> bool:
        return day.weekday() != 6  # the warehouse works Monday to Saturday

    def next_slot(self, t: datetime) -> datetime:
        """Pick waves start at 12:00 and 17:00 UTC (9:00 and 14:00 in Brasília)."""
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        while True:
            if self._working(day):
                for hour in (12, 17):
                    slot = day.replace(hour=hour)
                    if slot >= t:
                        return slot
            day += timedelta(days=1)

    def prev_slot(self, t: datetime) -> datetime:
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        while True:
            if self._working(day):
                for hour in (17, 12):
                    slot = day.replace(hour=hour)
                    if slot <= t:
                        return slot
            day -= timedelta(days=1)

    def pickup(self, t: datetime) -> datetime:
        """Carriers collect at 20:00 UTC, Monday to Friday."""
        day = t.replace(hour=20, minute=0, second=0, microsecond=0)
        while day < t + timedelta(minutes=20) or day.weekday() >= 5:
            day = (day + timedelta(days=1)).replace(hour=20)
        return day + timedelta(minutes=self.trng.randint(0, 50))

    # ---------------------------------------------------------------- catalogue and people

    def _catalogue(self) -> list[DemoProduct]:
        products = []
        for base, name, category, price, grams, dims, lead, pop, profile, variants in CATALOGUE:
            for suffix, label in variants or [("", "")]:
                products.append(
                    DemoProduct(
                        sku=f"{base}-{suffix}" if suffix else base,
                        name=f"{name}, {label}" if label else name,
                        category=category,
                        price=Decimal(price),
                        grams=grams,
                        dims=dims,
                        lead=lead,
                        popularity=pop,
                        profile=profile,
                    )
                )
        return products

    def _person(self, i: int) -> Person:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        city, region, base, ddd, _ = rng.choices(CITIES, weights=[c[4] for c in CITIES])[0]
        phone = f"+55 {ddd} 9{rng.randint(6000, 9999)}-{rng.randint(1000, 9999)}"
        name = f"{first} {last}"
        return Person(
            name=name,
            email=f"{slug(first)}.{slug(last)}{i + 1}@example.com",
            phone=phone,
            address={
                "name": name,
                "line1": f"{rng.choice(STREETS)}, {rng.randint(10, 2500)}",
                "line2": rng.choice(LINE2),
                "city": city,
                "region": region,
                "postcode": f"{base + rng.randrange(0, 900):05d}-{rng.randrange(0, 1000):03d}",
                "country": "BR",
                "phone": phone,
            },
        )

    def pick_lines(self, profiles, *, max_lines=3) -> list[tuple[str, int]]:
        pool = [p for p in self.products if p.profile in profiles]
        count = self.rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
        chosen: list[tuple[str, int]] = []
        for _ in range(min(count, max_lines)):
            p = self.rng.choices(pool, weights=[p.popularity for p in pool])[0]
            if p.sku not in {sku for sku, _ in chosen}:
                chosen.append((p.sku, self.rng.choices((1, 2, 3), weights=(80, 15, 5))[0]))
        return chosen

    # ---------------------------------------------------------------- planning

    def plan(self, scenario: str, *, channel=None, lines=None, payment=None) -> Plan:
        """A new order's contents (who, where, what, how it is paid); dates come later."""
        rng = self.rng
        channel = (
            channel or rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        )
        person = rng.choice(self.people)
        if channel in MARKETPLACES:
            payment = "marketplace"
        elif payment is None:
            payment = rng.choices(("pix", "card", "boleto"), weights=(40, 45, 15))[0]
        plan = Plan(
            scenario=scenario,
            channel=channel,
            placed_at=self.now0,
            lines=lines or self.pick_lines(SHIPPABLE),
            person=person,
            address=dict(person.address),
            payment=payment,
            notes=rng.choice(NOTES),
            index=len(self.plans) + 1,
        )
        self.plans.append(plan)
        return plan

    @staticmethod
    def content_rng(plan: Plan, what: str) -> random.Random:
        """Choices made while the demo plays (which line comes back, and why) depend only
        on the order, not on the order in which steps happen to run."""
        return random.Random(f"{SEED}:{plan.index}:{what}")

    def at(self, when: datetime, fn: Callable, *args) -> None:
        if when > self.now0 - timedelta(minutes=1):
            raise AssertionError(f"demo step {fn.__name__} planned in the future ({when})")
        self.steps.append((when, len(self.steps), fn, args))

    STAGES = ("confirmed", "picking", "picked", "packed", "shipped", "delivered")

    def flow(self, plan: Plan, target: str, *, slot: datetime | None = None) -> dict:
        """Date the usual life of an order up to ``target`` (one of STAGES, or
        ``partial_shipped``: packed here, its 3PL part shipped). Marketplaces confirm by
        themselves; web orders are confirmed by the manager once paid."""
        rng, t = self.trng, plan.placed_at
        alias = {"partial_shipped": "shipped", "allocated": "confirmed"}
        reach = self.STAGES.index(alias.get(target, target))
        times: dict = {"placed": t}
        if plan.payment == "pix":
            times["paid"] = t + timedelta(minutes=rng.randint(2, 15))
        elif plan.payment == "boleto":
            times["paid"] = t + timedelta(hours=rng.randint(20, 40))
        ready = times.get("paid", t)
        if plan.channel in ("amazon-br", "mercadolivre"):
            times["confirmed"] = t + timedelta(minutes=rng.randint(2, 10))
        elif slot is not None or reach == 0:
            times["confirmed"] = ready + timedelta(minutes=rng.randint(5, 20))
        else:
            times["confirmed"] = ready + timedelta(minutes=rng.randint(15, 180))
        if reach >= 1:
            times["wave"] = slot or self.next_slot(times["confirmed"] + timedelta(minutes=20))
            times["wave_done"] = times["wave"] + timedelta(minutes=45) if reach >= 2 else None
        if reach >= 3:
            times["packed"] = times["wave"] + timedelta(minutes=rng.randint(60, 150))
        if reach >= 4:
            times["shipped"] = self.pickup(times["packed"])
        if reach >= 5:
            days = self.transit_days(plan) + rng.choices((0, 1, 2), (70, 20, 10))[0]
            times["delivered"] = add_business_days(times["shipped"], days).replace(
                hour=rng.randint(12, 21), minute=rng.randint(0, 59)
            )
        plan.times = times
        return times

    def timed(
        self,
        plan: Plan,
        target: str,
        when: Callable[[], datetime],
        *,
        slot: datetime | None = None,
        schedule: bool = True,
    ) -> Plan:
        """Draw the plan's dates until its last step falls before now, then schedule it."""
        for _attempt in range(50):
            plan.placed_at = when()
            times = self.flow(plan, target, slot=slot)
            if max(t for t in times.values() if t) + timedelta(minutes=30) < self.now0:
                if schedule:
                    self.schedule(plan, target)
                return plan
        raise AssertionError(f"could not date a demo order ({target}) before now")

    def schedule(self, plan: Plan, target: str) -> None:
        times = plan.times
        self.at(times["placed"], self.do_place, plan)
        if "paid" in times:
            self.at(times["paid"], self.do_pay, plan)
        self.at(times["confirmed"], self.do_confirm, plan)
        if "wave" in times:
            self.waves[(times["wave"], times["wave_done"] is not None)].append(plan)
        if "packed" in times:
            self.at(times["packed"], self.do_pack, plan)
        if "shipped" in times:
            self.at(times["shipped"], self.do_ship, plan, target == "partial_shipped")
        if "delivered" in times:
            self.at(times["delivered"], self.do_deliver, plan)

    def transit_days(self, plan: Plan) -> int:
        zone = ZONES.get(plan.address["region"], 3)
        express = plan.channel == "amazon-br"
        return SERVICES[1 if express else 0][5][zone]

    def build(self) -> None:
        rng, trng, ago = self.rng, self.trng, self.ago

        # Delivered, over the last three months; some come back (see plan_returns).
        after_sales = [s for s, n, _ in AFTER_SALES for _ in range(n)]
        after_sales += [""] * (DELIVERED_ORDERS - len(after_sales))
        rng.shuffle(after_sales)
        for after in after_sales:
            plan = self.plan("delivered")
            plan.after_sales = after
            lo, hi = (24, 12) if after in ("requested", "approved") else (90, 30 if after else 12)
            self.timed(plan, "delivered", lambda lo=lo, hi=hi: self.daytime(ago(lo), ago(hi)))
            if after:
                self.plan_after_sales(plan)

        # Walk-in sales at the Rio store: paid, handed over and done at the counter.
        store = WAREHOUSES[2]
        store_address = {
            "name": "",
            "line1": store[6],
            "city": store[3],
            "region": store[4],
            "postcode": store[5],
            "country": "BR",
        }
        for _ in range(6):
            lines = self.pick_lines(("store",), max_lines=2)
            plan = self.plan("pos", channel="pos", lines=lines, payment="pos")
            if rng.random() < 0.5:
                plan.person = None
            plan.address = dict(store_address, name=plan.person.name if plan.person else "")
            plan.notes = ""
            t = self.between(ago(days=88), ago(days=1)).replace(hour=trng.randint(13, 21))
            plan.placed_at = t
            self.at(t, self.do_place, plan)
            self.at(t + timedelta(minutes=1), self.do_confirm, plan)
            self.at(t + timedelta(minutes=3), self.do_counter_sale, plan)

        # Speakers sold out: backordered until the purchase order lands, then shipped.
        po_at = ago(days=PO_DAYS_AGO)
        for _ in range(4):
            lines = [("SPEAKER-BT", 1)]
            if rng.random() < 0.5:
                lines += self.pick_lines(WAVE_PICKED, max_lines=1)
            plan = self.plan("backorder_filled", lines=lines, payment="pix")
            self.timed(plan, "confirmed", lambda: self.daytime(ago(days=40), ago(days=25)))
            # The rest of its life is dated from the purchase order.
            resume = Plan(**{**plan.__dict__, "placed_at": po_at + timedelta(hours=2)})
            rest = self.flow(resume, "delivered")
            self.waves[(rest["wave"], True)].append(plan)
            self.at(rest["packed"], self.do_pack, plan)
            self.at(rest["shipped"], self.do_ship, plan, False)
            self.at(rest["delivered"], self.do_deliver, plan)
            plan.times["delivered"] = rest["delivered"]
        self.at(po_at, self.do_purchase_order, "SPEAKER-BT", 60)

        # In transit.
        for _ in range(16):
            plan = self.plan("shipped")
            self.timed(plan, "shipped", lambda: self.daytime(ago(days=6), ago(days=2)))

        # Split between SP-01 and the 3PL: the 3PL part shipped, ours packed.
        for _ in range(3):
            lines = self.pick_lines(WAVE_PICKED, max_lines=1)
            lines += self.pick_lines(("mg",), max_lines=1)
            plan = self.plan("partial_shipped", lines=lines, payment="card")
            self.timed(plan, "partial_shipped", lambda: self.daytime(ago(days=4), ago(days=2)))

        # Today's floor work: the last two waves, one done and one under way.
        last = self.prev_slot(ago(minutes=90))
        before = self.prev_slot(last - timedelta(minutes=1))
        earlier = self.prev_slot(before - timedelta(minutes=1))
        for target, count, wave, lo, hi in (
            ("packed", 6, before, earlier, before - timedelta(minutes=60)),
            ("picked", 5, last, before, last - timedelta(minutes=60)),
            ("picking", 5, last, before, last - timedelta(minutes=60)),
            ("picking_partial", 2, last, before, last - timedelta(minutes=60)),
            ("allocated", 10, None, last + timedelta(minutes=5), ago(minutes=45)),
        ):
            for _ in range(count):
                if target == "picking_partial":
                    lines = [(self.pick_lines(WAVE_PICKED, max_lines=1)[0][0], 3)]
                else:
                    lines = self.pick_lines(WAVE_PICKED)
                payment = "pix" if rng.random() < 0.5 else "card"
                plan = self.plan(target, lines=lines, payment=payment)
                flow_target = "picking" if target == "picking_partial" else target
                self.timed(plan, flow_target, lambda lo=lo, hi=hi: self.between(lo, hi), slot=wave)
                if target == "picking_partial":
                    self.at(wave + timedelta(minutes=25), self.do_partial_pick, plan)

        # Waiting for stock that is not coming soon (air fryers, smartwatches, keyboards).
        oos = [p.sku for p in self.products if p.profile == "oos"]
        for i in range(8):
            lines = [(oos[i % len(oos)], 1)]
            if i % 2:
                lines += self.pick_lines(WAVE_PICKED, max_lines=1)
            plan = self.plan("backordered", lines=lines, payment="card")
            self.timed(plan, "confirmed", lambda: self.daytime(ago(days=20), ago(days=1)))

        # New, not confirmed yet: boletos waiting for payment, orders that just came in.
        for _ in range(12):
            channel = rng.choice(["web", "web", "web", "instagram", "api"])
            payment = "boleto" if rng.random() < 0.6 else None
            plan = self.plan("pending", channel=channel, payment=payment)
            plan.placed_at = self.between(ago(hours=30), ago(minutes=10))
            self.at(plan.placed_at, self.do_place, plan)

        # On hold: before confirmation, and after it (the reservation stays).
        for _ in range(5):
            plan = self.plan("on_hold", channel="web", payment="card")
            reason = rng.choice(HOLD_REASONS)
            plan.placed_at = t = self.daytime(ago(hours=36), ago(hours=4))
            self.at(t, self.do_place, plan)
            self.at(t + timedelta(minutes=trng.randint(20, 180)), self.do_hold, plan, reason)
        for _ in range(3):
            lines = self.pick_lines(WAVE_PICKED)
            plan = self.plan("confirmed_on_hold", channel="web", lines=lines, payment="pix")
            reason = rng.choice(HOLD_REASONS)
            times = self.timed(
                plan, "confirmed", lambda: self.daytime(ago(days=3), ago(hours=8))
            ).times
            hold_at = times["confirmed"] + timedelta(minutes=trng.randint(30, 120))
            self.at(min(hold_at, ago(minutes=5)), self.do_hold, plan, reason)

        # Cancelled: unpaid, after confirmation (stock released, money back), after a hold.
        for _ in range(6):
            plan = self.plan("cancelled", channel="web", payment="boleto")
            reason = rng.choice(CANCEL_PENDING)
            plan.placed_at = t = self.daytime(ago(days=80), ago(days=3))
            days = 3 if reason.startswith("Boleto") else trng.uniform(0.1, 1)
            self.at(t, self.do_place, plan)
            self.at(t + timedelta(days=days), self.do_cancel, plan, reason)
        for _ in range(5):
            plan = self.plan("cancelled_confirmed")
            reason = rng.choice(CANCEL_CONFIRMED)
            times = self.timed(
                plan, "confirmed", lambda: self.daytime(ago(days=80), ago(days=3))
            ).times
            cancel_at = times["confirmed"] + timedelta(minutes=trng.randint(15, 90))
            self.at(cancel_at, self.do_cancel, plan, reason)
        for _ in range(3):
            plan = self.plan("cancelled_held", channel="web", payment="card")
            reason = rng.choice(CANCEL_HELD)
            plan.placed_at = t = self.daytime(ago(days=60), ago(days=2))
            self.at(t, self.do_place, plan)
            self.at(t + timedelta(minutes=30), self.do_hold, plan, HOLD_REASONS[0])
            self.at(t + timedelta(hours=20), self.do_cancel, plan, reason)

        for slot, done in sorted(self.waves):
            self.at(slot, self.do_wave, (slot, done))
            if done:
                self.at(slot + timedelta(minutes=45), self.do_wave_done, (slot, done))
        self.plan_stock()
        self.number_external_ids()

    def plan_after_sales(self, plan: Plan) -> None:
        """Date a delivered order's return (or goodwill refund) after its delivery,
        squeezed into the time left before now when the order was delivered lately."""
        trng, scenario = self.trng, plan.after_sales
        last_step = dict((s, last) for s, _, last in AFTER_SALES)[scenario]
        d = plan.times["delivered"]
        gaps = {
            "goodwill": timedelta(days=trng.uniform(0.5, 3)),
            "request": timedelta(days=trng.uniform(1, 8)),
            "approve": timedelta(hours=trng.randint(3, 28)),
            "receive": timedelta(days=trng.uniform(3, 6)),
            "refund": timedelta(hours=trng.randint(2, 26)),
            "close": timedelta(days=trng.uniform(1, 3)),
        }
        order = ["goodwill"] if scenario == "goodwill" else ["request"]
        if scenario == "rejected":
            order.append("reject")
            gaps["reject"] = gaps["approve"]
        elif last_step != "request" and scenario != "goodwill":
            steps = ["approve", "receive", "refund", "close"]
            order += steps[: steps.index(last_step) + 1]
        total = sum((gaps[step] for step in order), timedelta())
        room = self.ago(minutes=30) - d
        scale = min(1.0, room / total)
        t = d
        for step in order:
            t += gaps[step] * scale
            self.at(t, getattr(self, f"do_return_{step}"), plan)

    def plan_stock(self) -> None:
        """Opening stock (one delivery per point), restocks of the best sellers, a
        transfer to the Rio store and two stock counts."""
        self.at(self.ago(days=100), self.do_catalogue)
        opening: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for p in self.products:
            for code in PROFILE_POINTS[p.profile]:
                if code == "SP-01":
                    qty = 30 + p.popularity * 12 + self.rng.randint(0, 20)
                elif code == "MG-01":
                    qty = 20 + p.popularity * 8 + self.rng.randint(0, 10)
                else:
                    qty = self.rng.randint(3, 12)
                opening[code].append((p.sku, qty))
        for i, (code, lines) in enumerate(opening.items()):
            self.at(self.ago(days=95, hours=-i), self.do_opening_stock, code, lines)
        best_sellers = [p for p in self.products if p.popularity >= 7]
        for days, ref in ((60, "PO-REPLENISH-1"), (30, "PO-REPLENISH-2")):
            for i, p in enumerate(best_sellers):
                when = self.ago(days=days) + timedelta(minutes=i)
                self.at(when, self.do_receive, p.sku, "SP-01", 10 * p.popularity, ref)
        for i, sku in enumerate(("TSHIRT-BLK-M", "TSHIRT-WHT-M", "SNEAKER-41")):
            self.at(self.ago(days=45) + timedelta(minutes=i), self.do_transfer, sku, 4)
        self.at(self.ago(days=10), self.do_count, "MUG-WHT", "SP-01", -1, "Cycle count")
        self.at(
            self.ago(days=9), self.do_count, "TOWEL-GRY", "SP-01", -2, "Water damage in aisle B"
        )

    def number_external_ids(self) -> None:
        """The channels' own order ids (web ones numbered in the order they came in)."""
        for n, plan in enumerate(self.plans, start=1):
            rng = random.Random(SEED * 1000 + n)
            if plan.channel == "amazon-br":
                plan.external_id = (
                    f"702-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}"
                )
            elif plan.channel == "mercadolivre":
                plan.external_id = f"20000{rng.randint(10**8, 10**9 - 1)}"
            elif plan.channel == "pos":
                plan.external_id = f"PDV-RJ-{n:05d}"
            elif plan.channel == "api":
                plan.external_id = f"B2B-{n:05d}"
            elif plan.channel == "csv":
                plan.external_id = f"CSV-{n:05d}"
        web = [p for p in self.plans if p.channel in ("web", "instagram")]
        for number, plan in enumerate(sorted(web, key=lambda p: p.placed_at), start=10421):
            plan.external_id = str(number)

    # ---------------------------------------------------------------- execution

    def run(self) -> None:
        self.users = ensure_users()
        self.manager = self.users["manager"][0]
        self.floor = self.users["warehouse"][0]
        self.integration = self.users["integration"][0]
        self.build()
        with self.clock.installed():
            for when, _, fn, args in sorted(self.steps, key=lambda s: (s[0], s[1])):
                self.clock.current = when
                fn(*args)
        self.clock.current = None

    # the steps -------------------------------------------------------------------

    def do_catalogue(self) -> None:
        self.warehouses = {}
        for code, name, kind, city, region, postcode, _, lat, lon, priority in WAREHOUSES:
            wh, _ = Warehouse.objects.get_or_create(
                code=code,
                defaults=dict(
                    name=name,
                    kind=kind,
                    country="BR",
                    region=region,
                    city=city,
                    postcode=postcode,
                    latitude=Decimal(lat),
                    longitude=Decimal(lon),
                    priority=priority,
                    daily_capacity=DAILY_CAPACITY.get(code),
                ),
            )
            self.warehouses[code] = wh
        self.channels = {}
        for code, name, kind, auto_confirm, handling, strategy in CHANNELS:
            self.channels[code], _ = Channel.objects.get_or_create(
                code=code,
                defaults=dict(
                    name=name,
                    kind=kind,
                    auto_confirm=auto_confirm,
                    handling_days=handling,
                    routing_strategy=strategy,
                ),
            )
        self.product_rows = {}
        for i, p in enumerate(self.products, start=1):
            self.product_rows[p.sku] = Product.objects.create(
                sku=p.sku,
                name=p.name,
                barcode=ean13(f"7896543{i:05d}"),
                weight_grams=p.grams,
                length_cm=Decimal(p.dims[0]),
                width_cm=Decimal(p.dims[1]),
                height_cm=Decimal(p.dims[2]),
                price=p.price,
                lead_time_days=p.lead,
            )
            if p.profile in ("oos", "po"):
                # Listed, with a pick location, but nothing on the shelf yet.
                level, _ = StockLevel.objects.get_or_create(
                    product=self.product_rows[p.sku], warehouse=self.warehouses["SP-01"]
                )
                inventory_services.stock_set_location(
                    level=level, bin=self.bin_for(i, "SP-01"), reorder_point=5
                )
        self.create_carriers()

    def bin_for(self, i: int, code: str) -> str:
        if self.warehouses[code].kind == Warehouse.Kind.STORE:
            return f"L-{i // 12 + 1:02d}-{i % 4 + 1:02d}"
        aisle = "ABCDEF"[(i // 12) % 6]
        return f"{aisle}-{(i % 12) // 3 + 1:02d}-{i % 3 + 1:02d}"

    def create_carriers(self) -> None:
        rates = []
        for carrier_code, carrier_name, code, name, base, transit in SERVICES:
            carrier, _ = Carrier.objects.get_or_create(
                code=carrier_code,
                defaults={
                    "name": carrier_name,
                    "tracking_url_template": TRACKING_URLS.get(carrier_code, ""),
                },
            )
            service, _ = CarrierService.objects.get_or_create(
                carrier=carrier, code=code, defaults={"name": name}
            )
            if service.rates.exists():
                continue
            regions = [(region, zone) for region, zone in ZONES.items()] + [("", 3)]
            for region, zone in regions:
                for low, high, factor in BANDS:
                    price = (base * ZONE_FACTOR[zone] * factor).quantize(Decimal("1"))
                    rates.append(
                        ShippingRate(
                            service=service,
                            country="BR",
                            region=region,
                            min_weight_grams=low,
                            max_weight_grams=high,
                            price=price - Decimal("0.10"),
                            currency=CURRENCY,
                            transit_days=transit[zone],
                        )
                    )
        ShippingRate.objects.bulk_create(rates)
        self.create_easyparcel()

    def create_easyparcel(self) -> None:
        """An EasyParcel carrier pointed at the development fake ``make run`` starts
        (``manage.py run_fake_easyparcel``): real quotation, booking and tracking shapes
        without an account. Its refresh token is the demo's; the fake takes it."""
        carrier, created = Carrier.objects.get_or_create(
            code="easyparcel",
            defaults={
                "name": "EasyParcel (demo fake)",
                "kind": Carrier.Kind.EASYPARCEL,
                "base_url": settings.OMS_DEMO_EASYPARCEL_URL,
                "client_id": "demo-client",
                "client_secret": "demo-secret",
                "webhook_secret": secrets.token_urlsafe(24),
            },
        )
        if created:
            CarrierToken.objects.create(carrier=carrier, refresh_token="demo-refresh-token")

    def do_receive(self, sku: str, code: str, qty: int, reference: str) -> None:
        inventory_services.stock_receive(
            product=self.product_rows[sku],
            warehouse=self.warehouses[code],
            quantity=qty,
            reference=reference,
            note="Supplier delivery",
            actor=self.floor,
        )
        self.set_location(sku, code)

    def do_opening_stock(self, code: str, lines: list[tuple[str, int]]) -> None:
        """The opening stock of a point arrives as one delivery: one ``receipt`` movement
        per product, as ``stock_receive`` writes, in one ``stock_apply`` call (so one
        backorder job is queued for the delivery, not one per product)."""
        warehouse = self.warehouses[code]
        inventory_services.stock_apply(
            changes=[
                inventory_services.StockChange(
                    self.product_rows[sku].pk,
                    warehouse.pk,
                    StockMovement.Kind.RECEIPT,
                    qty,
                    0,
                    f"PO-OPENING-{code}",
                    "Opening stock",
                )
                for sku, qty in lines
            ],
            actor=self.floor,
            create_missing=True,
        )
        for sku, _ in lines:
            self.set_location(sku, code)

    def set_location(self, sku: str, code: str) -> None:
        level = StockLevel.objects.get(product=self.product_rows[sku], warehouse__code=code)
        if not level.bin:
            meta = self.product_meta[sku]
            inventory_services.stock_set_location(
                level=level,
                bin=self.bin_for(self.products.index(meta) + 1, code),
                reorder_point=max(2, meta.popularity * (3 if code == "SP-01" else 1)),
            )

    def do_purchase_order(self, sku: str, qty: int) -> None:
        self.do_receive(sku, "SP-01", qty, "PO-SPEAKERS")
        # What the queued job does when stock arrives: oldest backorders first.
        fulfillment_services.allocate_backorders(
            product_ids=[self.product_rows[sku].pk], actor="system"
        )

    def do_transfer(self, sku: str, qty: int) -> None:
        inventory_services.stock_transfer(
            product=self.product_rows[sku],
            source=self.warehouses["SP-01"],
            destination=self.warehouses["RJ-01"],
            quantity=qty,
            reference="TR-RJ-STORE",
            note="Store replenishment",
            actor=self.floor,
        )

    def do_count(self, sku: str, code: str, delta: int, reason: str) -> None:
        level = StockLevel.objects.get(product=self.product_rows[sku], warehouse__code=code)
        if level.available >= -delta:
            inventory_services.stock_adjust(
                product=self.product_rows[sku],
                warehouse=self.warehouses[code],
                reason=reason,
                counted=level.on_hand + delta,
                actor=self.floor,
            )

    def do_place(self, plan: Plan) -> None:
        person = plan.person
        financial = {
            "marketplace": Order.FinancialStatus.PAID,
            "pos": Order.FinancialStatus.PAID,
            "card": Order.FinancialStatus.AUTHORIZED,
        }.get(plan.payment, Order.FinancialStatus.PENDING)
        subtotal = sum(self.product_meta[sku].price * q for sku, q in plan.lines)
        if plan.channel == "pos" or subtotal >= 299:
            shipping = Decimal("0.00")
        else:
            shipping = (Decimal("12.90"), Decimal("19.90"), Decimal("24.90"), Decimal("32.90"))[
                ZONES.get(plan.address["region"], 3)
            ]
        actor = self.integration if plan.channel in MARKETPLACES else None
        plan.order, _ = order_services.order_place(
            channel=self.channels[plan.channel],
            external_id=plan.external_id,
            customer=(
                {"email": person.email, "name": person.name, "phone": person.phone}
                if person
                else {}
            ),
            shipping_address=plan.address,
            currency=CURRENCY,
            lines=[{"sku": sku, "quantity": q} for sku, q in plan.lines],
            shipping_total=shipping,
            placed_at=self.clock.current,
            financial_status=financial,
            notes=plan.notes,
            actor=actor,
        )

    def do_pay(self, plan: Plan) -> None:
        order_services.order_mark_paid(order=plan.order, actor="system")

    def do_confirm(self, plan: Plan) -> None:
        order = plan.order
        if order.financial_status == Order.FinancialStatus.AUTHORIZED:
            order_services.order_mark_paid(order=order, actor=self.manager)  # card captured
        auto = self.channels[plan.channel].auto_confirm
        fulfillment_services.order_confirm_and_allocate(
            order=order, actor="system" if auto else self.manager
        )

    def do_hold(self, plan: Plan, reason: str) -> None:
        order_services.order_hold(order=plan.order, reason=reason, actor=self.manager)

    def do_cancel(self, plan: Plan, reason: str) -> None:
        order = plan.order
        fulfillment_services.order_cancel_and_release(
            order=order, reason=reason, actor=self.manager
        )
        order.refresh_from_db()
        if order.financial_status == Order.FinancialStatus.PAID:
            return_services.refund_create(
                order=order,
                amount=order.total,
                reference=f"Cancellation of {order.number}",
                actor=self.manager,
            )

    def open_shipments(self, plan: Plan, status=None) -> list[Shipment]:
        qs = plan.order.shipments.select_related("warehouse", "order").order_by("pk")
        return list(qs.filter(status__in=status or OPEN_SHIPMENT_STATUSES))

    def do_wave(self, key) -> None:
        """Create the wave's pick lists: one per point, our own points only (the 3PL
        picks in its own system and ships straight from ``allocated``)."""
        by_point = defaultdict(list)
        for plan in self.waves[key]:
            for shipment in self.open_shipments(plan, [Shipment.Status.ALLOCATED]):
                if shipment.warehouse.kind != Warehouse.Kind.THIRD_PARTY:
                    by_point[shipment.warehouse.code].append(shipment)
        self.pick_lists[key] = [
            fulfillment_services.pick_list_create(
                warehouse=self.warehouses[code],
                shipments=shipments,
                actor=self.floor,
                assigned_to=self.floor,
            )
            for code, shipments in sorted(by_point.items())
        ]

    def do_wave_done(self, key) -> None:
        for pick_list in self.pick_lists.get(key, []):
            fulfillment_services.pick_list_complete(pick_list=pick_list, actor=self.floor)

    def do_partial_pick(self, plan: Plan) -> None:
        for shipment in self.open_shipments(plan, [Shipment.Status.PICKING]):
            line = shipment.lines.order_by("pk").first()
            fulfillment_services.shipment_pick(
                shipment=shipment, quantities={line.pk: line.quantity - 1}, actor=self.floor
            )

    def do_pack(self, plan: Plan) -> None:
        for shipment in self.open_shipments(plan, [Shipment.Status.PICKED]):
            fulfillment_services.shipment_pack(shipment=shipment, actor=self.floor)

    def do_ship(self, plan: Plan, third_party_only: bool) -> None:
        for shipment in self.open_shipments(plan):
            third_party = shipment.warehouse.kind == Warehouse.Kind.THIRD_PARTY
            if third_party_only and not third_party:
                continue
            if third_party:
                carrier, service = "jadlog", "package"
            elif plan.channel == "amazon-br" or plan.order.total >= 500:
                carrier, service = "correios", "sedex"
            else:
                carrier, service = "correios", "pac"
            weight = shipment.weight_grams or sum(
                sl.order_line.product.weight_grams * sl.quantity
                for sl in shipment.lines.select_related("order_line__product")
            )
            rate = self.rate(carrier, service, plan.address["region"], weight)
            rng = self.exec_rng
            if carrier == "correios":
                tracking = s10_tracking(rng, rng.choice(["OJ", "QB", "NX", "PM", "LB"]))
            else:
                tracking = f"{rng.randrange(10**13, 10**14)}"
            fulfillment_services.shipment_ship(
                shipment=shipment,
                carrier=carrier,
                service=service,
                tracking_number=tracking,
                shipping_cost=rate.price if rate else None,
                estimated_delivery=add_business_days(
                    self.clock.current, rate.transit_days if rate else 5
                ).date(),
                actor=self.integration if third_party else self.floor,
            )

    def rate(self, carrier: str, service: str, region: str, weight: int):
        weight = min(weight, 29_999)
        return (
            ShippingRate.objects.filter(
                service__carrier__code=carrier,
                service__code=service,
                country="BR",
                region__in=[region, ""],
                min_weight_grams__lte=weight,
                max_weight_grams__gt=weight,
            )
            .order_by("-region")
            .first()
        )

    def do_deliver(self, plan: Plan) -> None:
        for shipment in self.open_shipments(plan, [Shipment.Status.SHIPPED]):
            fulfillment_services.shipment_deliver(shipment=shipment, actor="system")

    def do_counter_sale(self, plan: Plan) -> None:
        for shipment in self.open_shipments(plan):
            fulfillment_services.shipment_ship(
                shipment=shipment, service="counter", actor=self.floor
            )
            fulfillment_services.shipment_deliver(shipment=shipment, actor=self.floor)

    def do_return_request(self, plan: Plan) -> None:
        rng = self.content_rng(plan, "return")
        lines = [ol for ol in plan.order.lines.order_by("pk") if ol.quantity_shipped]
        line = rng.choice(lines)
        category = self.product_meta[line.sku].category
        reason, comment = rng.choice(RETURN_REASONS.get(category, RETURN_REASONS["other"]))
        plan.rma = return_services.return_request(
            order=plan.order,
            lines=[
                {"order_line": line, "quantity": 1, "reason": reason, "customer_comment": comment}
            ],
            actor="customer",
        )

    def do_return_approve(self, plan: Plan) -> None:
        return_services.return_approve(return_request=plan.rma, actor=self.manager)

    def do_return_reject(self, plan: Plan) -> None:
        return_services.return_reject(
            return_request=plan.rma,
            reason=self.content_rng(plan, "reject").choice(REJECT_REASONS),
            actor=self.manager,
        )

    def do_return_receive(self, plan: Plan) -> None:
        entries = []
        rng = self.content_rng(plan, "receive")
        for rl in plan.rma.lines.order_by("pk"):
            damaged = rl.reason in (ReturnLine.Reason.DAMAGED, ReturnLine.Reason.DEFECTIVE)
            entries.append(
                {
                    "return_line": rl,
                    "quantity_received": rl.quantity,
                    "condition": "damaged" if damaged else rng.choice(["new", "opened"]),
                    "disposition": "scrap" if damaged else "restock",
                }
            )
        return_services.return_receive(return_request=plan.rma, lines=entries, actor=self.floor)

    def do_return_refund(self, plan: Plan) -> None:
        return_services.return_refund(
            return_request=plan.rma,
            reference=f"Refund for {plan.rma.number}",
            actor=self.manager,
        )

    def do_return_close(self, plan: Plan) -> None:
        return_services.return_close(return_request=plan.rma, actor=self.manager)

    def do_return_goodwill(self, plan: Plan) -> None:
        order = plan.order
        order.refresh_from_db()
        amount = order.shipping_total or (order.subtotal / 10).quantize(Decimal("0.01"))
        return_services.refund_create(
            order=order,
            amount=amount,
            reference="Goodwill: delivery was late",
            actor=self.manager,
        )


# --------------------------------------------------------------------------- entry point


def seed_demo(*, now: datetime | None = None) -> dict:
    """Seed the demo unless it is there already; returns what happened.

    ``{"created": bool, "users": {...}, "counts": {...}}``. Users are reset either way.
    """
    # The demo's history is invented: no customer e-mails for it.
    with tasks_inline(), notifications_muted():
        with transaction.atomic():
            if demo_present():
                users = ensure_users()
                created = False
            else:
                seeder = DemoSeeder(now=now or timezone.now())
                seeder.run()
                users = seeder.users
                created = True
    return {"created": created, "users": users, "counts": demo_counts()}


def demo_counts() -> dict:
    def by(qs, field_name):
        return dict(qs.order_by().values_list(field_name).annotate(n=Count("pk")))

    return {
        "warehouses": Warehouse.objects.count(),
        "products": Product.objects.count(),
        "stock levels": StockLevel.objects.count(),
        "stock movements": StockMovement.objects.count(),
        "channels": Channel.objects.count(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "orders by status": by(Order.objects.all(), "status"),
        "shipments by status": by(Shipment.objects.all(), "status"),
        "pick lists": PickList.objects.count(),
        "returns by status": by(ReturnRequest.objects.all(), "status"),
        "refunds": Refund.objects.count(),
    }
