"""Routing strategies: pure planning, no database writes.

A strategy receives the lines still to allocate, the candidate fulfillment points and
the quantities available there, and returns a Plan: which point ships how much of which
line, plus the sentences that explain the choice (they become the order event).
``fulfillment.services.order_allocate`` turns a plan into reservations and shipments.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inventory.models import Warehouse
from orders.models import OrderLine


@dataclass(frozen=True)
class Need:
    line: OrderLine
    quantity: int


@dataclass
class Plan:
    strategy: str
    allocations: list[tuple[Need, Warehouse, int]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def allocated_for(self, need: Need) -> int:
        return sum(q for n, _, q in self.allocations if n is need)

    @property
    def warehouses(self) -> list[Warehouse]:
        seen: dict[int, Warehouse] = {}
        for _, warehouse, _ in self.allocations:
            seen.setdefault(warehouse.pk, warehouse)
        return list(seen.values())


Available = dict[tuple[int, int], int]  # (product_id, warehouse_id) -> units available


def _take(plan: Plan, available: Available, need: Need, warehouse: Warehouse, qty: int) -> None:
    key = (need.line.product_id, warehouse.pk)
    available[key] -= qty
    plan.allocations.append((need, warehouse, qty))


def plan_priority(
    needs: Sequence[Need], warehouses: Sequence[Warehouse], available: Available
) -> Plan:
    """Each line from the first point (by priority) that can ship all of it; a line no
    single point can ship is split across points in priority order."""
    plan = Plan(strategy="priority")
    available = dict(available)
    ordered = sorted(warehouses, key=lambda w: (w.priority, w.code))
    for need in needs:
        pid = need.line.product_id
        whole = next((w for w in ordered if available.get((pid, w.pk), 0) >= need.quantity), None)
        if whole is not None:
            _take(plan, available, need, whole, need.quantity)
            plan.reasons.append(
                f"{need.line.sku} x{need.quantity} from {whole.code} "
                f"(first by priority with enough stock)"
            )
            continue
        remaining = need.quantity
        parts = []
        for w in ordered:
            have = available.get((pid, w.pk), 0)
            if have <= 0 or remaining == 0:
                continue
            qty = min(have, remaining)
            _take(plan, available, need, w, qty)
            parts.append(f"{qty} from {w.code}")
            remaining -= qty
        if parts:
            plan.reasons.append(
                f"{need.line.sku} x{need.quantity} split: {', '.join(parts)}"
                + (f"; {remaining} backordered" if remaining else "")
            )
        else:
            plan.reasons.append(f"{need.line.sku} x{need.quantity}: no stock anywhere; backordered")
    return plan


STRATEGIES: dict[str, Callable[..., Plan]] = {
    "priority": plan_priority,
}
