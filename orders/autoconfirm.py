"""Automatic confirmation rules: may a new order on an ``auto_confirm`` channel be
confirmed and routed without a person looking at it?

Each rule is a plain function of the order that passes or says why not; the channel
holds the limits (``auto_confirm_require_payment``, ``auto_confirm_max_total``,
``auto_confirm_max_quantity``) and the customer the block. Intake
(``fulfillment.services.intake.order_place_and_confirm``) confirms and allocates when
every rule passes, else puts the order on hold with the failed rules as the reason;
held orders wait in the review queue (``/review/``).

Reads only: the order's lines with their products and the customer (one query each
at most).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db.models import prefetch_related_objects

from orders.models import Order

# Countries whose addresses have no postcode (ISO 3166-1); elsewhere a postcode is
# part of a complete address.
NO_POSTCODE_COUNTRIES = frozenset(
    {"AE", "AG", "AO", "BS", "BZ", "FJ", "GH", "HK", "IE", "JM", "KE", "MO", "QA", "TT", "UG"}
)
HOLD_PREFIX = "Auto-confirm: "


@dataclass(frozen=True)
class RuleResult:
    code: str
    label: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def rule_payment(order: Order) -> RuleResult:
    label = "paid or authorized"
    if not order.channel.auto_confirm_require_payment:
        return RuleResult("payment", label, True, "the channel does not require payment")
    ok = order.financial_status in (Order.FinancialStatus.PAID, Order.FinancialStatus.AUTHORIZED)
    return RuleResult("payment", label, ok, f"payment is {order.financial_status}")


def rule_skus_known(order: Order) -> RuleResult:
    unknown = [
        line.sku
        for line in order.lines.all()
        if line.product is None or not line.product.active or line.product.sku != line.sku
    ]
    detail = ("unknown or inactive SKU " + ", ".join(unknown)) if unknown else "all SKUs known"
    return RuleResult("skus", "all SKUs known", not unknown, detail)


def rule_address_complete(order: Order) -> RuleResult:
    required = ["name", "line1", "city", "country"]
    if order.ship_country not in NO_POSTCODE_COUNTRIES:
        required.append("postcode")
    missing = [name for name in required if not getattr(order, f"ship_{name}").strip()]
    detail = ("missing " + ", ".join(missing)) if missing else "complete"
    return RuleResult("address", "address complete", not missing, detail)


def rule_total_limit(order: Order) -> RuleResult:
    limit = order.channel.auto_confirm_max_total
    label = "total under the limit"
    if limit is None:
        return RuleResult("total", label, True, "no limit")
    ok = order.total <= limit
    return RuleResult(
        "total", label, ok, f"total {order.total} {'<=' if ok else '>'} {limit} {order.currency}"
    )


def rule_quantity_limit(order: Order) -> RuleResult:
    limit = order.channel.auto_confirm_max_quantity
    label = "quantities under the limit"
    if limit is None:
        return RuleResult("quantity", label, True, "no limit")
    over = [f"{line.sku} x{line.quantity}" for line in order.lines.all() if line.quantity > limit]
    detail = (", ".join(over) + f" > {limit}") if over else f"every line <= {limit}"
    return RuleResult("quantity", label, not over, detail)


def rule_customer_not_blocked(order: Order) -> RuleResult:
    customer = order.customer
    label = "customer not blocked"
    if customer is None or not customer.blocked:
        return RuleResult("customer", label, True, "not blocked")
    why = f" ({customer.blocked_reason})" if customer.blocked_reason else ""
    return RuleResult("customer", label, False, f"{customer.email} is blocked{why}")


RULES: list[Callable[[Order], RuleResult]] = [
    rule_payment,
    rule_skus_known,
    rule_address_complete,
    rule_total_limit,
    rule_quantity_limit,
    rule_customer_not_blocked,
]


def evaluate(order: Order) -> list[RuleResult]:
    """Every rule's verdict on ``order``, in a fixed order."""
    prefetch_related_objects([order], "lines__product")
    return [rule(order) for rule in RULES]


def failed(results: list[RuleResult]) -> list[RuleResult]:
    return [r for r in results if not r.passed]


def hold_reason(failures: list[RuleResult]) -> str:
    """'Auto-confirm: payment (payment is pending); total (total 1200.00 > 1000.00 EUR)'."""
    return HOLD_PREFIX + "; ".join(f"{r.code} ({r.detail})" for r in failures)
