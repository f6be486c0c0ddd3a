"""The demo's plan: dated steps drawn from fixed seeds."""

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from demo.data import (
    AFTER_SALES,
    CANCEL_CONFIRMED,
    CANCEL_HELD,
    CANCEL_PENDING,
    CATALOGUE,
    CHANNEL_WEIGHTS,
    CITIES,
    DELIVERED_ORDERS,
    FIRST_NAMES,
    HOLD_REASONS,
    LINE2,
    MARKETPLACES,
    NOTES,
    PO_DAYS_AGO,
    PROFILE_POINTS,
    SEED,
    SERVICES,
    SHIPPABLE,
    STREETS,
    SURNAMES,
    WAREHOUSES,
    WAVE_PICKED,
    ZONES,
)
from demo.support import DemoProduct, Person, Plan, SimulatedClock, slug
from fulfillment.models import (
    PickList,
)
from orders.services import add_business_days


class DemoPlanner:
    """Plans the demo: every order's contents, dates and scenario (``build``)."""

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
