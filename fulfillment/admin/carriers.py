"""Carrier master data: carriers, their services and shipping rates (CSV import/export)."""

from django.contrib import admin
from django.db.models import Count

from fulfillment.models import (
    Carrier,
    CarrierService,
    CarrierToken,
    ShippingRate,
)
from fulfillment.resources import ShippingRateResource
from kernel.csv_admin import CsvImportExportAdmin

# --------------------------------------------------------------------------- carriers


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    fields = ["code", "name", "active"]
    extra = 0
    show_change_link = True


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    fields = [
        "country",
        "region",
        "min_weight_grams",
        "max_weight_grams",
        "price",
        "currency",
        "transit_days",
    ]
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["code"]
    list_display = ["code", "name", "kind", "service_count", "active"]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "active"]}),
        (
            "Integration",
            {"fields": ["base_url", "api_key", "tracking_url_template"], "classes": ["collapse"]},
        ),
        (
            "OAuth 2.0 (EasyParcel)",
            {
                "fields": ["client_id", "client_secret", "webhook_secret", "token_state"],
                "classes": ["collapse"],
                "description": "The app's credentials from EasyParcel's developer hub. "
                "Authorize once with manage.py easyparcel_authorize; the webhook URL to "
                "register is /api/v1/carriers/&lt;code&gt;/webhooks/&lt;webhook secret&gt;/.",
            },
        ),
    ]
    readonly_fields = ["token_state"]
    inlines = [CarrierServiceInline]

    @admin.display(description="token")
    def token_state(self, carrier):
        token = CarrierToken.objects.filter(carrier_id=carrier.pk).first() if carrier.pk else None
        if token is None or not token.refresh_token:
            return "not authorized"
        if token.expires_at:
            return f"access token valid until {token.expires_at:%Y-%m-%d %H:%M} UTC"
        return "authorized (access token fetched on first use)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "base_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(services_count=Count("services"))

    @admin.display(description="services", ordering="services_count")
    def service_count(self, carrier):
        return carrier.services_count


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["carrier__code", "code"]
    list_display = ["__str__", "carrier", "code", "name", "rate_count", "active"]
    list_select_related = ["carrier"]
    list_filter = ["carrier", "active"]
    search_fields = ["code", "name", "carrier__code", "carrier__name"]
    inlines = [ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rates_count=Count("rates"))

    @admin.display(description="rates", ordering="rates_count")
    def rate_count(self, service):
        return service.rates_count


@admin.register(ShippingRate)
class ShippingRateAdmin(CsvImportExportAdmin):
    """Rate tables; import and export as CSV keyed by carrier, service, country, region
    and weight band (``fulfillment.resources``)."""

    resource_classes = [ShippingRateResource]
    list_display = [
        "service",
        "country",
        "region",
        "min_weight_grams",
        "max_weight_grams",
        "price",
        "currency",
        "transit_days",
    ]
    list_select_related = ["service__carrier"]
    list_filter = ["service__carrier", "country", "currency"]
    search_fields = ["service__code", "service__carrier__code", "country", "region"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service":
            kwargs["queryset"] = CarrierService.objects.select_related("carrier")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
