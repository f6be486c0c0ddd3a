"""REST API v1: the order workflow that reaches into fulfillment, and shipments."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment import services
from fulfillment.models import Shipment, ShipmentLine
from fulfillment.selectors import shipment_queryset
from oms.api import RolePermission, idempotent
from orders.api import (
    ORDER_ERRORS,
    OptionalReasonSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    OrderViewSet,
)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrderWorkflowViewSet(OrderViewSet):
    """Orders by number: create (idempotent by channel + external_id), list, retrieve, and
    the actions confirm / hold / release / cancel."""

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer, **ORDER_ERRORS},
    )
    @idempotent
    def create(self, request):
        """Place an order. 201 when new; 200 with the existing order when the same
        (channel, external_id) was already placed with the same content; 409 when the
        content differs. On an auto-confirming channel the order is confirmed and routed."""
        data = _valid(OrderCreateSerializer, request)
        order, created = services.order_place_and_confirm(
            channel=data["channel"],
            external_id=data.get("external_id"),
            customer=data.get("customer"),
            shipping_address=data["shipping_address"],
            currency=data["currency"],
            lines=data["lines"],
            shipping_total=data["shipping_total"],
            tax_total=data["tax_total"],
            placed_at=data.get("placed_at"),
            financial_status=data["financial_status"],
            notes=data["notes"],
            actor=request.user,
        )
        return self._respond(order, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: OrderSerializer, **ORDER_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, number=None):
        """Confirm a pending order and route it to fulfillment points (409 if not pending)."""
        order = self.get_object()
        services.order_confirm_and_allocate(order=order, actor=request.user)
        return self._respond(order)

    @extend_schema(request=None, responses={200: OrderSerializer, **ORDER_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request, number=None):
        """Release a hold; a confirmed order gets its backordered lines routed."""
        order = self.get_object()
        services.order_release_and_allocate(order=order, actor=request.user)
        return self._respond(order)

    @extend_schema(
        request=OptionalReasonSerializer, responses={200: OrderSerializer, **ORDER_ERRORS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, number=None):
        """Cancel: open shipments are cancelled and their stock released; 409 once
        anything has shipped."""
        order = self.get_object()
        data = _valid(OptionalReasonSerializer, request)
        services.order_cancel_and_release(order=order, reason=data["reason"], actor=request.user)
        return self._respond(order)


class ShipmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.sku")
    bin = serializers.SerializerMethodField()

    class Meta:
        model = ShipmentLine
        fields = ["id", "sku", "quantity", "quantity_picked", "quantity_packed", "bin"]

    def get_bin(self, line) -> str:
        return self.context.get("bins", {}).get(line.order_line.product_id, "")


class ShipmentSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    warehouse = serializers.CharField(source="warehouse.code")
    pick_list = serializers.CharField(source="pick_list.number", default=None, allow_null=True)
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "number",
            "order",
            "warehouse",
            "status",
            "pick_list",
            "carrier",
            "service",
            "tracking_number",
            "shipping_cost",
            "weight_grams",
            "estimated_delivery",
            "created_at",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class PackSerializer(serializers.Serializer):
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    service = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    tracking_number = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    shipping_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    estimated_delivery = serializers.DateField(required=False, allow_null=True)


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Shipment.Status.choices)
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    order = django_filters.CharFilter(field_name="order__number")

    class Meta:
        model = Shipment
        fields = ["status", "warehouse", "order"]


SHIPMENT_ERRORS = {
    400: OpenApiResponse(description="Bad input"),
    404: OpenApiResponse(description="Unknown shipment number"),
    409: OpenApiResponse(description="The shipment's state does not allow this"),
}


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Shipments (fulfillment orders) by number, and their actions."""

    serializer_class = ShipmentSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    warehouse_actions = ("pick", "pack", "ship", "deliver")
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = ShipmentFilter
    ordering = ["-id"]

    def get_queryset(self):
        return shipment_queryset().order_by("-id")

    def _respond(self, shipment):
        shipment = shipment_queryset().get(pk=shipment.pk)
        return Response(ShipmentSerializer(shipment).data)

    @extend_schema(request=None, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def pick(self, request, number=None):
        """Record every unit as picked (allocated/picking -> picked)."""
        shipment = self.get_object()
        services.shipment_pick(shipment=shipment, actor=request.user)
        return self._respond(shipment)

    @extend_schema(request=PackSerializer, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def pack(self, request, number=None):
        shipment = self.get_object()
        data = _valid(PackSerializer, request)
        services.shipment_pack(
            shipment=shipment, weight_grams=data.get("weight_grams"), actor=request.user
        )
        return self._respond(shipment)

    @extend_schema(request=ShipSerializer, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def ship(self, request, number=None):
        """Hand over to the carrier; accepted straight from allocated (stores, 3PLs)."""
        shipment = self.get_object()
        data = _valid(ShipSerializer, request)
        services.shipment_ship(shipment=shipment, actor=request.user, **data)
        return self._respond(shipment)

    @extend_schema(request=None, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def deliver(self, request, number=None):
        shipment = self.get_object()
        services.shipment_deliver(shipment=shipment, actor=request.user)
        return self._respond(shipment)
