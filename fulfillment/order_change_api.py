"""REST API v1: ``orders/{number}/edit/`` and ``orders/{number}/cancel-lines/``, mixed
into ``fulfillment.api.OrderWorkflowViewSet`` (same permissions: integration and
manager). Shape checks here, rules in ``fulfillment.services.order_change`` and
``line_cancel``: 400 with field messages, 409 once picking started or the order shipped
or was cancelled."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.services.line_cancel import order_cancel_lines
from fulfillment.services.order_change import order_edit
from fulfillment.services.order_locks import order_balance
from kernel.api import MONEY_IN, idempotent, represent, validated_data
from kernel.money import format_money
from orders import services as order_services
from orders.api import ORDER_ERRORS, OrderSerializer
from orders.selectors import order_detail_queryset

MAX_QUANTITY = order_services.MAX_LINE_QUANTITY


class QuantityChangeSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="The order line's id")
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="The line's new ordered quantity"
    )
    expected = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The quantity the caller saw: 409 when someone changed it meanwhile",
    )


class LineAddSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = serializers.DecimalField(
        **MONEY_IN, required=False, help_text="Default: the product's price"
    )


class AddressChangeSerializer(serializers.Serializer):
    """Only the fields given change."""

    name = serializers.CharField(max_length=255, required=False)
    line1 = serializers.CharField(max_length=255, required=False)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=128, required=False)
    region = serializers.CharField(max_length=64, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=32, required=False, allow_blank=True)
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        max_length=2,
        required=False,
        error_messages={"invalid": "Use a 2-letter ISO 3166-1 country code."},
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class OrderEditSerializer(serializers.Serializer):
    quantities = QuantityChangeSerializer(many=True, required=False, max_length=500)
    add = LineAddSerializer(many=True, required=False, max_length=100)
    remove = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=500,
        help_text="Ids of lines whose open units are cancelled",
    )
    shipping_address = AddressChangeSerializer(required=False)
    service = serializers.CharField(
        max_length=65,
        required=False,
        help_text="carrier/service for the shipments not yet picked, e.g. post/express",
    )
    shipping_total = serializers.DecimalField(**MONEY_IN, required=False)
    tax_total = serializers.DecimalField(
        **MONEY_IN,
        required=False,
        help_text="Default: the tax follows the goods at the order's effective rate",
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Nothing to change: name at least one edit.")
        return attrs


class LineCancelSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text="The order line's id")
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, required=False, help_text="Default: all open units"
    )


class CancelLinesSerializer(serializers.Serializer):
    lines = LineCancelSerializer(many=True, allow_empty=False, max_length=500)
    reason = serializers.CharField(max_length=255)


class OrderChangeResultSerializer(OrderSerializer):
    """The order after the change, with what changed and what is owed either way."""

    changes = serializers.ListField(child=serializers.CharField(), read_only=True)
    refund_due = serializers.CharField(
        read_only=True, help_text="Paid beyond what the order is now worth (never above paid)"
    )
    amount_due = serializers.CharField(
        read_only=True, help_text="What the order is now worth beyond what was paid"
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "changes", "refund_due", "amount_due"]


def _answer(order, changes) -> Response:
    order = order_detail_queryset().get(pk=order.pk)
    balance = order_balance(order)
    return Response(
        {
            **represent(OrderSerializer, order),
            "changes": changes,
            "refund_due": format_money(balance["refund_due"], order.currency),
            "amount_due": format_money(balance["amount_due"], order.currency),
        }
    )


class OrderChangeActions:
    """The two actions, for ``OrderWorkflowViewSet``."""

    @extend_schema(
        request=OrderEditSerializer, responses={200: OrderChangeResultSerializer, **ORDER_ERRORS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def edit(self, request, number=None):
        """Edit before picking: change quantities, add lines by SKU, remove lines, change
        the ship-to address, the shipping service or price. Only what changed is
        re-allocated; totals are recomputed. 409 for a line whose shipment is being
        picked (the message says which), or an order shipped or cancelled."""
        order = self.get_object()
        data = validated_data(OrderEditSerializer, request)
        result = order_edit(
            order=order,
            quantities=data.get("quantities", ()),
            add=data.get("add", ()),
            remove=data.get("remove", ()),
            address=data.get("shipping_address"),
            service=data.get("service"),
            shipping_total=data.get("shipping_total"),
            tax_total=data.get("tax_total"),
            actor=request.user,
        )
        return _answer(result["order"], result["changes"])

    @extend_schema(
        request=CancelLinesSerializer, responses={200: OrderChangeResultSerializer, **ORDER_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="cancel-lines")
    @idempotent
    def cancel_lines(self, request, number=None):
        """Cancel some lines or units, with a reason: their stock is released, the totals
        and statuses follow (every unit cancelled cancels the order); the answer shows
        the refund due. 409 for a line whose shipment is being picked."""
        order = self.get_object()
        data = validated_data(CancelLinesSerializer, request)
        result = order_cancel_lines(
            order=order, lines=data["lines"], reason=data["reason"], actor=request.user
        )
        return _answer(result["order"], result["changes"])
