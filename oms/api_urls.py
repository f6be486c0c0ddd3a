"""The /api/v1/ router: each app contributes its viewsets; oms wires them."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle

from fulfillment.api import OrderWorkflowViewSet, PickListViewSet, ShipmentViewSet
from fulfillment.carrier_webhooks import CarrierWebhookView
from intake.inbound.views import ShopifyIntakeView, WooCommerceIntakeView
from inventory.api import (
    ProductViewSet,
    StockMovementViewSet,
    StockViewSet,
    WarehouseViewSet,
)
from inventory.purchasing_api import (
    IncomingViewSet,
    PurchaseOrderViewSet,
    SupplierViewSet,
    TransferViewSet,
)
from inventory.replenishment_api import ReplenishmentViewSet
from kernel.security import docs_view
from oms.webhooks_api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet
from orders.api import ChannelViewSet
from orders.customer_api import CustomerOrderList, OrderNoteList
from returns.api import ReturnViewSet


class ThrottledObtainAuthToken(ObtainAuthToken):
    """Username + password -> token, rate limited per client (scope ``login``) so that
    passwords cannot be guessed at speed."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


router = DefaultRouter()
router.register("channels", ChannelViewSet, basename="channel")
router.register("products", ProductViewSet, basename="product")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("stock/movements", StockMovementViewSet, basename="stock-movement")
router.register("stock/incoming", IncomingViewSet, basename="stock-incoming")
router.register("stock", StockViewSet, basename="stock")
router.register("orders", OrderWorkflowViewSet, basename="order")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("pick-lists", PickListViewSet, basename="pick-list")
router.register("returns", ReturnViewSet, basename="return")
router.register("replenishment", ReplenishmentViewSet, basename="replenishment")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")
router.register("transfers", TransferViewSet, basename="transfer")
router.register(
    "webhooks/subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription"
)
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path(
        "v1/channels/<slug:code>/intake/shopify/",
        ShopifyIntakeView.as_view(),
        name="channel-intake-shopify",
    ),
    path(
        "v1/channels/<slug:code>/intake/woocommerce/",
        WooCommerceIntakeView.as_view(),
        name="channel-intake-woocommerce",
    ),
    path(
        "v1/carriers/<slug:code>/webhooks/<str:secret>/",
        CarrierWebhookView.as_view(),
        name="carrier-webhook",
    ),
    path("v1/customers/<path:email>/orders/", CustomerOrderList.as_view(), name="customer-orders"),
    path("v1/orders/<str:number>/notes/", OrderNoteList.as_view(), name="order-notes"),
    path("v1/", include(router.urls)),
    path("v1/auth/token/", ThrottledObtainAuthToken.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), so the
    # page runs under the Content-Security-Policy without inline script.
    path(
        "docs/",
        docs_view(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
