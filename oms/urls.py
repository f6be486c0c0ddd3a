from django.contrib import admin
from django.urls import include, path

from fulfillment.tracking_views import tracking_page
from fulfillment.urls import order_action_urls
from oms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("", include("oms.dashboard_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("imports/", include("oms.imports_urls")),
    path("api/", include("oms.api_urls")),
    path("track/<str:token>/", tracking_page, name="tracking-page"),
    path("fulfillment/", include("fulfillment.document_urls")),
    path("returns/", include("returns.document_urls")),
    path("channels/sync/", include("intake.urls")),
    path("orders/new/", include("intake.draft_urls")),
    path("orders/", include("orders.urls")),
    path("orders/", include((order_action_urls, "order_actions"))),
    path("floor/returns/", include("returns.urls")),
    path("floor/stock/", include("inventory.urls")),
    path("floor/", include("fulfillment.urls")),
]

handler403 = "oms.views.permission_denied"
# API URLs that match no route answer a JSON 404 like the API's own; pages get
# kernel.views.not_found.
handler404 = "kernel.security.not_found"
handler500 = "oms.views.server_error"
