"""REST API v1: ``GET /api/v1/replenishment/``, the reorder suggestions.

The rows are computed (``inventory.replenishment.suggestions``) from the stored
forecasts and the live stock: a handful of queries whatever the page size.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inventory import replenishment
from kernel.api import RolePermission


class SuggestionSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    warehouse = serializers.CharField(help_text="Point code; empty: the SKU over all points")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    backordered = serializers.IntegerField()
    on_order = serializers.IntegerField(
        help_text="Units on purchase orders not yet received, or in transit to the point"
    )
    method = serializers.CharField(help_text="Forecast method chosen by backtest")
    daily_demand = serializers.FloatField(help_text="Expected units per day")
    sigma = serializers.FloatField(help_text="Daily forecast error (units)")
    wape = serializers.FloatField(allow_null=True, help_text="Holdout WAPE of the forecast")
    lead_time_days = serializers.IntegerField()
    service_level = serializers.FloatField()
    demand_over_lead_time = serializers.FloatField()
    safety_stock = serializers.FloatField()
    reorder_point = serializers.IntegerField()
    manual_reorder_point = serializers.IntegerField()
    days_of_cover = serializers.FloatField(allow_null=True)
    order_quantity = serializers.IntegerField()
    order_by = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=list(replenishment.STATUS_LABELS))
    low = serializers.BooleanField(help_text="Available below the reorder point")
    advice = serializers.CharField(help_text="e.g. 'order 120 by 3 Dec'")


class ReplenishmentViewSet(viewsets.GenericViewSet):
    """Reorder suggestions per SKU and point: reorder point, days of cover, how much to
    order and by when. Managers and integrations."""

    permission_classes = [RolePermission]
    serializer_class = SuggestionSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("sku", OpenApiTypes.STR, description="Exact SKU"),
            OpenApiParameter("q", OpenApiTypes.STR, description="SKU or name contains"),
            OpenApiParameter("warehouse", OpenApiTypes.STR, description="Point code; * = all"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(replenishment.STATUS_LABELS)),
            OpenApiParameter("low", OpenApiTypes.BOOL, description="Below the reorder point"),
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                description="Column, '-' for descending: " + ", ".join(replenishment.SORT_FIELDS),
            ),
        ]
    )
    def list(self, request):
        try:
            rows = replenishment.filter_rows(replenishment.suggestions(), request.query_params)
        except replenishment.BadFilter as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        page = self.paginate_queryset(rows)
        data = [row.as_dict() for row in (page if page is not None else rows)]
        serializer = self.get_serializer(data, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)
