"""Shipment serializers and filters: shipments, lines, parcels, the pack / rate / book / ship
input, tracking events."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django_filters
from django.utils import timezone
from rest_framework import serializers

from fulfillment.models import Shipment, ShipmentLine, ShipmentParcel, TrackingEvent
from kernel.api import ModelSerializer


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


EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)


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
