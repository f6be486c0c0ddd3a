"""The order workflow endpoints: orders by number with the actions that route stock."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from fulfillment import services
from fulfillment.order_change_api import OrderChangeActions
from kernel.api import idempotent, validated_data
from orders.api import (
    ORDER_ERRORS,
    OptionalReasonSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    OrderViewSet,
)


class OrderWorkflowViewSet(OrderChangeActions, OrderViewSet):
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
        data = validated_data(OrderCreateSerializer, request)
        order, created = services.order_place_and_confirm(
            channel=data["channel"],
            external_id=data.get("external_id"),
            customer=data.get("customer"),
            shipping_address=data["shipping_address"],
            currency=data["currency"],
            lines=data["lines"],
            shipping_total=data["shipping_total"],
            tax_total=data["tax_total"],
            discount_total=data.get("discount_total"),
            placed_at=data.get("placed_at"),
            financial_status=data["financial_status"],
            payment_method=data["payment_method"],
            payment_reference=data["payment_reference"],
            notes=data["notes"],
            actor=request.user,
            keep_primed=True,  # the answer below is serialised from what was written
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return self._respond_placed(order, code)

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
        data = validated_data(OptionalReasonSerializer, request)
        services.order_cancel_and_release(order=order, reason=data["reason"], actor=request.user)
        return self._respond(order)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=["backordered", "open"],
                description="backordered: what the next allocation would route; open: "
                "every unshipped, unpicked unit, as if routing from scratch. Default: "
                "backordered when something is backordered, else open.",
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 404: ORDER_ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="routing-preview")
    def routing_preview(self, request, number=None):
        """What each routing strategy would do for this order now; reserves nothing."""
        order = self.get_object()
        scope = request.query_params.get("scope")
        if scope not in (None, "", "backordered", "open"):
            raise ValidationError({"scope": ["Use backordered or open."]})
        whole = {"open": True, "backordered": False}.get(scope or "")
        return Response(services.route_preview(order, whole_order=whole))
