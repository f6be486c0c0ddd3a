"""Building a plan: take units from a point, fill lines, cover the demand with sets of
points, explain the choice."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations

from fulfillment.routing.geography import _Map
from fulfillment.routing.plans import Available, Need, Plan
from inventory.models import Warehouse

# Above this many candidate point sets, set searches fall back to a greedy cover.
MAX_SETS_EXAMINED = 5000
ALTERNATIVES_SHOWN = 2


# --------------------------------------------------------------------------- helpers


def _take(plan: Plan, available: Available, need: Need, warehouse: Warehouse, qty: int) -> None:
    key = (need.line.product_id, warehouse.pk)
    available[key] -= qty
    plan.allocations.append((need, warehouse, qty))


def _fill(
    plan: Plan,
    needs: Sequence[Need],
    ordered: Sequence[Warehouse],
    available: Available,
    why: Callable[[Warehouse], str],
) -> list[str]:
    """Each line from the first point in ``ordered`` with all of it, else split across
    them in that order. Mutates ``available``; returns one sentence per line."""
    details = []
    for need in needs:
        pid = need.line.product_id
        whole = next((w for w in ordered if available.get((pid, w.pk), 0) >= need.quantity), None)
        if whole is not None:
            _take(plan, available, need, whole, need.quantity)
            details.append(f"{need.line.sku} x{need.quantity} from {whole.code} ({why(whole)})")
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
            details.append(
                f"{need.line.sku} x{need.quantity} split: {', '.join(parts)}"
                + (f"; {remaining} backordered" if remaining else "")
            )
        else:
            details.append(f"{need.line.sku} x{need.quantity}: no stock anywhere; backordered")
    return details


def _lines_phrase(n: int, total: int) -> str:
    if n == total:
        return "the only line" if total == 1 else f"all {total} lines"
    return f"{n} of {total} lines"


def _conclude(
    plan: Plan,
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    gmap: _Map,
    headline: Sequence[str],
    details: Sequence[str],
    rank: Callable[[Warehouse], tuple],
    show_priority: bool = False,
) -> Plan:
    """Write the explanation: the headline, each chosen point with what it ships and how
    far it is, the best points not chosen and what they could have shipped, what stays
    backordered and why, then the line-by-line detail."""
    plan.distances = {w.pk: gmap.km.get(w.pk) for w in warehouses}
    total = len(needs)

    def where(w: Warehouse) -> str:
        bits = [gmap.where(w)] + ([f"priority {w.priority}"] if show_priority else [])
        return ", ".join(b for b in bits if b)

    reasons = list(headline)
    chosen = plan.warehouses
    for w in chosen:
        here = [(n, q) for n, wh, q in plan.allocations if wh.pk == w.pk]
        full = sum(1 for n, q in here if q == n.quantity)
        what = _lines_phrase(full, total) if full else ""
        partial = ", ".join(f"{q} of {n.line.sku} x{n.quantity}" for n, q in here if q < n.quantity)
        if partial:
            what = (what + " and " if what else "") + partial
        extra = where(w)
        reasons.append(f"{w.code} chosen: ships {what}" + (f", {extra}" if extra else ""))
    others = sorted((w for w in warehouses if w.pk not in {c.pk for c in chosen}), key=rank)
    shown = 0
    for w in others:
        could = sum(1 for n in needs if available.get((n.line.product_id, w.pk), 0) >= n.quantity)
        if not could or shown >= ALTERNATIVES_SHOWN:
            continue
        shown += 1
        extra = where(w)
        reasons.append(
            f"{w.code} could ship {_lines_phrase(could, total).replace('all ', '')}"
            + (f", {extra}" if extra else "")
        )
    plan.shortfalls = []
    for need in needs:
        missing = need.quantity - plan.allocated_for(need)
        if missing <= 0:
            continue
        pid = need.line.product_id
        anywhere = sum(available.get((pid, w.pk), 0) for w in warehouses)
        plan.shortfalls.append(
            f"{need.line.sku}: {missing} of {need.quantity} backordered ("
            + (
                f"only {anywhere} available at the active points"
                if anywhere
                else "none available at any active point"
            )
            + ")"
        )
    plan.reasons = reasons + plan.shortfalls + list(details)
    return plan


def _demand(needs: Sequence[Need]) -> dict[int, int]:
    demand: dict[int, int] = defaultdict(int)
    for need in needs:
        demand[need.line.product_id] += need.quantity
    return demand


def _covering_sets(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    *,
    smallest_only: bool,
) -> tuple[list[tuple[Warehouse, ...]], bool]:
    """Sets of points that together supply as much of every product as all points do.

    Returns (sets, exhaustive). With ``smallest_only`` only the sets of the smallest size
    are returned. Beyond MAX_SETS_EXAMINED the search stops (exhaustive False)."""
    demand = _demand(needs)
    candidates = [w for w in warehouses if any(available.get((p, w.pk), 0) > 0 for p in demand)]
    target = {
        p: min(q, sum(available.get((p, w.pk), 0) for w in candidates)) for p, q in demand.items()
    }
    if not candidates or not any(target.values()):
        return [], True
    found: list[tuple[Warehouse, ...]] = []
    examined = 0
    for size in range(1, len(candidates) + 1):
        for group in combinations(candidates, size):
            examined += 1
            if examined > MAX_SETS_EXAMINED:
                return found, False
            if all(sum(available.get((p, w.pk), 0) for w in group) >= t for p, t in target.items()):
                found.append(group)
        if found and smallest_only:
            break
    return found, True


def _greedy_cover(
    needs: Sequence[Need], warehouses: Sequence[Warehouse], available: Available, key
) -> tuple[Warehouse, ...]:
    """Add the point that supplies the most still-missing units until nothing more helps."""
    missing = dict(_demand(needs))
    chosen: list[Warehouse] = []
    pool = sorted(warehouses, key=key)
    while any(missing.values()):
        best, best_units = None, 0
        for w in pool:
            units = sum(min(q, available.get((p, w.pk), 0)) for p, q in missing.items())
            if units > best_units:
                best, best_units = w, units
        if best is None:
            break
        chosen.append(best)
        pool.remove(best)
        for p in missing:
            missing[p] = max(0, missing[p] - available.get((p, best.pk), 0))
    return tuple(chosen)
