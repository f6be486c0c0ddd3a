"""REST API v1: suppliers, purchase orders, transfers and what is due (incoming).

Each state change is an action that validates its input, calls the service of
``inventory.purchasing`` / ``inventory.transfers`` and answers with the document.
"""

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from inventory import documents, purchasing, transfers
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    Transfer,
    TransferLine,
    Warehouse,
)
from inventory.selectors import incoming
from inventory.services import MAX_QUANTITY
from kernel.api import ModelSerializer, RolePermission, idempotent, validated_data


def SKU():  # noqa: N802 - a field factory, read as a field
    return serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())


def POINT():  # noqa: N802
    return serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.all())


class SupplierSerializer(ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["code", "name", "email", "lead_time_days", "currency", "active"]
        extra_kwargs = {"lead_time_days": {"max_value": 3650}}

    def validate_currency(self, value):
        value = value.upper()
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("Use a 3-letter ISO 4217 code.")
        return value


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()
    data = serializers.JSONField()
    actor = serializers.CharField()
    created_at = serializers.DateTimeField()


class PurchaseOrderLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    remaining = serializers.IntegerField(read_only=True)
    over = serializers.IntegerField(read_only=True, help_text="Units received over the order")

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "sku",
            "quantity",
            "unit_cost",
            "expected_date",
            "quantity_received",
            "remaining",
            "over",
        ]


class PurchaseOrderSerializer(ModelSerializer):
    supplier = serializers.CharField(source="supplier.code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "number",
            "supplier",
            "warehouse",
            "status",
            "currency",
            "expected_date",
            "notes",
            "created_at",
            "sent_at",
            "closed_at",
            "lines",
            "events",
        ]


class _POLineIn(serializers.Serializer):
    sku = SKU()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    expected_date = serializers.DateField(required=False)


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.SlugRelatedField(slug_field="code", queryset=Supplier.objects.all())
    warehouse = POINT()
    expected_date = serializers.DateField(required=False)
    currency = serializers.CharField(max_length=3, required=False, default="")
    notes = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    lines = _POLineIn(many=True, allow_empty=False, max_length=purchasing.MAX_LINES)


class _Quantity(serializers.Serializer):
    sku = SKU()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class PurchaseOrderReceiveSerializer(serializers.Serializer):
    lines = _Quantity(many=True, allow_empty=False, max_length=purchasing.MAX_LINES)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class InboundReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = django_filters.CharFilter(field_name="supplier__code")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    expected_before = django_filters.DateFilter(field_name="expected_date", lookup_expr="lte")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "warehouse", "expected_before"]


class JsonErrorsNegotiation(DefaultContentNegotiation):
    """Document downloads answer their own content type; their errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = next((r for r in renderers if r.media_type == "application/json"), renderers[0])
        return renderer, renderer.media_type


def download(data, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


ERRORS = {
    400: OpenApiResponse(description="Bad input"),
    404: OpenApiResponse(description="Unknown number"),
    409: OpenApiResponse(description="The state does not allow this"),
}


class SupplierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Suppliers by code."""

    queryset = Supplier.objects.order_by("code")
    serializer_class = SupplierSerializer
    permission_classes = [RolePermission]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["active"]
    search_fields = ["code", "name"]


def purchase_order_queryset():
    return PurchaseOrder.objects.select_related("supplier", "warehouse").prefetch_related(
        "lines__product", "events"
    )


class PurchaseOrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Purchase orders by number: create a draft, then ``send/``, ``receive/``,
    ``close/`` (short) or ``cancel/``; ``document.pdf`` and ``lines.csv`` for the
    supplier. Warehouse staff may read and receive."""

    serializer_class = PurchaseOrderSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    warehouse_actions = ("receive",)
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = PurchaseOrderFilter
    ordering_fields = ["created_at", "expected_date"]

    def get_queryset(self):
        return purchase_order_queryset().order_by("-created_at", "-id")

    def _done(self, po, code=200):
        return Response(
            PurchaseOrderSerializer(self.get_queryset().get(pk=po.pk)).data, status=code
        )

    @extend_schema(request=PurchaseOrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    @idempotent
    def create(self, request):
        data = validated_data(PurchaseOrderCreateSerializer, request)
        po = purchasing.purchase_order_create(
            supplier=data["supplier"],
            warehouse=data["warehouse"],
            expected_date=data.get("expected_date"),
            currency=data["currency"],
            notes=data["notes"],
            lines=[
                {
                    "product": line["sku"],
                    "quantity": line["quantity"],
                    "unit_cost": line.get("unit_cost"),
                    "expected_date": line.get("expected_date"),
                }
                for line in data["lines"]
            ],
            actor=request.user,
        )
        return self._done(po, 201)

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def send(self, request, number=None):
        po = purchasing.purchase_order_send(purchase_order=self.get_object(), actor=request.user)
        return self._done(po)

    @extend_schema(
        request=PurchaseOrderReceiveSerializer, responses={200: PurchaseOrderSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, number=None):
        """Goods in at the order's point; more than ordered is accepted and recorded."""
        po = self.get_object()
        data = validated_data(PurchaseOrderReceiveSerializer, request)
        purchasing.purchase_order_receive(
            purchase_order=po,
            quantities=[(line["sku"], line["quantity"]) for line in data["lines"]],
            note=data["note"],
            actor=request.user,
        )
        return self._done(po)

    @extend_schema(
        request=InboundReasonSerializer, responses={200: PurchaseOrderSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def close(self, request, number=None):
        """Close a partially received order short: the rest will not come."""
        data = validated_data(InboundReasonSerializer, request)
        po = purchasing.purchase_order_close(
            purchase_order=self.get_object(), reason=data["reason"], actor=request.user
        )
        return self._done(po)

    @extend_schema(
        request=InboundReasonSerializer, responses={200: PurchaseOrderSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, number=None):
        data = validated_data(InboundReasonSerializer, request)
        po = purchasing.purchase_order_cancel(
            purchase_order=self.get_object(), reason=data["reason"], actor=request.user
        )
        return self._done(po)

    @extend_schema(
        request=None,
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY), 404: None},
        operation_id="v1_purchase_orders_document_pdf",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="document.pdf",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def document_pdf(self, request, number=None):
        po = self.get_object()
        return download(
            documents.render_purchase_order_pdf(po), "application/pdf", f"{po.number}.pdf"
        )

    @extend_schema(
        request=None,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), 404: None},
        operation_id="v1_purchase_orders_lines_csv",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="lines.csv",
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def lines_csv(self, request, number=None):
        po = self.get_object()
        return download(
            documents.purchase_order_csv(po), "text/csv; charset=utf-8", f"{po.number}.csv"
        )


class TransferLineSerializer(ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    in_transit = serializers.IntegerField(read_only=True)

    class Meta:
        model = TransferLine
        fields = ["sku", "quantity", "quantity_received", "quantity_lost", "in_transit"]


class TransferSerializer(ModelSerializer):
    source = serializers.CharField(source="source.code", read_only=True)
    destination = serializers.CharField(source="destination.code", read_only=True)
    lines = TransferLineSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "number",
            "source",
            "destination",
            "status",
            "expected_date",
            "notes",
            "created_at",
            "dispatched_at",
            "closed_at",
            "lines",
            "events",
        ]


class TransferCreateSerializer(serializers.Serializer):
    source = POINT()
    destination = POINT()
    expected_date = serializers.DateField(required=False)
    notes = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    lines = _Quantity(many=True, allow_empty=False, max_length=transfers.MAX_LINES)


class DispatchSerializer(serializers.Serializer):
    expected_date = serializers.DateField(required=False)


class TransferReceiveSerializer(serializers.Serializer):
    received = _Quantity(many=True, required=False, default=list)
    lost = _Quantity(many=True, required=False, default=list)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)

    def validate(self, attrs):
        if not attrs["received"] and not attrs["lost"]:
            raise serializers.ValidationError({"received": ["Give received or lost lines."]})
        return attrs


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Transfer.Status.choices)
    source = django_filters.CharFilter(field_name="source__code")
    destination = django_filters.CharFilter(field_name="destination__code")

    class Meta:
        model = Transfer
        fields = ["status", "source", "destination"]


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Transfers between points by number: create a draft, ``dispatch/`` (stock leaves
    the source and is in transit), ``receive/`` (arrivals and losses), ``cancel/``."""

    serializer_class = TransferSerializer
    permission_classes = [RolePermission]
    warehouse_read = True
    warehouse_actions = ("dispatch_transfer", "receive")
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = TransferFilter

    def get_queryset(self):
        return (
            Transfer.objects.select_related("source", "destination")
            .prefetch_related("lines__product", "events")
            .order_by("-created_at", "-id")
        )

    def _done(self, transfer, code=200):
        transfer = self.get_queryset().get(pk=transfer.pk)
        return Response(TransferSerializer(transfer).data, status=code)

    @extend_schema(request=TransferCreateSerializer, responses={201: TransferSerializer})
    @idempotent
    def create(self, request):
        data = validated_data(TransferCreateSerializer, request)
        transfer = transfers.transfer_create(
            source=data["source"],
            destination=data["destination"],
            expected_date=data.get("expected_date"),
            notes=data["notes"],
            lines=[{"product": x["sku"], "quantity": x["quantity"]} for x in data["lines"]],
            actor=request.user,
        )
        return self._done(transfer, 201)

    @extend_schema(request=DispatchSerializer, responses={200: TransferSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="dispatch")
    @idempotent
    def dispatch_transfer(self, request, number=None):
        """Stock leaves the source (``transfer_out``) and is in transit.
        (Not named ``dispatch``: that is the view's own request handler.)"""
        data = validated_data(DispatchSerializer, request)
        transfer = transfers.transfer_dispatch(
            transfer=self.get_object(), expected_date=data.get("expected_date"), actor=request.user
        )
        return self._done(transfer)

    @extend_schema(request=TransferReceiveSerializer, responses={200: TransferSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, number=None):
        data = validated_data(TransferReceiveSerializer, request)
        transfer = transfers.transfer_receive(
            transfer=self.get_object(),
            received=[(x["sku"], x["quantity"]) for x in data["received"]],
            lost=[(x["sku"], x["quantity"]) for x in data["lost"]],
            note=data["note"],
            actor=request.user,
        )
        return self._done(transfer)

    @extend_schema(request=InboundReasonSerializer, responses={200: TransferSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, number=None):
        data = validated_data(InboundReasonSerializer, request)
        transfer = transfers.transfer_cancel(
            transfer=self.get_object(), reason=data["reason"], actor=request.user
        )
        return self._done(transfer)


class IncomingSerializer(serializers.Serializer):
    sku = serializers.CharField()
    warehouse = serializers.CharField(help_text="Destination point")
    quantity = serializers.IntegerField(help_text="Units still due")
    expected_date = serializers.DateField(allow_null=True)
    reference = serializers.CharField(help_text="Purchase order or transfer number")
    kind = serializers.ChoiceField(choices=["purchase_order", "transfer"])


class IncomingViewSet(viewsets.GenericViewSet):
    """What is due per SKU and point, earliest first: purchase orders sent and not yet
    received, and transfers in transit."""

    permission_classes = [RolePermission]
    warehouse_read = True
    serializer_class = IncomingSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("sku", OpenApiTypes.STR, description="Exact SKU"),
            OpenApiParameter("warehouse", OpenApiTypes.STR, description="Destination code"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["purchase_order", "transfer"]),
        ]
    )
    def list(self, request):
        params = request.query_params
        product_ids = None
        if params.get("sku"):
            product_ids = list(
                Product.objects.filter(sku=params["sku"]).values_list("pk", flat=True)
            )
        rows = incoming(product_ids=product_ids)
        if params.get("kind"):
            rows = [r for r in rows if r.kind == params["kind"]]
        skus = dict(
            Product.objects.filter(pk__in={r.product_id for r in rows}).values_list("pk", "sku")
        )
        codes = dict(Warehouse.objects.values_list("pk", "code"))
        if params.get("warehouse"):
            rows = [r for r in rows if codes.get(r.warehouse_id) == params["warehouse"]]
        data = [
            {
                "sku": skus[r.product_id],
                "warehouse": codes[r.warehouse_id],
                "quantity": r.quantity,
                "expected_date": r.expected_date,
                "reference": r.reference,
                "kind": r.kind,
            }
            for r in rows
        ]
        page = self.paginate_queryset(data)
        serializer = self.get_serializer(page if page is not None else data, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)
