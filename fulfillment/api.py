"""REST API v1: the order workflow that reaches into fulfillment, and shipments."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django_filters
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.reverse import reverse

from fulfillment import documents, services
from fulfillment.carriers.base import TrackingEvent as CarrierEvent
from fulfillment.document_views import pdf_response
from fulfillment.models import PickList, Shipment, ShipmentLine, ShipmentParcel, TrackingEvent
from fulfillment.order_change_api import OrderChangeActions
from fulfillment.selectors import shipment_queryset
from fulfillment.services import booking, shipping, tracking
from kernel.api import ModelSerializer, RolePermission, idempotent, validated_data
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


class ShipmentLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="order_line.sku")
    bin = serializers.SerializerMethodField()

    class Meta:
        model = ShipmentLine
        fields = ["id", "sku", "quantity", "quantity_picked", "quantity_packed", "bin"]

    def get_bin(self, line) -> str:
        return self.context.get("bins", {}).get(line.order_line.product_id, "")


class ShipmentParcelSerializer(ModelSerializer):
    class Meta:
        model = ShipmentParcel
        fields = [
            "sequence",
            "weight_grams",
            "length_cm",
            "width_cm",
            "height_cm",
            "tracking_number",
        ]


class ShipmentSerializer(ModelSerializer):
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
            "length_cm",
            "width_cm",
            "height_cm",
            "estimated_delivery",
            "created_at",
            "shipped_at",
            "delivered_at",
            "lines",
            "parcels",
        ]

    parcels = ShipmentParcelSerializer(many=True, read_only=True)


class ParcelInSerializer(serializers.Serializer):
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000)
    length_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )
    width_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )
    height_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )


class PackSerializer(serializers.Serializer):
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    length_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )
    width_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )
    height_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal("0.1"), required=False
    )
    parcels = ParcelInSerializer(
        many=True,
        required=False,
        max_length=50,
        help_text="The boxes, when the shipment goes in several (each its weight and size)",
    )


class RateSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="carrier/service, what book/ takes as service")
    carrier = serializers.CharField()
    carrier_name = serializers.CharField()
    service = serializers.CharField()
    service_name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    transit_days = serializers.IntegerField(help_text="Business days from hand-over")
    estimated_delivery = serializers.DateField(allow_null=True)
    meets_promise = serializers.BooleanField()
    chosen = serializers.BooleanField(help_text="What rate shopping picks (book/ without service)")


class RatesSerializer(serializers.Serializer):
    number = serializers.CharField()
    promised_delivery = serializers.DateField(allow_null=True)
    promise_basis = serializers.CharField()
    chosen = serializers.CharField()
    reason = serializers.CharField()
    quotes = RateSerializer(many=True)
    carrier_errors = serializers.DictField(child=serializers.CharField())


class BookSerializer(serializers.Serializer):
    service = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text="carrier/service from rates/ (or a service code one carrier has); blank: "
        "rate shopping",
    )


class BookingSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    carrier = serializers.CharField()
    service = serializers.CharField()
    tracking_number = serializers.CharField()
    parcels_tracking = serializers.ListField(child=serializers.CharField())
    shipping_cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    estimated_delivery = serializers.DateField(allow_null=True)
    label_url = serializers.CharField(help_text="Our label.pdf of the shipment (the carrier's)")
    created = serializers.BooleanField(help_text="False when it was already booked")


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


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


class TrackingEventInSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=TrackingEvent.Code.choices)
    occurred_at = serializers.DateTimeField()
    description = serializers.CharField(
        max_length=255, required=False, default="", allow_blank=True
    )
    location = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)

    def validate_occurred_at(self, value):
        try:
            value = value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise serializers.ValidationError("Date out of range.") from None
        if not EARLIEST_EVENT <= value <= timezone.now() + timedelta(days=1):
            raise serializers.ValidationError("Not a plausible time for a carrier event.")
        return value


class TrackingInSerializer(serializers.Serializer):
    events = TrackingEventInSerializer(many=True, allow_empty=False, max_length=200)


class TrackingEventSerializer(ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["code", "occurred_at", "description", "location", "source", "created_at"]


class TrackingResultSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Shipment.Status.choices)
    created = serializers.IntegerField(help_text="Events stored now")
    duplicates = serializers.IntegerField(help_text="Events already known, ignored")
    applied = serializers.BooleanField(
        help_text="False when the move was refused (e.g. the order is on hold); events kept"
    )
    detail = serializers.CharField(allow_blank=True)
    tracking_events = TrackingEventSerializer(many=True)


class JsonErrorsNegotiation(DefaultContentNegotiation):
    """PDF downloads answer ``application/pdf`` themselves; whatever the client accepts,
    their errors (404, 409) are rendered as JSON, never refused with a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = next((r for r in renderers if r.media_type == "application/json"), renderers[0])
        return renderer, renderer.media_type


PDF_RESPONSES = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF"),
    404: OpenApiResponse(description="Unknown number"),
    409: OpenApiResponse(description="Nothing to print yet (e.g. no tracking number)"),
}
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)


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
    warehouse_actions = ("pick", "pack", "ship", "deliver", "book", "void_label")
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
        """Record the shipment as packed, with its weight and size, or its boxes
        (``parcels``) when it goes in several."""
        shipment = self.get_object()
        data = validated_data(PackSerializer, request)
        with transaction.atomic():
            services.shipment_pack(
                shipment=shipment, weight_grams=data.get("weight_grams"), actor=request.user
            )
            dims = {k: data[k] for k in ("length_cm", "width_cm", "height_cm") if k in data}
            if dims:
                shipping.shipment_record_package(shipment=shipment, actor=request.user, **dims)
            if "parcels" in data:
                booking.shipment_set_parcels(
                    shipment=shipment, parcels=data["parcels"], actor=request.user
                )
        return self._respond(shipment)

    @extend_schema(
        request=None,
        responses={200: RatesSerializer, **SHIPMENT_ERRORS},
        description="Quotes of every active carrier for the shipment's parcels (all its "
        "boxes together), cheapest first, each with its estimated delivery and whether it "
        "meets the order's promise; `chosen` is what `book/` takes without a service. 409 "
        "once shipped, or when no carrier serves it (carriers that fail are named in "
        "`carrier_errors`, not fatal).",
    )
    @action(detail=True, methods=["get"])
    def rates(self, request, number=None):
        shipment = self.get_object()
        shopping = shipping.shipment_rate_shopping(shipment=shipment)
        quotes = []
        for rate in shopping.quotes:
            row = rate.as_dict()
            row["meets_promise"] = bool(
                shopping.promised and rate.estimated_delivery <= shopping.promised
            )
            row["chosen"] = rate.code == shopping.rate.code
            quotes.append(row)
        return Response(
            {
                "number": shipment.number,
                "promised_delivery": shopping.promised,
                "promise_basis": shopping.promise_basis,
                "chosen": shopping.rate.code,
                "reason": shopping.reason,
                "quotes": quotes,
                "carrier_errors": shopping.errors,
            }
        )

    def _booking(self, request, shipment, created: bool, code=status.HTTP_200_OK):
        shipment.refresh_from_db()
        label = reverse("shipment-label-pdf", kwargs={"number": shipment.number}, request=request)
        return Response(
            {
                "number": shipment.number,
                "status": shipment.status,
                "carrier": shipment.carrier,
                "service": shipment.service,
                "tracking_number": shipment.tracking_number,
                "parcels_tracking": list(
                    shipment.parcels.order_by("sequence").values_list("tracking_number", flat=True)
                ),
                "shipping_cost": shipment.shipping_cost,
                "estimated_delivery": shipment.estimated_delivery,
                "label_url": label,
                "created": created,
            },
            status=code,
        )

    @extend_schema(
        request=BookSerializer,
        responses={201: BookingSerializer, 200: BookingSerializer, **SHIPMENT_ERRORS},
        description="Book the label of a packed shipment with a carrier: rate shopping, or "
        "the `service` named (from `rates/`). Idempotent: a shipment already booked "
        "answers its booking (200, `created` false) and books nothing; a new booking is "
        "201. The shipment stays packed until `ship/`. 409: not packed, order on hold, "
        "no rate for the service, a booking of it in progress, or the carrier refusing "
        "(box not measured); 502 when the carrier is down or refuses the address.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def book(self, request, number=None):
        shipment = self.get_object()
        data = validated_data(BookSerializer, request)
        shipment, created = booking.shipment_book(
            shipment=shipment, service_code=data["service"] or None, actor=request.user
        )
        return self._booking(
            request, shipment, created, status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        request=VoidSerializer,
        responses={200: ShipmentSerializer, **SHIPMENT_ERRORS},
        description="Cancel the booked label before hand-over (with the carrier where its "
        "API allows), so the shipment can be booked again. 409 once shipped, without a "
        "label, or when the carrier will not cancel it (e.g. it has collected the parcel).",
    )
    @action(detail=True, methods=["post"], url_path="void-label")
    @idempotent
    def void_label(self, request, number=None):
        shipment = self.get_object()
        data = validated_data(VoidSerializer, request)
        booking.shipment_void_label(shipment=shipment, reason=data["reason"], actor=request.user)
        return self._respond(shipment)

    @extend_schema(request=ShipSerializer, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def ship(self, request, number=None):
        """Hand over to the carrier; accepted straight from allocated (stores, 3PLs)."""
        shipment = self.get_object()
        data = validated_data(ShipSerializer, request)
        services.shipment_ship(shipment=shipment, actor=request.user, **data)
        return self._respond(shipment)

    @extend_schema(request=None, responses={200: ShipmentSerializer, **SHIPMENT_ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def deliver(self, request, number=None):
        shipment = self.get_object()
        services.shipment_deliver(shipment=shipment, actor=request.user)
        return self._respond(shipment)

    @extend_schema(
        request=TrackingInSerializer,
        responses={200: TrackingResultSerializer, **SHIPMENT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def tracking(self, request, number=None):
        """Carrier tracking events (in_transit, out_for_delivery, delivered, exception).
        They move the shipment (and the order): in transit ships a shipment not yet
        shipped, delivered delivers it. Repeated or late events change nothing."""
        shipment = self.get_object()
        data = validated_data(TrackingInSerializer, request)
        result = tracking.shipment_record_tracking(
            shipment=shipment,
            events=[CarrierEvent(**event) for event in data["events"]],
            source=TrackingEvent.Source.API,
            actor=request.user,
        )
        events = TrackingEvent.objects.filter(shipment=shipment).order_by("occurred_at", "id")
        body = {
            "number": shipment.number,
            "status": result.status,
            "created": result.created,
            "duplicates": result.duplicates,
            "applied": not result.error,
            "detail": result.error,
            "tracking_events": TrackingEventSerializer(events, many=True).data,
        }
        return Response(body)

    @extend_schema(request=None, responses=PDF_RESPONSES, operation_id="v1_shipments_label_pdf")
    @action(
        detail=True,
        methods=["get"],
        url_path="label.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def label_pdf(self, request, number=None):
        """The shipping label (4x6 in PDF): the carrier's as booked, else ours with the
        tracking number as a Code 128 barcode; 409 before a tracking number exists."""
        shipment = self.get_object()
        return pdf_response(documents.render_label_pdf(shipment), f"label-{shipment.number}.pdf")

    @extend_schema(
        request=None, responses=PDF_RESPONSES, operation_id="v1_shipments_packing_slip_pdf"
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="packing-slip.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def packing_slip_pdf(self, request, number=None):
        """The packing slip (PDF): lines, quantities, bins, return instructions."""
        shipment = self.get_object()
        return pdf_response(
            documents.render_packing_slip_pdf([shipment]), f"packing-slip-{shipment.number}.pdf"
        )


# --------------------------------------------------------------------------- pick lists


class PickListSerializer(ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    assigned_to = serializers.CharField(
        source="assigned_to.username", default=None, allow_null=True
    )
    shipments = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = PickList
        fields = [
            "number",
            "warehouse",
            "status",
            "assigned_to",
            "created_at",
            "completed_at",
            "shipments",
        ]


class PickListFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PickList.Status.choices)
    warehouse = django_filters.CharFilter(field_name="warehouse__code")

    class Meta:
        model = PickList
        fields = ["status", "warehouse"]


class PickListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pick lists (waves) by number, and their documents."""

    serializer_class = PickListSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = PickListFilter

    def get_queryset(self):
        return (
            PickList.objects.select_related("warehouse", "assigned_to")
            .prefetch_related("shipments")
            .order_by("-id")
        )

    @extend_schema(
        request=None, responses=PDF_RESPONSES, operation_id="v1_pick_lists_pick_list_pdf"
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pick-list.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def pick_list_pdf(self, request, number=None):
        """The batch pick list (PDF): lines summed per product, in bin order."""
        pick_list = self.get_object()
        return pdf_response(
            documents.render_pick_list_pdf(pick_list), f"pick-list-{pick_list.number}.pdf"
        )

    @extend_schema(
        request=None, responses=PDF_RESPONSES, operation_id="v1_pick_lists_packing_slips_pdf"
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="packing-slips.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def packing_slips_pdf(self, request, number=None):
        """The packing slips of every shipment on the pick list, as one PDF."""
        pick_list = self.get_object()
        shipments = pick_list.shipments.exclude(status=Shipment.Status.CANCELLED)
        return pdf_response(
            documents.render_packing_slip_pdf(shipments), f"packing-slips-{pick_list.number}.pdf"
        )
