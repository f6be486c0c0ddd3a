"""REST API v1: channels and orders."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.models import Product
from kernel.api import (
    MONEY_IN,
    CurrencyAmountField,
    ModelSerializer,
    RolePermission,
    UTCDateTimeFilter,
    idempotent,
    represent,
    validated_data,
)
from kernel.db import primed, rows_where
from orders import delays, services

# The channel API lives in orders.channel_api; its names stay importable from here.
from orders.channel_api import CONNECTION_FIELDS as CONNECTION_FIELDS
from orders.channel_api import CREDENTIALS as CREDENTIALS
from orders.channel_api import LOOPBACK_HOSTS as LOOPBACK_HOSTS
from orders.channel_api import ChannelPermission as ChannelPermission
from orders.channel_api import ChannelSerializer as ChannelSerializer
from orders.channel_api import ChannelViewSet as ChannelViewSet
from orders.channel_api import channel_connection_errors as channel_connection_errors
from orders.models import Channel, Order, OrderEvent, OrderLine, Payment
from orders.selectors import order_detail_queryset, order_list_queryset

MONEY = MONEY_IN


class CustomerInSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    city = serializers.CharField(max_length=128)
    region = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    postcode = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        max_length=2,
        error_messages={"invalid": "Use a 2-letter ISO 3166-1 country code."},
    )
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class LineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(**MONEY, required=False)
    discount_total = serializers.DecimalField(
        **MONEY,
        required=False,
        help_text="The discount on the whole line (at most quantity x unit_price)",
    )


class ChannelCodeField(serializers.SlugRelatedField):
    """A channel by its code; DRF's messages for an unknown or malformed code."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Channel.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        code = str(data)
        found = rows_where(Channel, "code", [code]) if "\x00" not in code else []
        if not found:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return found[0]


class OrderCreateSerializer(serializers.Serializer):
    channel = ChannelCodeField()
    external_id = serializers.CharField(
        max_length=128, required=False, allow_null=True, allow_blank=False
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        error_messages={"invalid": "Use a 3-letter ISO 4217 currency code in capitals, e.g. EUR."},
    )
    customer = CustomerInSerializer(required=False)
    shipping_address = AddressSerializer()
    lines = LineInSerializer(many=True, allow_empty=False, max_length=services.MAX_LINES)
    shipping_total = serializers.DecimalField(**MONEY, required=False, default=0)
    tax_total = serializers.DecimalField(**MONEY, required=False, default=0)
    discount_total = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        help_text="The order's whole discount: at least the lines' discounts (what it adds "
        "is shared over the lines), at most their value",
    )
    payment_method = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    payment_reference = serializers.CharField(
        max_length=128, required=False, default="", allow_blank=True
    )
    placed_at = serializers.DateTimeField(required=False)
    financial_status = serializers.ChoiceField(
        choices=[
            Order.FinancialStatus.PENDING,
            Order.FinancialStatus.AUTHORIZED,
            Order.FinancialStatus.PAID,
        ],
        required=False,
        default="pending",
    )
    notes = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)

    def validate_lines(self, lines):
        skus = sorted({line["sku"] for line in lines})
        known = {p.sku: p for p in rows_where(Product, "sku", skus)}
        errors = [
            {"sku": [f"Unknown SKU {line['sku']!r}."]} if line["sku"] not in known else {}
            for line in lines
        ]
        if any(errors):
            raise serializers.ValidationError(errors)
        # Hand the products on, so placement does not look them up again.
        return [{**line, "product": known[line["sku"]]} for line in lines]


class OrderLineSerializer(ModelSerializer):
    quantity_backordered = serializers.SerializerMethodField()
    unit_price = CurrencyAmountField(currency="order.currency")
    discount_total = CurrencyAmountField(currency="order.currency")
    paid_total = CurrencyAmountField(
        currency="order.currency", help_text="What was paid for the line, after its discount"
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discount_total",
            "paid_total",
            "quantity_allocated",
            "quantity_shipped",
            "quantity_cancelled",
            "quantity_returned",
            "quantity_backordered",
        ]

    def get_quantity_backordered(self, line) -> int:
        if line.order.status not in (Order.Status.CONFIRMED, Order.Status.ON_HOLD):
            return 0
        return max(line.quantity_backordered, 0)


class OrderEventSerializer(ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["kind", "message", "data", "actor", "public", "created_at"]


class OrderShipmentSerializer(serializers.Serializer):
    number = serializers.CharField()
    warehouse = serializers.CharField(source="warehouse.code")
    status = serializers.CharField()
    carrier = serializers.CharField()
    service = serializers.CharField()
    tracking_number = serializers.CharField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class PaymentSerializer(ModelSerializer):
    amount = CurrencyAmountField()

    class Meta:
        model = Payment
        fields = ["kind", "amount", "currency", "method", "reference", "actor", "created_at"]


class PaymentInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Payment.Kind.choices)
    amount = serializers.DecimalField(**MONEY)
    method = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    reference = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)


class OrderListSerializer(ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    subtotal = CurrencyAmountField()
    discount_total = CurrencyAmountField()
    shipping_total = CurrencyAmountField()
    tax_total = CurrencyAmountField()
    total = CurrencyAmountField()
    refunded_total = CurrencyAmountField()
    customer_email = serializers.CharField(source="customer.email", default=None, allow_null=True)
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "channel",
            "external_id",
            "customer_email",
            "status",
            "hold_reason",
            "cancel_reason",
            "allocation_status",
            "fulfillment_status",
            "financial_status",
            "currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "total",
            "refunded_total",
            "placed_at",
            "ship_by",
            "at_risk",
            "at_risk_reason",
            "late",
            "lines",
        ]


class OrderSerializer(OrderListSerializer):
    customer = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    shipments = OrderShipmentSerializer(many=True)
    events = OrderEventSerializer(many=True)
    payments = PaymentSerializer(many=True)

    class Meta(OrderListSerializer.Meta):
        fields = [
            *OrderListSerializer.Meta.fields,
            "customer",
            "shipping_address",
            "notes",
            "tracking_token",
            "confirmed_at",
            "shipments",
            "payments",
            "events",
        ]

    def get_customer(self, order) -> dict | None:
        c = order.customer
        return {"email": c.email, "name": c.name, "phone": c.phone} if c else None

    def get_shipping_address(self, order) -> dict:
        return {k: getattr(order, f"ship_{k}") for k in services.ADDRESS_FIELDS}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="cancelled by API")


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    placed_after = UTCDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = UTCDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    allocation_status = django_filters.ChoiceFilter(choices=Order.AllocationStatus.choices)
    fulfillment_status = django_filters.ChoiceFilter(choices=Order.FulfillmentStatus.choices)
    financial_status = django_filters.ChoiceFilter(choices=Order.FinancialStatus.choices)
    external_id = django_filters.CharFilter()
    at_risk = django_filters.BooleanFilter(
        method="filter_at_risk", help_text="Flagged by delay detection as likely to miss ship_by"
    )
    late = django_filters.BooleanFilter(
        method="filter_late", help_text="Shipped and past the carrier's estimated delivery"
    )

    class Meta:
        model = Order
        fields = ["status", "channel", "placed_after", "placed_before", "external_id"]

    def filter_at_risk(self, queryset, name, value):
        return delays.at_risk_filter(queryset, value)

    def filter_late(self, queryset, name, value):
        return delays.late_filter(queryset, value)


ORDER_ERRORS = {
    400: OpenApiResponse(description="Bad input, with a message per field"),
    404: OpenApiResponse(description="Unknown order number"),
    409: OpenApiResponse(description="The state machine refuses this move"),
}


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders by number: list, retrieve, hold. The workflow actions that reach into
    fulfillment (create with auto-confirm, confirm, release, cancel) are added by
    ``fulfillment.api.OrderWorkflowViewSet``, which the router serves."""

    permission_classes = [RolePermission]
    warehouse_read = True
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = OrderFilter
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        filters.OrderingFilter,
    ]
    search_fields = ["number", "external_id", "customer__email", "customer__name", "ship_name"]
    ordering_fields = ["placed_at", "number", "total", "status"]
    ordering = ["-placed_at", "-id"]

    def get_queryset(self):
        if self.action == "list":
            return order_list_queryset()
        return order_detail_queryset()

    def get_serializer_class(self):
        return OrderListSerializer if self.action == "list" else OrderSerializer

    def _respond(self, order, code=status.HTTP_200_OK):
        order = order_detail_queryset().get(pk=order.pk)
        return Response(represent(OrderSerializer, order), status=code)

    def _respond_placed(self, order, code=status.HTTP_201_CREATED):
        """The answer to a placement: an order placed (and routed) by this request has its
        lines, shipments and timeline in memory exactly as written (``prime_related``),
        so it is serialised from there instead of being read back; a replayed order is
        read as ``_respond`` does."""
        if any(primed(order, name) is None for name in ("lines", "shipments", "events")):
            return self._respond(order, code)
        return Response(represent(OrderSerializer, order), status=code)

    @extend_schema(request=PaymentInSerializer, responses={201: OrderSerializer, **ORDER_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def payments(self, request, number=None):
        """Record a payment transaction (authorized, captured, voided or refunded money);
        the financial status follows. 409 for a capture above the total, a void above the
        open authorisation, or a refund above what was captured minus refunded."""
        order = self.get_object()
        data = validated_data(PaymentInSerializer, request)
        services.payment_record(
            order=order,
            kind=data["kind"],
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            actor=request.user,
        )
        return self._respond(order, status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: OrderSerializer, **ORDER_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def hold(self, request, number=None):
        order = self.get_object()
        data = validated_data(ReasonSerializer, request)
        services.order_hold(order=order, reason=data["reason"], actor=request.user)
        return self._respond(order)
