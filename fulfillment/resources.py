"""django-import-export resource of the admin's rate table import and export buttons.

Columns: ``carrier,service,country,region,min_weight_grams,max_weight_grams,price,
currency,transit_days``. A row is keyed by carrier + service + country + region + weight
band: a known key updates its price, currency and transit days, a new key adds a rate.
The carrier and its service must exist (rates are master data of existing services).
Every row is validated (model constraints included: the band's max above its min, no
negative price) and the file imports in one transaction; any invalid row rejects it.
"""

from import_export import fields, resources, widgets

from fulfillment.models import CarrierService, ShippingRate

RATE_COLUMNS = (
    "carrier",
    "service",
    "country",
    "region",
    "min_weight_grams",
    "max_weight_grams",
    "price",
    "currency",
    "transit_days",
)


class ServiceWidget(widgets.ForeignKeyWidget):
    """A service code, looked up within the row's carrier."""

    def __init__(self):
        super().__init__(CarrierService, field="code")

    def get_queryset(self, value, row, *args, **kwargs):
        carrier = str((row or {}).get("carrier") or "").strip()
        return CarrierService.objects.select_related("carrier").filter(carrier__code=carrier)

    def clean(self, value, row=None, **kwargs):
        code = str(value or "").strip()
        if not code:
            raise ValueError("a service code is required")
        try:
            return super().clean(code, row, **kwargs)
        except CarrierService.DoesNotExist:
            carrier = str((row or {}).get("carrier") or "").strip()
            raise ValueError(
                f"no service {carrier}/{code}: create the carrier and its service first"
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""


class ShippingRateResource(resources.ModelResource):
    carrier = fields.Field(attribute="service__carrier__code", column_name="carrier", readonly=True)
    service = fields.Field(attribute="service", column_name="service", widget=ServiceWidget())

    class Meta:
        model = ShippingRate
        fields = RATE_COLUMNS
        export_order = RATE_COLUMNS
        import_id_fields = (
            "carrier",
            "service",
            "country",
            "region",
            "min_weight_grams",
            "max_weight_grams",
        )
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = True

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        # One invalid row rejects the whole file (nothing of it is written).
        kwargs["rollback_on_validation_errors"] = True
        kwargs.setdefault("use_transactions", True)
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)

    def get_queryset(self):
        return ShippingRate.objects.select_related("service__carrier").order_by(
            "service__carrier__code", "service__code", "country", "region", "min_weight_grams"
        )

    def before_import_row(self, row, **kwargs):
        for column in ("carrier", "service", "country", "region", "currency"):
            if column in row and row[column] is not None:
                row[column] = str(row[column]).strip()
        for column in ("country", "currency"):
            if row.get(column):
                row[column] = row[column].upper()
        if "region" in row and row["region"] is None:
            row["region"] = ""
