"""REST API v1: returns (RMAs) and refunds."""

from decimal import Decimal

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api import PDF_RESPONSES, JsonErrorsNegotiation
from fulfillment.document_views import pdf_response
from inventory.models import Warehouse
from kernel.api import (
    MONEY_IN,
    CurrencyAmountField,
    ModelSerializer,
    RolePermission,
    idempotent,
    validated_data,
)
from orders.models import Order
from returns import services
from returns.documents import render_return_slip_pdf
from returns.models import Refund, ReturnLine, ReturnRequest


class ReturnLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="order_line.sku")
    restock_warehouse = serializers.CharField(
        source="restock_warehouse.code", default=None, allow_null=True
    )
    replacement_sku = serializers.CharField(
        source="replacement_product.sku",
        default=None,
        allow_null=True,
        help_text="Exchange: the SKU sent instead (null: a plain return)",
    )

    class Meta:
        model = ReturnLine
        fields = [
            "id",
            "sku",
            "quantity",
            "reason",
            "customer_comment",
            "quantity_received",
            "condition",
            "disposition",
            "restock_warehouse",
            "replacement_sku",
            "replacement_quantity",
        ]


class RefundSerializer(ModelSerializer):
    amount = CurrencyAmountField()
    items_amount = CurrencyAmountField()
    tax_amount = CurrencyAmountField()
    shipping_amount = CurrencyAmountField()

    class Meta:
        model = Refund
        fields = [
            "amount",
            "items_amount",
            "tax_amount",
            "shipping_amount",
            "currency",
            "reference",
            "actor",
            "created_at",
        ]


class ReturnSerializer(ModelSerializer):
    order = serializers.CharField(source="order.number")
    replacement_order = serializers.CharField(
        source="replacement_order.number",
        default=None,
        allow_null=True,
        help_text="Exchange: the order sending the replacements (placed on approval)",
    )
    lines = ReturnLineSerializer(many=True)
    refunds = RefundSerializer(many=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "number",
            "order",
            "replacement_order",
            "status",
            "reject_reason",
            "created_at",
            "approved_at",
            "received_at",
            "closed_at",
            "lines",
            "refunds",
        ]


class ReturnLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.choices, default="other")
    customer_comment = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000
    )
    replacement_sku = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Exchange: send this SKU instead (the same or another)",
    )
    replacement_quantity = serializers.IntegerField(
        min_value=1,
        max_value=10_000,
        required=False,
        help_text="Units of replacement_sku, at most quantity (default: quantity)",
    )


class ReturnCreateSerializer(serializers.Serializer):
    order = serializers.SlugRelatedField(slug_field="number", queryset=Order.objects.all())
    lines = ReturnLineInSerializer(many=True, allow_empty=False, max_length=500)


class ReceiveLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity_received = serializers.IntegerField(min_value=0, max_value=10_000)
    condition = serializers.ChoiceField(choices=ReturnLine.Condition.choices, default="new")
    disposition = serializers.ChoiceField(choices=ReturnLine.Disposition.choices, default="restock")
    restock_warehouse = serializers.SlugRelatedField(
        slug_field="code", queryset=Warehouse.objects.all(), required=False, allow_null=True
    )


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, required=False)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class RefundInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        **{**MONEY_IN, "min_value": Decimal("0.001")},
        required=False,
        help_text="The whole refund; default: the returned lines' paid amount plus the "
        "tax_amount and shipping_amount given",
    )
    tax_amount = serializers.DecimalField(
        **MONEY_IN, required=False, default=0, help_text="Tax given back (none unless given)"
    )
    shipping_amount = serializers.DecimalField(
        **MONEY_IN,
        required=False,
        default=0,
        help_text="Shipping given back (none unless given)",
    )
    reference = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReturnRequest.Status.choices)
    order = django_filters.CharFilter(field_name="order__number")

    class Meta:
        model = ReturnRequest
        fields = ["status", "order"]


RETURN_ERRORS = {
    400: OpenApiResponse(description="Bad input"),
    404: OpenApiResponse(description="Unknown return or order"),
    409: OpenApiResponse(
        description="The return's state does not allow this, or the refund exceeds what was paid"
    ),
}


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Returns (RMAs) by number."""

    serializer_class = ReturnSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    warehouse_actions = ("receive",)
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = ReturnFilter

    def get_queryset(self):
        return (
            ReturnRequest.objects.select_related("order", "replacement_order")
            .prefetch_related(
                "lines__order_line",
                "lines__restock_warehouse",
                "lines__replacement_product",
                "refunds",
            )
            .order_by("-id")
        )

    def _respond(self, rma, code=status.HTTP_200_OK):
        return Response(ReturnSerializer(self.get_queryset().get(pk=rma.pk)).data, status=code)

    @extend_schema(
        request=ReturnCreateSerializer, responses={201: ReturnSerializer, **RETURN_ERRORS}
    )
    @idempotent
    def create(self, request):
        """Request a return: never more than shipped minus already returned. A line with
        ``replacement_sku`` is an exchange: approving the return places the replacement
        order (free for the same SKU, the price difference for another)."""
        data = validated_data(ReturnCreateSerializer, request)
        rma = services.return_request(order=data["order"], lines=data["lines"], actor=request.user)
        return self._respond(rma, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReturnSerializer, **RETURN_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, number=None):
        rma = self.get_object()
        services.return_approve(return_request=rma, actor=request.user)
        return self._respond(rma)

    @extend_schema(request=RejectSerializer, responses={200: ReturnSerializer, **RETURN_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, number=None):
        rma = self.get_object()
        data = validated_data(RejectSerializer, request)
        services.return_reject(return_request=rma, reason=data["reason"], actor=request.user)
        return self._respond(rma)

    @extend_schema(request=ReceiveSerializer, responses={200: ReturnSerializer, **RETURN_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, number=None):
        """Record what came back per line (omitted lines: received in full, restocked)."""
        rma = self.get_object()
        data = validated_data(ReceiveSerializer, request)
        services.return_receive(return_request=rma, lines=data.get("lines"), actor=request.user)
        return self._respond(rma)

    @extend_schema(request=RefundInSerializer, responses={200: ReturnSerializer, **RETURN_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, number=None):
        """Refund the return (default: the value of what came back); never more than paid."""
        rma = self.get_object()
        data = validated_data(RefundInSerializer, request)
        services.return_refund(
            return_request=rma,
            amount=data.get("amount"),
            tax_amount=data["tax_amount"],
            shipping_amount=data["shipping_amount"],
            reference=data["reference"],
            actor=request.user,
        )
        return self._respond(rma)

    @extend_schema(request=None, responses=PDF_RESPONSES, operation_id="v1_returns_return_slip_pdf")
    @action(
        detail=True,
        methods=["get"],
        url_path="return-slip.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def return_slip_pdf(self, request, number=None):
        """The return slip (PDF) with the RMA number as a Code 128 barcode."""
        rma = self.get_object()
        return pdf_response(render_return_slip_pdf(rma), f"return-slip-{rma.number}.pdf")
