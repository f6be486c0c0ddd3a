"""REST API v1 for customer service: a customer's orders
(``customers/{email}/orders/``) and an order's internal notes
(``orders/{number}/notes/``, list and add)."""

import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import filters, generics, serializers, status
from rest_framework.response import Response

from kernel.api import ModelSerializer, RolePermission, idempotent, represent, validated_data
from orders.api import OrderFilter, OrderListSerializer
from orders.customer_selectors import customer_orders
from orders.models import Order, OrderEvent
from orders.notes import NOTE_MAX_LENGTH, customer_exists, order_note_add, order_notes


class OrderNoteSerializer(ModelSerializer):
    order = serializers.CharField(source="order.number", read_only=True)
    author = serializers.CharField(source="actor", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["order", "message", "author", "created_at"]


class OrderNoteInSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class CustomerOrderList(generics.ListAPIView):
    """The orders of the customer with this e-mail (compared without case), newest
    first: the order list's shape, filters and pagination. 404 for an unknown
    customer."""

    permission_classes = [RolePermission]
    warehouse_read = True
    serializer_class = OrderListSerializer
    filterset_class = OrderFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["placed_at", "number", "total", "status"]
    ordering = ["-placed_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Order.objects.none()
        email = self.kwargs.get("email", "")
        if not customer_exists(email=email):
            raise Http404("No customer with that e-mail")
        return customer_orders(email=email)

    @extend_schema(
        operation_id="customers_orders_list",
        responses={
            200: OrderListSerializer(many=True),
            404: OpenApiResponse(description="No customer with that e-mail"),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderNoteList(generics.GenericAPIView):
    """An order's internal notes (staff comments, never shown to the customer): list
    them, newest first, or add one."""

    permission_classes = [RolePermission]
    warehouse_read = True
    serializer_class = OrderNoteSerializer

    def get_order(self) -> Order:
        return get_object_or_404(Order, number=self.kwargs.get("number"))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return OrderEvent.objects.none()
        return order_notes(order=self.get_order())

    @extend_schema(
        operation_id="orders_notes_list",
        responses={
            200: OrderNoteSerializer(many=True),
            404: OpenApiResponse(description="Unknown order number"),
        },
    )
    def get(self, request, number=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_notes_create",
        request=OrderNoteInSerializer,
        responses={
            201: OrderNoteSerializer,
            400: OpenApiResponse(description="An empty note, or one too long"),
            404: OpenApiResponse(description="Unknown order number"),
        },
    )
    @idempotent
    def post(self, request, number=None):
        order = self.get_order()
        data = validated_data(OrderNoteInSerializer, request)
        note = order_note_add(order=order, message=data["message"], actor=request.user)
        return Response(represent(OrderNoteSerializer, note), status=status.HTTP_201_CREATED)
