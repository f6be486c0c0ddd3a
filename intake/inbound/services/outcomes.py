"""What a delivery comes to (results, resolved lines) and the names the intake modules share."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from intake.inbound import shopify, woocommerce
from intake.inbound.common import MappedOrder
from intake.models import IntakeDelivery
from inventory.models import Product
from kernel.exceptions import DomainError
from orders import services as order_services
from orders.models import Order, OrderEvent

PLATFORMS = {shopify.PLATFORM: shopify, woocommerce.PLATFORM: woocommerce}
PLATFORM_NAMES = dict(IntakeDelivery.Platform.choices)
HOLD_PREFIX = "Intake: "
DStatus = IntakeDelivery.Status
OStatus = Order.Status
FS = Order.FinancialStatus
ADDRESS_FIELDS = order_services.ADDRESS_FIELDS


def placeholder_sku() -> str:
    return getattr(settings, "OMS_INTAKE_PLACEHOLDER_SKU", "UNMAPPED-ITEM")


@dataclass
class IntakeResult:
    status: str  # processed, needs_attention, ignored, duplicate
    message: str
    order: Order | None = None
    delivery: IntakeDelivery | None = None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "order": self.order.number if self.order else None,
            "delivery": self.delivery.pk if self.delivery else None,
        }


@dataclass
class Outcome:
    status: str
    message: str
    order: Order | None


@dataclass
class ResolvedLine:
    key: str  # the platform's SKU, or the title for a line without one
    sku: str
    title: str
    product: Product
    quantity: int
    unit_price: Decimal
    placeholder: bool
    discount_total: Decimal = Decimal("0")


class EditRefused(DomainError):
    code = "edit_refused"
    status_code = 409


def _platform(mapped: MappedOrder) -> str:
    return PLATFORM_NAMES.get(mapped.platform, mapped.platform)


def _note(order: Order, message: str, actor) -> None:
    order_services.order_add_event(
        order=order, kind=OrderEvent.Kind.NOTE, message=message[:2000], actor=actor
    )
