"""Helpers of the demo: check digits, the simulated clock, users, the plan's records."""

import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from demo.data import DEMO_USERS, MARKER_SKU
from inventory.models import Product
from kernel import roles
from orders.models import Order
from returns.models import ReturnRequest

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
