"""The shipments endpoints: list, retrieve, pack, rates, book, void, ship, documents, tracking."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.reverse import reverse

from fulfillment import documents, services
from fulfillment.api.serializers import (
    BookingSerializer,
    BookSerializer,
    PackSerializer,
    RatesSerializer,
    ShipmentFilter,
    ShipmentSerializer,
    ShipSerializer,
    TrackingEventSerializer,
    TrackingInSerializer,
    TrackingResultSerializer,
    VoidSerializer,
)
from fulfillment.carriers.base import TrackingEvent as CarrierEvent
from fulfillment.document_views import pdf_response
from fulfillment.models import TrackingEvent
from fulfillment.selectors import shipment_queryset
from fulfillment.services import booking, shipping, tracking
from kernel.api import RolePermission, idempotent, validated_data


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
