"""The pick list endpoints: list and retrieve."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from fulfillment import documents
from fulfillment.api.shipments import PDF_RESPONSES, JsonErrorsNegotiation
from fulfillment.document_views import pdf_response
from fulfillment.models import PickList, Shipment
from kernel.api import ModelSerializer, RolePermission

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
