"""REST API v1: products, warehouses, stock levels and the stock ledger."""

import django_filters
from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.selectors import stock_level_list
from kernel.api import ModelSerializer, RolePermission, idempotent, validated_data

MAX_QTY = services.MAX_QUANTITY


class ProductSerializer(ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "barcode",
            "price",
            "weight_grams",
            "length_cm",
            "width_cm",
            "height_cm",
            "lead_time_days",
            "active",
        ]
        extra_kwargs = {"price": {"min_value": 0}, "lead_time_days": {"max_value": 3650}}

    def validate_barcode(self, value):
        if value and not value.isdigit():
            raise serializers.ValidationError("A barcode (GTIN/EAN) has digits only.")
        return value


class WarehouseSerializer(ModelSerializer):
    class Meta:
        model = Warehouse
        fields = [
            "code",
            "name",
            "kind",
            "country",
            "region",
            "city",
            "postcode",
            "latitude",
            "longitude",
            "priority",
            "active",
        ]
        extra_kwargs = {
            "latitude": {"min_value": -90, "max_value": 90},
            "longitude": {"min_value": -180, "max_value": 180},
        }

    def validate_country(self, value):
        value = value.upper()
        if len(value) != 2 or not value.isalpha():
            raise serializers.ValidationError("Use a 2-letter ISO 3166-1 code.")
        return value


class StockLevelSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "sku",
            "warehouse",
            "on_hand",
            "reserved",
            "available",
            "bin",
            "reorder_point",
            "updated_at",
        ]


class StockMovementSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku",
            "warehouse",
            "kind",
            "on_hand_delta",
            "reserved_delta",
            "reference",
            "note",
            "actor",
            "created_at",
        ]


class _StockTarget(serializers.Serializer):
    sku = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())
    warehouse = serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.all())


class StockReceiveSerializer(_StockTarget):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
    reference = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class StockAdjustSerializer(_StockTarget):
    delta = serializers.IntegerField(required=False, min_value=-MAX_QTY, max_value=MAX_QTY)
    counted = serializers.IntegerField(required=False, min_value=0, max_value=MAX_QTY)
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)

    def validate(self, attrs):
        if ("delta" in attrs) == ("counted" in attrs):
            raise serializers.ValidationError({"delta": ["Give either delta or counted."]})
        if attrs.get("delta") == 0:
            raise serializers.ValidationError({"delta": ["delta must not be 0."]})
        return attrs


class StockTransferSerializer(serializers.Serializer):
    sku = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())
    source = serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.all())
    destination = serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
    reference = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)


class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Products by SKU."""

    queryset = Product.objects.order_by("sku")
    serializer_class = ProductSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    lookup_field = "sku"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["active", "sku", "barcode"]
    search_fields = ["sku", "name", "barcode"]
    ordering_fields = ["sku", "name", "price"]


class WarehouseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Fulfillment points (warehouses, stores, 3PLs) by code."""

    queryset = Warehouse.objects.order_by("priority", "code")
    serializer_class = WarehouseSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["kind", "country", "region", "active"]
    ordering_fields = ["code", "priority"]


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    below_reorder_point = django_filters.BooleanFilter(method="filter_below")

    class Meta:
        model = StockLevel
        fields = ["sku", "warehouse", "below_reorder_point"]

    def filter_below(self, queryset, name, value):
        below = {"on_hand__lt": F("reserved") + F("reorder_point")}
        if value is None:
            return queryset
        return queryset.filter(**below) if value else queryset.exclude(**below)


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    kind = django_filters.ChoiceFilter(choices=StockMovement.Kind.choices)
    reference = django_filters.CharFilter()

    class Meta:
        model = StockMovement
        fields = ["sku", "warehouse", "kind", "reference"]


class StockViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stock levels; receipts, adjustments and transfers go through the actions."""

    serializer_class = StockLevelSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    filterset_class = StockLevelFilter
    ordering_fields = ["on_hand", "reserved", "updated_at"]
    # documented 409s (kernel.schema): taking more than is there, or below what is reserved
    schema_conflicts = ("adjust", "transfer")

    def get_queryset(self):
        return stock_level_list().order_by("product__sku", "warehouse__priority", "pk")

    def _done(self, level, code=status.HTTP_200_OK):
        level = self.get_queryset().get(pk=level.pk)
        return Response(StockLevelSerializer(level).data, status=code)

    @extend_schema(request=StockReceiveSerializer, responses=StockLevelSerializer)
    @action(detail=False, methods=["post"])
    @idempotent
    def receive(self, request):
        data = validated_data(StockReceiveSerializer, request)
        level = services.stock_receive(
            product=data["sku"],
            warehouse=data["warehouse"],
            quantity=data["quantity"],
            reference=data["reference"],
            note=data["note"],
            actor=request.user,
        )
        return self._done(level)

    @extend_schema(request=StockAdjustSerializer, responses=StockLevelSerializer)
    @action(detail=False, methods=["post"])
    @idempotent
    def adjust(self, request):
        data = validated_data(StockAdjustSerializer, request)
        level = services.stock_adjust(
            product=data["sku"],
            warehouse=data["warehouse"],
            delta=data.get("delta"),
            counted=data.get("counted"),
            reason=data["reason"],
            reference=data["reference"],
            actor=request.user,
        )
        return self._done(level)

    @extend_schema(request=StockTransferSerializer, responses=StockLevelSerializer(many=True))
    @action(detail=False, methods=["post"])
    @idempotent
    def transfer(self, request):
        data = validated_data(StockTransferSerializer, request)
        source, destination = services.stock_transfer(
            product=data["sku"],
            source=data["source"],
            destination=data["destination"],
            quantity=data["quantity"],
            reference=data["reference"],
            actor=request.user,
        )
        qs = self.get_queryset().filter(pk__in=[source.pk, destination.pk])
        return Response(StockLevelSerializer(qs, many=True).data)


class StockMovementViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The stock ledger, newest first (append-only)."""

    serializer_class = StockMovementSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    filterset_class = StockMovementFilter

    def get_queryset(self):
        return StockMovement.objects.select_related("product", "warehouse").order_by("-id")
