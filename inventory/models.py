from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=32, blank=True, default="", help_text="GTIN/EAN")
    weight_grams = models.PositiveIntegerField(default=0)
    length_cm = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    width_cm = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    height_cm = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    lead_time_days = models.PositiveIntegerField(default=7)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="product_barcode_unique"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        STORE = "store", "Store"
        THIRD_PARTY = "3pl", "3PL"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=64, blank=True, default="")
    city = models.CharField(max_length=128, blank=True, default="")
    postcode = models.CharField(max_length=32, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower ships first")
    daily_capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Shipments it can ship per business day (delay projections); empty: "
        "the most it shipped in one day over the last 14 days",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """Stock of one product in one fulfillment point.

    ``on_hand`` and ``reserved`` change only in ``inventory.services``, each change with
    its ``StockMovement``; the CHECKs below are the last line of defence against overselling.
    """

    # No index of its own on product: the unique (product, warehouse) index serves lookups
    # by product, and a second index would only slow every insert (bulk CSV imports).
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    bin = models.CharField(max_length=32, blank=True, default="", help_text="Pick location")
    reorder_point = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__sku", "warehouse__priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="stocklevel_product_warehouse_unique"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku}@{self.warehouse.code}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockChangeMark(models.Model):
    """A stock level whose quantities changed since the channels last heard: written by
    ``inventory.services.stock_apply`` (and the CSV fast path) in the transaction of the
    change, read and cleared by the channel stock sync (``intake.sync.stock``). A
    rolled-back change leaves no mark; one row per level however often it changes.

    Keyed by the level: the upsert locks the mark of a level whose row the change has
    already locked, so it adds no lock order of its own."""

    level = models.OneToOneField(
        StockLevel, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"mark {self.level_id}"


class StockMovement(models.Model):
    """Append-only stock ledger: one row for every change of on_hand or reserved."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ADJUSTMENT = "adjustment", _("Adjustment")
        COUNT = "count", _("Count")
        RESERVE = "reserve", _("Reserve")
        RELEASE = "release", _("Release")
        SHIP = "ship", pgettext_lazy("stock movement", "Ship")
        RETURN_RESTOCK = "return_restock", _("Return restock")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        IMPORT = "import", _("Import")

    class ReasonCode(models.TextChoices):
        """Why a count or adjustment changed on_hand (reported on the stock pages)."""

        DAMAGED = "damaged", _("Damaged")
        LOST = "lost", _("Lost")
        FOUND = "found", _("Found")
        COUNT_ERROR = "count_error", _("Count error")

    # Lean on indexes: this table takes a row for every stock change (100k per big CSV
    # import), and each index costs every insert. (product, warehouse) serves lookups by
    # product and the ledger check; ``reference`` serves lookups by order/shipment/batch;
    # the newest-first listing uses the primary key.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True, default="")
    note = models.CharField(max_length=255, blank=True, default="")
    reason_code = models.CharField(
        max_length=16, choices=ReasonCode.choices, blank=True, default="", db_default=""
    )
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["product", "warehouse"], name="movement_level_idx"),
            models.Index(fields=["reference"], name="movement_reference_idx"),
        ]

    def __str__(self) -> str:
        deltas = f"{self.on_hand_delta:+}/{self.reserved_delta:+}"
        return f"{self.kind} {self.product_id}@{self.warehouse_id} {deltas}"


class DemandForecast(models.Model):
    """The demand forecast of one SKU at one fulfillment point (``warehouse`` empty: the
    SKU over all points), refreshed nightly by ``inventory.forecasting.forecast_refresh``.

    Every method is stored the same way: a daily ``level`` times a weekday factor
    (Monday first, mean 1; all 1 for methods without a weekly pattern), so a forecast
    for any day ahead is ``level * weekday_factors[day.weekday()]``. ``sigma`` is the
    root mean squared daily error of the chosen method on the holdout (for safety
    stock); ``wape`` and ``baselines`` are its backtest figures and the naive ones.
    """

    class Method(models.TextChoices):
        SES_WEEKDAY = "ses_weekday", "Exponential smoothing x weekday factors"
        SES = "ses", "Exponential smoothing"
        CROSTON = "croston", "Croston (intermittent)"
        SBA = "sba", "Syntetos-Boylan (intermittent)"
        TSB = "tsb", "Teunter-Syntetos-Babai (intermittent)"
        NAIVE = "naive", "Last value"
        MOVING_AVERAGE = "moving_average", "Moving average"
        NONE = "none", "No demand"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="forecasts")
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="forecasts", null=True, blank=True
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    level = models.FloatField(default=0, help_text="Expected units per day (weekday-adjusted)")
    weekday_factors = models.JSONField(default=list, blank=True)
    sigma = models.FloatField(default=0, help_text="Daily forecast error (RMSE on the holdout)")
    wape = models.FloatField(null=True, blank=True, help_text="Holdout WAPE of the method")
    baselines = models.JSONField(default=dict, blank=True, help_text="Holdout WAPE of baselines")
    history_days = models.PositiveIntegerField(default=0)
    zero_share = models.FloatField(default=0, help_text="Share of days without demand")
    total_units = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["product__sku", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"],
                condition=Q(warehouse__isnull=False),
                name="demandforecast_product_warehouse_unique",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(warehouse__isnull=True),
                name="demandforecast_product_all_points_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id or '*'} {self.method} {self.level:.2f}/day"


class LowStockAlert(models.Model):
    """Raised by ``inventory.replenishment.check_low_stock`` when the units available at
    a point (``warehouse`` empty: at all points) fall below the reorder point; resolved
    by the same check once they are back above it. One open alert per level."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="low_stock_alerts")
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.CASCADE,
        related_name="low_stock_alerts",
        null=True,
        blank=True,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    available = models.IntegerField()
    reorder_point = models.PositiveIntegerField()
    suggested_quantity = models.PositiveIntegerField(default=0)
    order_by = models.DateField(null=True, blank=True)
    days_of_cover = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"],
                condition=Q(status="open", warehouse__isnull=False),
                name="lowstockalert_one_open_per_level",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(status="open", warehouse__isnull=True),
                name="lowstockalert_one_open_per_sku",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="lowstockalert_status_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id or '*'} {self.status} {self.available}"


# --------------------------------------------------------------------------- inbound
# Suppliers and purchase orders, and transfers between points with stock in transit.
# Their quantities change only in ``inventory.purchasing`` and ``inventory.transfers``,
# which write stock through ``inventory.services.stock_apply`` (the one ledger path).


class Supplier(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True, default="")
    lead_time_days = models.PositiveIntegerField(
        default=7, help_text="Days from sending a purchase order to its delivery"
    )
    currency = models.CharField(max_length=3, default="BRL", help_text="ISO 4217")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SupplierProduct(models.Model):
    """What a supplier sells us: its SKU and price for one of our products. A product's
    supplier for replenishment is its row with the lowest ``priority``."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="suppliers")
    supplier_sku = models.CharField(max_length=64, blank=True, default="")
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    priority = models.PositiveIntegerField(default=10, help_text="Lower is preferred")

    class Meta:
        ordering = ["product__sku", "priority", "supplier__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "product"], name="supplierproduct_supplier_product_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="supplierproduct_unit_cost_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.product.sku}"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = ("draft", "sent", "partially_received")
    # Sent to the supplier: goods are due (incoming counts, expected dates).
    DUE_STATUSES = ("sent", "partially_received")

    number = models.CharField(max_length=32, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        help_text="Destination point",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expected_date"], name="po_status_expected_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_lines")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    expected_date = models.DateField(null=True, blank=True)
    quantity_received = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "product"], name="purchaseorderline_po_product_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseorderline_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="purchaseorderline_unit_cost_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["product"], name="purchaseorderline_product_idx")]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}: {self.product_id} x{self.quantity}"

    @property
    def remaining(self) -> int:
        """Still to come (0 once the line is fully or over-received)."""
        return max(self.quantity - self.quantity_received, 0)

    @property
    def over(self) -> int:
        return max(self.quantity_received - self.quantity, 0)


class PurchaseOrderEvent(models.Model):
    """The purchase order's timeline: created, sent, received, closed, cancelled."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.purchase_order_id} {self.kind}"


class Transfer(models.Model):
    """Stock moving between two points. Dispatch takes it off the source's ``on_hand``
    (``transfer_out``); until it arrives (``transfer_in`` at the destination) or is
    recorded lost, it is in transit: ``quantity - quantity_received - quantity_lost``
    of each line."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_TRANSIT = "in_transit", "In transit"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    IN_TRANSIT_STATUSES = ("in_transit", "partially_received")

    number = models.CharField(max_length=32, unique=True)
    source = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="transfers_in"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_source_ne_destination"
            ),
        ]
        indexes = [models.Index(fields=["status", "expected_date"], name="transfer_status_idx")]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfer_lines")
    quantity = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    quantity_lost = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "product"], name="transferline_transfer_product_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_received") + F("quantity_lost")),
                name="transferline_accounted_lte_qty",
            ),
        ]
        indexes = [models.Index(fields=["product"], name="transferline_product_idx")]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.product_id} x{self.quantity}"

    @property
    def in_transit(self) -> int:
        return self.quantity - self.quantity_received - self.quantity_lost


class TransferEvent(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.transfer_id} {self.kind}"
