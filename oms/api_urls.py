"""The /api/v1/ router: each app contributes its viewsets; oms wires them."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from fulfillment.api import OrderWorkflowViewSet, ShipmentViewSet
from inventory.api import (
    ProductViewSet,
    StockMovementViewSet,
    StockViewSet,
    WarehouseViewSet,
)
from orders.api import ChannelViewSet
from returns.api import ReturnViewSet

router = DefaultRouter()
router.register("channels", ChannelViewSet, basename="channel")
router.register("products", ProductViewSet, basename="product")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("stock/movements", StockMovementViewSet, basename="stock-movement")
router.register("stock", StockViewSet, basename="stock")
router.register("orders", OrderWorkflowViewSet, basename="order")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("returns", ReturnViewSet, basename="return")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
