"""The demo's steps: each one a call to the services at its simulated date."""

import secrets
from collections import defaultdict
from decimal import Decimal

from django.conf import settings

from demo.data import (
    BANDS,
    CHANNELS,
    CURRENCY,
    DAILY_CAPACITY,
    MARKETPLACES,
    REJECT_REASONS,
    RETURN_REASONS,
    SERVICES,
    TRACKING_URLS,
    WAREHOUSES,
    ZONE_FACTOR,
    ZONES,
)
from demo.support import Plan, ean13, s10_tracking
from fulfillment import services as fulfillment_services
from fulfillment.models import (
    OPEN_SHIPMENT_STATUSES,
    Carrier,
    CarrierService,
    CarrierToken,
    Shipment,
    ShippingRate,
)
from inventory import services as inventory_services
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from orders import services as order_services
from orders.models import Channel, Order
from orders.services import add_business_days
from returns import services as return_services
from returns.models import ReturnLine


class DemoActions:
    """The steps the plan plays, each through the services."""

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
