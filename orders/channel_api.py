"""REST API v1: sales channels (connection fields, credentials, the channel viewset)."""

from urllib.parse import urlsplit

from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS

from inventory.models import Warehouse
from kernel.api import (
    ModelSerializer,
    RolePermission,
)
from kernel.roles import MANAGER, has_role, is_manager
from orders import services
from orders.models import Channel, Platform, mask_secret

CONNECTION_FIELDS = {
    "platform",
    "api_url",
    "access_token",
    "consumer_key",
    "consumer_secret",
    "stock_warehouses",
    "stock_buffer",
    "stock_share_percent",
    "push_stock",
    "push_fulfillments",
}
CREDENTIALS = ("access_token", "consumer_key", "consumer_secret")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ChannelSerializer(ModelSerializer):
    """Credentials are write-only: ``credentials`` shows each one masked (its last four
    characters at most). An omitted credential is kept, an empty one cleared. The
    connection and stock-sync fields are for managers only."""

    stock_warehouses = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=Warehouse.objects.all()
    )
    credentials = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "code",
            "name",
            "kind",
            "auto_confirm",
            "handling_days",
            "routing_strategy",
            "active",
            "auto_confirm_require_payment",
            "auto_confirm_max_total",
            "auto_confirm_max_quantity",
            "platform",
            "api_url",
            "access_token",
            "consumer_key",
            "consumer_secret",
            "credentials",
            "stock_warehouses",
            "stock_buffer",
            "stock_share_percent",
            "push_stock",
            "push_fulfillments",
        ]
        extra_kwargs = {
            "code": {"help_text": "Part of the channel's intake URLs: fixed once it has orders."},
            "handling_days": {"max_value": 365},
            "auto_confirm_max_total": {"min_value": 0},
            "auto_confirm_max_quantity": {"max_value": services.MAX_LINE_QUANTITY},
            "stock_buffer": {"max_value": 1_000_000},
            **{name: {"write_only": True} for name in CREDENTIALS},
        }

    def validate_code(self, value):
        channel = self.instance
        if channel is not None and value != channel.code and channel.orders.exists():
            raise serializers.ValidationError(
                "A channel's code cannot change once it has orders: the code is part of "
                "its intake URLs and of every integration that sends it orders."
            )
        return value

    def get_credentials(self, channel) -> dict[str, str]:
        return {name: mask_secret(getattr(channel, name)) for name in CREDENTIALS}

    def validate(self, attrs):
        request = self.context.get("request")
        touched = CONNECTION_FIELDS & set(self.initial_data or {})
        if touched and request is not None and not has_role(request.user, MANAGER):
            raise PermissionDenied("Only managers may change a channel's connection.")
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("platform", "api_url", *CREDENTIALS, "push_stock", "push_fulfillments")
        }
        errors = channel_connection_errors(**merged)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def channel_connection_errors(
    *, platform, api_url, access_token, consumer_key, consumer_secret, push_stock, **_
) -> dict[str, str]:
    """What a connected channel needs: an https store URL (plain http only on this
    machine) and the platform's credentials."""
    errors = {}
    platform = platform or Platform.NONE
    if platform == Platform.NONE:
        if push_stock:
            errors["push_stock"] = "Choose the channel's platform first."
        return errors
    if not api_url:
        errors["api_url"] = "The store's base URL is required for a connected channel."
    else:
        parts = urlsplit(api_url)
        if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
            errors["api_url"] = "Use https: the credentials travel with every request."
    if platform == Platform.SHOPIFY and not access_token:
        errors["access_token"] = "A Shopify Admin API access token is required."
    if platform == Platform.WOOCOMMERCE:
        if not consumer_key:
            errors["consumer_key"] = "The WooCommerce consumer key is required."
        if not consumer_secret:
            errors["consumer_secret"] = "The WooCommerce consumer secret is required."
    return errors


class ChannelPermission(RolePermission):
    """Everyone who reads the API reads channels; creating and editing them (codes,
    auto-confirm rules, routing) is for managers: an integration token gets 403."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or is_manager(request.user)


class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sales channels by code."""

    queryset = Channel.objects.prefetch_related("stock_warehouses").order_by("code")
    serializer_class = ChannelSerializer
    permission_classes = [ChannelPermission]
    warehouse_read = True
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["kind", "active"]
